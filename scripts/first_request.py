"""`python scripts/first_request.py`: how long the demo's first /colorize after start-up
takes against the ones after it (issue 19: no slower than three times).

Starts `demo/app.py` as a subprocess (offline, its own temp folders, the shipped weights
unless --random), waits until it answers, then sends the same photo --calls times, one
after another, over plain HTTP (tests/servers.colorize_http). Prints the first call's
time, the median of the others and their ratio, and appends them to --out (Markdown).
A benchmark, not a test: it exits 1 if a call failed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _folder in (ROOT, ROOT / "tests"):  # colorcore, and the test helpers that drive the demo
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from colorcore.provenance import git_commit, load_average, machine, machine_line  # noqa: E402
from servers import DemoProcess, colorize_http, write_random_weights  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=6, help="calls in all, the first included")
    p.add_argument("--side", type=int, default=1024, help="the photo's width (height 3/4 of it)")
    p.add_argument("--model", default="default")
    p.add_argument("--random", action="store_true", help="random weights instead of the shipped ones")
    p.add_argument("--out", default="", help="Markdown file to append the figures to ('' for none)")
    args = p.parse_args(argv)

    import httpx

    import badfiles

    data = badfiles.encode(badfiles.photo(args.side, args.side * 3 // 4, seed=0).convert("L"), "JPEG", quality=90)
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="colorcore-first-request-") as tmp:
        from colorcore.models import resolve

        weights = write_random_weights(Path(tmp) / "weights", names=(resolve(args.model),)) if args.random else None
        with DemoProcess(Path(tmp) / "server", weights) as server, httpx.Client() as client:
            calls = [colorize_http(client, server.url, "photo.jpg", data, args.model) for _ in range(args.calls)]
    failed = [c for c in calls if c.status != "ok"]
    if failed:
        print(f"a call failed: {failed[0].status} {failed[0].message}", file=sys.stderr)
        return 1
    first, later = calls[0].seconds, statistics.median(c.seconds for c in calls[1:])
    commit, dirty = git_commit()
    text = (f"- {args.side}x{args.side * 3 // 4} JPEG, model {args.model} ({'random' if args.random else 'shipped'} "
            f"weights): first call after ready {first:.2f} s, median of the next {len(calls) - 1} {later:.2f} s, "
            f"ratio {first / later:.2f} (commit {commit[:10]}{'+' if dirty else ''}; "
            f"{machine_line(machine('cpu', None, load_before))}; load average at start {load_before})")
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
