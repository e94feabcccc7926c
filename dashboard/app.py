"""colorcore dashboard: why one model beats another.

    make dashboard        (streamlit run dashboard/app.py --server.headless true)

Reads results/<set>/ (metrics.csv, per_image.csv, ab_hist.npz, meta.json), weights/*/config.json (budgets),
results/bench.csv, results/hints/ (evaluate-hints), weights/*/train_log.csv and runs/*/train_log.csv; colorizes
photos on demand for the per-image page. COLORCORE_ROOT / COLORCORE_RESULTS point
it elsewhere; COLORCORE_DASHBOARD_DATA names a photo folder or tar for that page.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

import streamlit as st  # noqa: E402

from dashboard import common, images, loaders  # noqa: E402
from dashboard.icon import page_icon  # noqa: E402


class Page(st.Page):
    """st.Page whose default page keeps its url_path: Streamlit gives the default page
    the path "" only, so opening /metrics directly said "Page not found"."""

    @property
    def url_path(self) -> str:
        return self._url_path


# A drawn icon: ":material/...:" page icons make the browser fetch the favicon from a font host.
st.set_page_config(page_title="colorcore dashboard", page_icon=page_icon(), layout="wide")

# Navigation icons come from the Material Symbols font bundled with Streamlit (served locally).
PAGES = [
    Page(HERE / "views" / "metrics.py", title="Metrics", icon=":material/table_chart:", url_path="metrics",
         default=True),
    Page(HERE / "views" / "ab.py", title="ab distributions", icon=":material/palette:", url_path="ab"),
    Page(HERE / "views" / "training.py", title="Training", icon=":material/show_chart:", url_path="training"),
    Page(HERE / "views" / "speed.py", title="Speed", icon=":material/speed:", url_path="speed"),
    Page(HERE / "views" / "hints.py", title="Hints", icon=":material/colorize:", url_path="hints"),
    Page(HERE / "views" / "images.py", title="Per-image comparison", icon=":material/image:", url_path="images"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption(f"Results: `{loaders.results_dir()}`  \nLogs: `{loaders.root()}/weights`, `{loaders.root()}/runs`")
    if st.button("Reload inputs", help="Re-list the models, their weights and the photos (results and logs are "
                 "re-read by themselves whenever their files change)"):
        for cached in (common.models, common._weights_keys, common.source_ids, common._budgets):
            cached.clear()
        images.forget()
page.run()
