"""`python scripts/loadtest.py`: the Gradio demo under load and bad input.

Starts `demo/app.py` as a subprocess on 127.0.0.1 (a free port, offline, its own
temp folders), then

1. drives /colorize with --clients concurrent clients for --requests requests in
   all, a seeded mix of good photos and the broken files of tests/badfiles.py:
   every good request must come back as a PNG of the photo's size that keeps its
   lightness, every bad one as an error naming the file and the problem;
2. bursts --burst calls at once, more than the queue holds: the ones over the
   limit must get an immediate "queue is full" answer (HTTP 503), never a
   timeout, and the accepted ones must still complete;
3. sends the largest photo once more: the server must still answer it in full.

The good photos come at real sizes, from 256x256 to 12 MP (PHOTO_SIZES), and the
report gives the latency of each size.

It prints throughput, p50/p95/p99 latency, peak server memory (VmHWM of the
server process) and the outcome counts, and writes them to --out (Markdown).
A benchmark, not a test: it exits 1 if any outcome was unexpected.

The clients speak plain HTTP, the recipe of demo/README.md: upload the file,
POST /gradio_api/call/colorize, read the event stream, fetch the PNG.
Weights: random ones for --model (same architecture, same speed as trained
ones) unless --trained, which uses the usual places (weights/, COLORCORE_WEIGHTS,
the Hub's local cache). Nothing leaves loopback.
"""
from __future__ import annotations

import argparse
import io
import random
import re
import shlex
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for _folder in (ROOT, ROOT / "tests"):  # colorcore, and the test helpers it drives the demo with
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from colorcore.provenance import load_average, machine, machine_line  # noqa: E402
from servers import DemoProcess, Outcome, colorize_http, detail, write_random_weights  # noqa: E402


# --------------------------------------------------------------------------
# What to send, and how to judge what comes back


@dataclass
class Job:
    kind: str
    name: str
    data: bytes
    words: str | None  # None: a good file
    size: tuple[int, int] | None = None
    lightness: np.ndarray | None = None  # Lab L of the decoded input, for the good ones


def _lab_l(rgb8: np.ndarray) -> np.ndarray:
    import torch

    from colorcore.color import rgb_to_lab

    t = torch.from_numpy(np.ascontiguousarray(rgb8, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_lab(t)[0, 0].numpy()


def judge(job: Job, out: Outcome, tolerance: float = 1.0) -> tuple[bool, str]:
    """Whether the outcome is the expected one, and why not."""
    from PIL import Image

    if job.words is None:
        if out.status != "ok":
            return False, f"a good file failed ({out.status}): {out.message[:200]}"
        try:
            im = Image.open(io.BytesIO(out.png))
            im.load()
        except Exception as e:  # noqa: BLE001
            return False, f"the answer is not a readable PNG ({e})"
        if im.format != "PNG" or im.size != job.size:
            return False, f"got a {im.format} of {im.size}, expected a PNG of {job.size}"
        diff = float(np.abs(_lab_l(np.asarray(im.convert("RGB"))) - job.lightness).max())
        if diff > tolerance:
            return False, f"lightness moved by {diff:.2f} (> {tolerance})"
        return True, ""
    if out.status != "error":
        return False, f"a bad file got {out.status!r} instead of its error"
    if job.words not in out.message or job.name not in out.message:
        return False, f"the error does not name the file and the problem: {out.message[:200]!r}"
    if "Traceback" in out.message:
        return False, "a traceback reached the client"
    return True, ""


# Real sizes, from a thumbnail to a 12-megapixel camera photo, with the share of the good
# requests each gets: mostly small and medium, as a public demo sees them.
PHOTO_SIZES = (((256, 256), "L", "PNG", 0.25), ((640, 480), "L", "JPEG", 0.25), ((1024, 768), "RGB", "JPEG", 0.2),
               ((2048, 1536), "L", "JPEG", 0.15), ((3000, 4000), "RGB", "JPEG", 0.1), ((4000, 3000), "L", "JPEG", 0.05))


def size_label(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.1f} MP)"


def photo_jobs(seed: int = 0) -> list[tuple[Job, float]]:
    """Good photos at real sizes (PHOTO_SIZES), with film-like grain so that they weigh what
    real photos do (a 12 MP JPEG of several MB), each with its share of the good requests."""
    from PIL import Image

    from colorcore.io import load_image

    import badfiles

    rng = np.random.default_rng(seed)
    jobs = []
    for i, (size, mode, fmt, share) in enumerate(PHOTO_SIZES):
        smooth = np.asarray(badfiles.photo(*size, seed=seed + i), dtype=np.float32)
        grain = rng.normal(0, 8, smooth.shape[:2])[..., None].astype(np.float32)
        im = Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8), "RGB").convert(mode)
        data = badfiles.encode(im, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        rgb = np.asarray(load_image(data))
        name = f"photo-{size[0]}x{size[1]}.{'jpg' if fmt == 'JPEG' else 'png'}"
        jobs.append((Job(f"photo {size_label(size)} {fmt} {mode}", name, data, None, im.size, _lab_l(rgb)), share))
    return jobs


def corpus_jobs() -> tuple[list[Job], list[Job]]:
    """The cases of tests/badfiles.py: (good ones, bad ones)."""
    from PIL import Image

    from colorcore.io import load_image

    import badfiles

    good, bad = [], []
    for case in badfiles.cases():
        if case.ok:
            rgb = np.asarray(load_image(case.data, name=case.name))
            good.append(Job(case.kind, case.name, case.data, None, Image.fromarray(rgb).size, _lab_l(rgb)))
        else:
            bad.append(Job(case.kind, case.name, case.data, case.words))
    return good, bad


def plan(n: int, bad_share: float, seed: int) -> list[Job]:
    """n jobs: a share of bad files, the rest good (photos at real sizes in their shares, and
    now and then an awkward but valid file from the corpus), shuffled with the seed."""
    rng = random.Random(seed)
    photos = photo_jobs(seed)
    odd, bad = corpus_jobs()
    n_bad = round(n * bad_share)
    n_odd = round((n - n_bad) * 0.1)
    jobs = [bad[i % len(bad)] for i in range(n_bad)] + [odd[i % len(odd)] for i in range(n_odd)]
    n_photos = n - len(jobs)
    counts = [round(n_photos * share) for _, share in photos]
    counts[0] += n_photos - sum(counts)
    for (job, _), k in zip(photos, counts):
        jobs += [job] * k
    rng.shuffle(jobs)
    return jobs


# --------------------------------------------------------------------------
# The runs


class MemoryWatch:
    """Samples the server's RSS every interval seconds; VmHWM gives the true peak."""

    def __init__(self, server: DemoProcess, interval: float = 0.25):
        self.server, self.interval = server, interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.server.rss_mb()
            if rss is not None:
                self.samples.append(rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class LoadResult:
    wall_s: float
    latencies: list[float]
    counts: dict[str, int]
    latencies_bad: list[float] = field(default_factory=list)  # the bad files' share of latencies
    problems: list[str] = field(default_factory=list)
    per_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [expected, unexpected]
    latency_by_kind: dict[str, list[float]] = field(default_factory=dict)


def run_load(base: str, jobs: list[Job], clients: int, model: str, timeout: float, max_seconds: float) -> LoadResult:
    """clients threads take jobs from one list until it is empty or max_seconds have passed."""
    import httpx

    lock = threading.Lock()
    todo = list(enumerate(jobs))
    latencies: list[float] = []
    latencies_bad: list[float] = []
    counts = {"good ok": 0, "bad with its error": 0, "unexpected": 0, "busy": 0, "not sent (time limit)": 0}
    problems: list[str] = []
    per_kind: dict[str, list[int]] = {}
    load_kind: dict[str, list[float]] = {}
    deadline = time.monotonic() + max_seconds

    def worker(k: int) -> None:
        # Each client its own address (the server trusts X-Forwarded-For from loopback, as behind
        # a proxy), so that the per-address upload budget applies per client, as for real visitors.
        address = {"X-Forwarded-For": f"10.0.{k // 250}.{k % 250 + 1}"}
        with httpx.Client(limits=httpx.Limits(max_connections=4), headers=address) as client:
            while True:
                with lock:
                    if not todo:
                        return
                    if time.monotonic() > deadline:
                        counts["not sent (time limit)"] += len(todo)
                        todo.clear()
                        return
                    i, job = todo.pop(0)
                out = colorize_http(client, base, job.name, job.data, model, timeout)
                good, why = judge(job, out)
                with lock:
                    latencies.append(out.seconds)
                    load_kind.setdefault(job.kind, []).append(out.seconds)
                    if job.words is not None:
                        latencies_bad.append(out.seconds)
                    row = per_kind.setdefault(job.kind, [0, 0])
                    if out.status == "busy":
                        counts["busy"] += 1
                    if good:
                        counts["good ok" if job.words is None else "bad with its error"] += 1
                        row[0] += 1
                    else:
                        counts["unexpected"] += 1
                        row[1] += 1
                        problems.append(f"#{i} {job.kind} ({job.name}): {why}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,), name=f"client-{k}") for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(time.perf_counter() - t0, latencies, counts, latencies_bad, problems, per_kind, load_kind)


@dataclass
class BurstResult:
    sent: int
    accepted: int
    busy: int
    busy_message: str
    busy_answer_s: float  # the slowest busy answer
    accepted_ok: int
    accepted_failed: list[str]
    other: list[str]
    wall_s: float


def run_burst(base: str, job: Job, n: int, model: str, timeout: float) -> BurstResult:
    """n calls released at once (a barrier) on one uploaded photo; then the accepted ones
    are read to the end."""
    import httpx

    with httpx.Client() as c:
        up = c.post(base + "gradio_api/upload", files={"files": (job.name, job.data)}, timeout=timeout)
        up.raise_for_status()
        path = up.json()[0]
    payload = {"data": [{"path": path, "orig_name": job.name, "meta": {"_type": "gradio.FileData"}}, model, None, None,
                        None]}
    barrier = threading.Barrier(n)
    answers: list[tuple[str, str, float]] = [("", "", 0.0)] * n

    def fire(k: int) -> None:
        with httpx.Client() as c:
            barrier.wait()
            t0 = time.perf_counter()
            try:
                r = c.post(base + "gradio_api/call/colorize", json=payload, timeout=timeout)
                if r.status_code == 503:
                    answers[k] = ("busy", detail(r), time.perf_counter() - t0)
                    return
                if r.status_code != 200:
                    answers[k] = ("other", f"{r.status_code}: {r.text[:200]}", time.perf_counter() - t0)
                    return
                event = r.json()["event_id"]
                stream = c.get(base + f"gradio_api/call/colorize/{event}", timeout=timeout).text
                kinds = re.findall(r"^event: (\w+)", stream, re.M)
                answers[k] = ("done" if kinds and kinds[-1] == "complete" else "failed",
                              stream[-200:], time.perf_counter() - t0)
            except httpx.HTTPError as e:
                answers[k] = ("other", f"{type(e).__name__}: {e}", time.perf_counter() - t0)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=fire, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    busy = [a for a in answers if a[0] == "busy"]
    return BurstResult(
        sent=n, accepted=sum(a[0] in ("done", "failed") for a in answers), busy=len(busy),
        busy_message=busy[0][1] if busy else "", busy_answer_s=max((a[2] for a in busy), default=0.0),
        accepted_ok=sum(a[0] == "done" for a in answers),
        accepted_failed=[a[1] for a in answers if a[0] == "failed"],
        other=[a[1] for a in answers if a[0] == "other"], wall_s=wall)


def burst_photo(side: int = 1600) -> Job:
    """A larger gray photo for the burst, so that the queue fills before it drains."""
    from colorcore.io import load_image

    import badfiles

    im = badfiles.photo(side, side * 3 // 4, seed=7).convert("L")
    data = badfiles.encode(im, "JPEG", quality=85)
    return Job(f"photo {im.size[0]}x{im.size[1]} JPEG L", "burst.jpg", data, None, im.size,
               _lab_l(np.asarray(load_image(data))))


# --------------------------------------------------------------------------
# Report


def load_line(load: list[float] | None) -> str:
    return " / ".join(f"{x:.1f}" for x in load) if load else "?"


def report(args, command: str, load: LoadResult, burst: BurstResult | None, memory: dict, server_log: str,
           alive: bool) -> str:
    from colorcore.models import resolve

    lat = load.latencies
    done = sum(load.counts[k] for k in ("good ok", "bad with its error", "unexpected"))
    lines = [
        "# Load test: the Gradio demo under concurrent good and bad requests", "",
        f"Command (from the repository root): `{command}`", "",
        f"Machine: {machine_line(machine())}; load average (1/5/15 min) {load_line(memory['load_before'])} "
        f"before the run, {load_line(memory['load_after'])} after it.", "",
        *([args.note, ""] if args.note else []),
        f"Model: `{resolve(args.model)}` (`--model {args.model}`) with "
        f"{'its trained weights' if args.trained else 'random weights (same architecture and speed as trained ones)'}; "
        f"server: `demo/app.py` on 127.0.0.1, its own queue and concurrency settings.", "",
        "## Mixed load", "",
        f"{args.clients} concurrent clients, {len(lat)} requests answered of {args.requests} planned "
        f"({args.bad_share:.0%} bad files, the rest photos at real sizes from 256x256 to 12 MP and some awkward but "
        "valid files from tests/badfiles.py); each request = upload + call + event stream + PNG download, "
        "timed from the upload's start to the PNG's last byte. Each client speaks from its own address "
        "(X-Forwarded-For), so the per-address upload budget applies per client. The clients run on the same "
        "machine as the server.",
        "",
        "| figure | value |", "| --- | --- |",
        f"| wall time | {load.wall_s:.1f} s |",
        f"| throughput | {done / load.wall_s:.2f} requests/s |",
        "| latency p50 / p95 / p99 | " + " / ".join(f"{percentile(lat, q):.2f}" for q in (50, 95, 99)) + " s |",
        f"| latency max | {max(lat, default=float('nan')):.2f} s |",
        f"| latency p50, bad files only | {percentile(load.latencies_bad, 50):.2f} s |",
        f"| server RSS after start-up and one warm-up call | {memory['idle']:.0f} MB |",
        f"| server peak RSS (VmHWM) during the mixed load | {memory['peak_mixed']:.0f} MB |",
    ]
    lines += [f"| {k} | {v} |" for k, v in load.counts.items()]
    lines += [f"| server RSS after the mixed load and the burst | {memory['after']:.0f} MB |"]
    lines += ["", "Good photos by size (JPEG/PNG bytes as uploaded; latency of the whole request):", "",
              "| photo | bytes | requests | p50 | p95 | max |", "| --- | --- | --- | --- | --- | --- |"]
    for job, _ in photo_jobs(args.seed):
        lat_k = load.latency_by_kind.get(job.kind, [])
        lines.append(f"| {job.kind} | {len(job.data) / 1e6:.2f} MB | {len(lat_k)} | {percentile(lat_k, 50):.2f} s | "
                     f"{percentile(lat_k, 95):.2f} s | {max(lat_k, default=float('nan')):.2f} s |")
    lines += ["", f"Memory bound: the demo runs at most {memory['concurrency']} colorizations at once "
              "(COLORCORE_DEMO_CONCURRENCY) and refuses photos over its own pixel limit (COLORCORE_DEMO_MAX_PIXELS, "
              "16 MP) from the header, before decoding, so its peak is bounded by start-up plus two of the largest "
              "photos in flight; the peaks above are that with 12 MP photos in the mix, and the row after the load "
              "says what the server keeps (the models and the allocator's free lists, not the photos)."]
    lines += ["", "Outcome by kind (expected / unexpected):", "", "| kind | expected | unexpected |",
              "| --- | --- | --- |"]
    lines += [f"| {k} | {v[0]} | {v[1]} |" for k, v in sorted(load.per_kind.items())]
    if load.problems:
        lines += ["", "Unexpected outcomes:", ""] + [f"- {p}" for p in load.problems[:50]]
    if burst is not None:
        lines += ["", "## Burst beyond the queue", "",
                  f"{burst.sent} calls released at once (a barrier) on one {args.burst_side}-px-wide gray JPEG.", "",
                  "| figure | value |", "| --- | --- |",
                  f"| accepted (queued or running) | {burst.accepted} |",
                  f"| accepted and completed | {burst.accepted_ok} |",
                  f"| answered busy (HTTP 503) | {burst.busy} |",
                  f"| slowest busy answer | {burst.busy_answer_s:.2f} s |",
                  f"| other answers (should be 0) | {len(burst.other) + len(burst.accepted_failed)} |",
                  f"| burst wall time | {burst.wall_s:.1f} s |",
                  f"| server peak RSS (VmHWM) by the end of the burst | {memory['peak']:.0f} MB |", "",
                  f"The busy answer's text: `{burst.busy_message}`"]
    tracebacks = server_log.count("Traceback")
    lines += ["", "## Server", "",
              f"- still serving at the end: {'yes' if alive else 'NO'}; a 12 MP photo after the burst: "
              f"{memory['healthy']}",
              f"- tracebacks in the server log: {tracebacks}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python scripts/loadtest.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--requests", type=int, default=256, help="requests in the mixed phase, in all")
    p.add_argument("--bad-share", type=float, default=0.25, help="share of bad files in the mix")
    p.add_argument("--model", default="default")
    p.add_argument("--trained", action="store_true", help="the model's real weights, not random ones")
    p.add_argument("--burst", type=int, default=128, help="calls released at once after the mix (0: none)")
    p.add_argument("--burst-side", type=int, default=1600, help="width of the burst's photo")
    p.add_argument("--timeout", type=float, default=180, help="seconds one request may take")
    p.add_argument("--max-seconds", type=float, default=900, help="the mixed phase sends nothing after this")
    p.add_argument("--nice", type=int, default=0, help="niceness of the server process")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/loadtest.md", help="Markdown report ('' for none)")
    p.add_argument("--note", default="", help="a sentence for the report (what else the machine was doing)")
    args = p.parse_args(argv)
    given = argv if argv is not None else sys.argv[1:]
    command = "python scripts/loadtest.py " + " ".join(shlex.quote(a) for a in given)

    from colorcore.models import resolve

    load_before = load_average()
    print("preparing the files...", flush=True)
    jobs = plan(args.requests, args.bad_share, args.seed)
    big = burst_photo(args.burst_side) if args.burst else None
    with tempfile.TemporaryDirectory(prefix="colorcore-loadtest-") as tmp:
        tmp = Path(tmp)
        weights = None if args.trained else write_random_weights(tmp / "weights", names=(resolve(args.model),))
        server = DemoProcess(tmp / "server", weights, nice=args.nice)
        print(f"starting the demo on {server.url} ...", flush=True)
        with server:
            import httpx

            with httpx.Client() as c:  # the model loads on the first call: not part of the figures
                first = photo_jobs(args.seed)[0][0]
                warm = colorize_http(c, server.url, first.name, first.data, args.model, args.timeout)
            if warm.status != "ok":
                print(f"warm-up call failed: {warm.status} {warm.message}", file=sys.stderr)
                return 1
            idle = server.rss_mb() or float("nan")
            print(f"mixed load: {args.clients} clients, {len(jobs)} requests...", flush=True)
            with MemoryWatch(server) as watch:
                load = run_load(server.url, jobs, args.clients, args.model, args.timeout, args.max_seconds)
                peak_mixed = max([server.peak_rss_mb() or 0.0, *watch.samples])
                burst = None
                if args.burst:
                    print(f"burst: {args.burst} calls at once...", flush=True)
                    burst = run_burst(server.url, big, args.burst, args.model, args.timeout)
            peak = max([server.peak_rss_mb() or 0.0, *watch.samples])
            with httpx.Client() as c:  # healthy afterwards: the largest photo, answered in full
                last = photo_jobs(args.seed)[-1][0]
                after = colorize_http(c, server.url, last.name, last.data, args.model, args.timeout)
                ok, why = judge(last, after)
                healthy = f"answered in {after.seconds:.2f} s" if ok else f"FAILED ({why})"
            time.sleep(2)
            after_rss = server.rss_mb() or float("nan")
            alive = server.alive() and ok
            log = server.log_text()
    memory = {"idle": idle, "peak": peak, "peak_mixed": peak_mixed, "load_before": load_before,
              "load_after": load_average(), "after": after_rss, "healthy": healthy,
              "concurrency": int(server.env.get("COLORCORE_DEMO_CONCURRENCY", 2))}
    text = report(args, command, load, burst, memory, log, alive)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"written to {args.out}")
    bad_burst = burst is not None and (burst.busy == 0 or burst.other or burst.accepted_failed
                                       or burst.accepted_ok != burst.accepted)
    return 1 if load.problems or load.counts["not sent (time limit)"] or bad_burst or not alive else 0


if __name__ == "__main__":
    sys.exit(main())
