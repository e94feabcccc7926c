"""The demo and the dashboard as real servers, for the tests, the load test
(scripts/loadtest.py) and the dashboard's screenshots (scripts/dashboard_screenshots.py):
`python demo/app.py` or `streamlit run dashboard/app.py` in a subprocess on a free port,
offline, with its own temp folders, on throw-away weights. One implementation for all."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DashboardProcess:
    """`streamlit run dashboard/app.py` on 127.0.0.1:port in its own process group, with
    `env` as its environment; stop() ends it and only it."""

    def __init__(self, port: int, env: dict, timeout: float = 90):
        import urllib.request

        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"streamlit did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def write_random_weights(folder: Path, names: tuple[str, ...] | None = None, skip: tuple[str, ...] = (),
                         settings: dict[str, dict] | None = None, seed: int = 0) -> Path:
    """Random-init weights, exported as colorcore.hub reads them, for the named models (None:
    every registered one) but those in skip; settings: config.json entries per model."""
    import torch

    from colorcore.hub import export_weights
    from colorcore.models import all_specs, get_spec

    torch.manual_seed(seed)
    specs = all_specs() if names is None else [get_spec(n) for n in names]
    for spec in specs:
        if spec.name not in skip:
            export_weights(spec.build_for_weights(), folder / spec.name,
                           {"name": spec.name, "architecture": spec.name, **(settings or {}).get(spec.name, {})})
    return folder


def _proc_status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class DemoProcess:
    """`python demo/app.py --host 127.0.0.1 --port P` in a subprocess, offline, with its
    own temp folders; stopped by its own PID. weights: the only folder it reads weights
    from (None: the usual places); env: more environment (limits, threads)."""

    def __init__(self, workdir: Path, weights: Path | None = None, env: dict | None = None, nice: int = 0):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = self.workdir / "server.log"
        self.upload_dir = self.workdir / "gradio"
        only = {"COLORCORE_WEIGHTS": str(weights), "COLORCORE_REPO_WEIGHTS": str(self.workdir / "no-shipped-weights")}
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                    "GRADIO_TEMP_DIR": str(self.upload_dir), "COLORCORE_CACHE": str(self.workdir / "cache"),
                    "PYTHONUNBUFFERED": "1", **(only if weights else {}), **(env or {})}
        self.env.pop("SPACE_ID", None)
        self.nice = nice
        self.proc: subprocess.Popen | None = None
        self._log_file = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 240) -> "DemoProcess":
        import httpx

        self._log_file = open(self.log, "w")
        cmd = [sys.executable, str(ROOT / "demo" / "app.py"), "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     preexec_fn=(lambda: os.nice(self.nice)) if self.nice else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the demo exited with {self.proc.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(self.url, timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the demo did not come up in {timeout:.0f} s:\n{self.log.read_text()[-4000:]}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_mb(self) -> float | None:
        kb = _proc_status_kb(self.pid, "VmRSS")
        return None if kb is None else kb / 1024

    def peak_rss_mb(self) -> float | None:
        """The kernel's high-water mark of the server's resident memory since it started."""
        kb = _proc_status_kb(self.pid, "VmHWM")
        return None if kb is None else kb / 1024

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "DemoProcess":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


# One request, the plain-HTTP way of demo/README.md


@dataclass
class Outcome:
    status: str  # "ok", "error" (the server's answer was an error), "busy" (queue full), "failed" (no answer)
    message: str = ""
    png: bytes | None = None
    seconds: float = 0.0
    path: str = ""  # where the server keeps the result


def colorize_http(client, base: str, name: str, data: bytes, model: str = "default", timeout: float = 120) -> Outcome:
    """Upload, call /colorize, read the event stream, fetch the PNG. Never raises:
    a transport failure or a timeout is a "failed" Outcome; HTTP 429 (this client's
    upload budget spent) is "busy", as the full queue's 503 is."""
    import httpx

    t0 = time.perf_counter()
    try:
        up = client.post(base + "gradio_api/upload", files={"files": (name, data)}, timeout=timeout)
        if up.status_code == 429:
            return Outcome("busy", detail(up), seconds=time.perf_counter() - t0)
        if up.status_code != 200:
            return Outcome("error", f"upload refused ({up.status_code}): {up.text[:300]}",
                           seconds=time.perf_counter() - t0)
        path = up.json()[0]
        payload = {"data": [{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}, model, None, None, None]}
        call = client.post(base + "gradio_api/call/colorize", json=payload, timeout=timeout)
        if call.status_code == 503:
            return Outcome("busy", detail(call), seconds=time.perf_counter() - t0)
        if call.status_code != 200:
            return Outcome("failed", f"call refused ({call.status_code}): {call.text[:300]}",
                           seconds=time.perf_counter() - t0)
        event = call.json()["event_id"]
        left = max(1.0, timeout - (time.perf_counter() - t0))
        stream = client.get(base + f"gradio_api/call/colorize/{event}", timeout=left).text
        kinds = re.findall(r"^event: (\w+)", stream, re.M)
        datas = re.findall(r"^data: (.*)$", stream, re.M)
        if not kinds or kinds[-1] not in ("complete", "error") or not datas:
            return Outcome("failed", f"no result in the event stream: {stream[-300:]!r}",
                           seconds=time.perf_counter() - t0)
        result = json.loads(datas[-1])
        if kinds[-1] == "error":
            message = result.get("error") if isinstance(result, dict) else result
            return Outcome("error", str(message), seconds=time.perf_counter() - t0)
        png = client.get(result[0]["url"], timeout=left).content
        return Outcome("ok", png=png, seconds=time.perf_counter() - t0, path=result[0]["path"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as e:
        return Outcome("failed", f"{type(e).__name__}: {e}", seconds=time.perf_counter() - t0)


def detail(response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text
