# `make demo` and `make test` set everything up on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 7860

.PHONY: setup demo test dashboard bench evaluate clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

demo: setup  ## the Gradio demo on the shipped default model, offline, at http://127.0.0.1:7860
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(PY) demo/app.py --port $(PORT)

test: setup  ## the whole test suite
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

dashboard: setup  ## the Streamlit dashboard over results/ and weights/*/train_log.csv
	HF_HUB_OFFLINE=1 $(PY) -m streamlit run dashboard/app.py --server.headless true --browser.gatherUsageStats false

clean:
	rm -rf $(VENV) .pytest_cache
