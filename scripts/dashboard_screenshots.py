"""Headless-Chromium screenshots of every dashboard page, saved outside the repository.

    .venv/bin/python scripts/dashboard_screenshots.py [--out /tmp/dashboard-shots] [--port 0]

Starts `streamlit run dashboard/app.py` on a free local port (the environment is
passed on, so COLORCORE_ROOT / COLORCORE_RESULTS / COLORCORE_DASHBOARD_DATA work),
waits for it, takes one PNG per page with headless Chromium (driven over the DevTools
protocol, so it waits until Streamlit has drawn the page; the window grows to
the page's height), and
stops the server it started. Needs Debian's `chromium` (apt-get install chromium).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:  # the server helpers the tests use too
    sys.path.insert(0, str(ROOT / "tests"))
from servers import DashboardProcess, free_port  # noqa: E402

PAGES = {"metrics": "", "ab": "ab", "training": "training", "speed": "speed", "images": "images"}


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("no chromium on PATH (apt-get install chromium)")


READY_JS = """(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return -1;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return -1;
  const running = document.querySelector('[data-testid="stStatusWidget"]');
  if (running && running.innerText.trim()) return -1;
  const main = document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
  return Math.max(main.scrollHeight, document.documentElement.scrollHeight);
})()"""


class Page:
    """The smallest Chrome DevTools Protocol client that can wait for a page and
    screenshot it (websockets comes with streamlit)."""

    def __init__(self, ws):
        self.ws, self.n = ws, 0

    def call(self, method: str, **params):
        import json

        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=120))
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def evaluate(self, js: str):
        return self.call("Runtime.evaluate", expression=js, returnByValue=True).get("result", {}).get("value")


def shoot(url: str, out: Path, width: int, height: int, settle_s: float = 2.0, timeout: float = 120,
          max_height: int = 9000) -> None:
    """Open url in headless Chromium, wait until Streamlit has drawn it and nothing
    has changed for settle_s, grow the window to the page's height, save a PNG."""
    import json

    port = free_port()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", f"--window-size={width},{height}", f"--remote-debugging-port={port}",
               "--remote-allow-origins=*", "about:blank"]
        browser = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            end = time.time() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                        targets = [t for t in json.load(r) if t.get("type") == "page"]
                    if targets:
                        break
                except OSError:
                    pass
                if time.time() > end:
                    raise TimeoutError("chromium's DevTools endpoint did not come up")
                time.sleep(0.3)
            from websockets.sync.client import connect

            with connect(targets[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as ws:
                capture(Page(ws), url, out, width, height, settle_s, timeout, max_height)
        finally:
            os.killpg(browser.pid, signal.SIGTERM)  # the browser this function started
            try:
                browser.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(browser.pid, signal.SIGKILL)


def capture(page: Page, url: str, out: Path, width: int, height: int, settle_s: float, timeout: float,
            max_height: int) -> None:
    import base64

    page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    end, last, since = time.time() + timeout, None, time.time()
    while time.time() < end:
        time.sleep(0.5)
        state = page.evaluate(READY_JS + " + ':' + document.body.innerHTML.length")
        if state is None or str(state).startswith("-1"):
            last, since = None, time.time()
            continue
        if state != last:
            last, since = state, time.time()
        elif time.time() - since >= settle_s:
            break
    full = int(str(last or f"{height}:0").split(":")[0])
    if full > height:
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=min(full + 40, max_height),
                  deviceScaleFactor=1, mobile=False)
        time.sleep(settle_s)
    shot = page.call("Page.captureScreenshot", format="png")
    out.write_bytes(base64.b64decode(shot["data"]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "dashboard-shots"))
    p.add_argument("--port", type=int, default=0, help="0: a free one")
    p.add_argument("--pages", default=",".join(PAGES), help="comma-separated: " + ",".join(PAGES))
    p.add_argument("--width", type=int, default=1400)
    p.add_argument("--height", type=int, default=1800)
    p.add_argument("--settle", type=float, default=2.0, help="seconds the page must stay unchanged before the shot")
    a = p.parse_args()
    out = Path(a.out)
    if out.resolve().is_relative_to(ROOT.resolve()):
        p.error("--out must be outside the repository")
    out.mkdir(parents=True, exist_ok=True)
    server = DashboardProcess(a.port or free_port(), {**os.environ, "HF_HUB_OFFLINE": "1"})  # as `make dashboard`
    try:
        for page in a.pages.split(","):
            path = out / f"dash_{page}.png"
            shoot(f"{server.url}/{PAGES[page]}", path, a.width, a.height, a.settle)
            print(path)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
