"""Argument parsing for `python -m colorcore`; each command calls one module."""
from __future__ import annotations

import argparse
import sys


def _train(a):
    from .train import main
    main(a.config, resume=a.resume, steps=a.steps, out=a.out, device=a.device)


def _gamut(a):
    from .gamut import main
    main(a.data, a.out, a.stride)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m colorcore", description="Automatic photo colorization workbench")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model from a TOML config")
    t.add_argument("--config", required=True)
    t.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    t.add_argument("--steps", type=int, help="override the config's step count")
    t.add_argument("--out", help="override the config's run folder")
    t.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    t.set_defaults(func=_train)

    g = sub.add_parser("gamut", help="rebuild the ab gamut bins and prior from training photos")
    g.add_argument("--data", default="../shared/data/train-*.tar")
    g.add_argument("--out", default=None)
    g.add_argument("--stride", type=int, default=2)
    g.set_defaults(func=_gamut)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
