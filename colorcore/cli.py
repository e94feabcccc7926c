"""Argument parsing for `python -m colorcore`; each command calls one module."""
from __future__ import annotations

import argparse
import sys

from .onnx_runtime import RUNTIMES


def _config_checked(main, *args, **kwargs):
    """Run a command that reads a training config: a mistake in the config is one
    line on stderr, not a traceback."""
    from .config import ConfigError
    try:
        return main(*args, **kwargs)
    except ConfigError as e:
        raise SystemExit(f"error: {e}") from None


def _train(a):
    from .train import main
    _config_checked(main, a.config, resume=a.resume, steps=a.steps, out=a.out, device=a.device, minutes=a.minutes,
                    train_data=a.train_data, init_weights=a.init_weights, fine_tune=a.fine_tune, overrides=a.set)


def _gamut(a):
    from .gamut import main
    main(a.data, a.out, a.stride)


def _colorize(a):
    from .colorize_cli import run
    return run(a.inputs, a.model, a.out, a.temperature, a.seed, a.device, not a.no_fade, a.vividness, a.runtime,
               a.batch, a.hints)


def _export_onnx(a):
    from .onnx_export import main
    return main(a.models, a.out)


def _models(a):
    from .pipeline import list_models
    from .tables import text_table
    rows = list_models()
    cols = ["name", "aliases", "params", "net_size", "kind", "hints", "weights", "source"]
    print(text_table(cols, [[f"{r['params'] / 1e6:.2f}M" if c == "params" else str(r[c]) for c in cols]
                            for r in rows]))


def _export(a):
    from .export import main
    _config_checked(main, a.config, a.out, a.temperature, a.run, a.hardware)


def _evaluate(a):
    from .evaluate import main
    return main(a.data, a.models, a.out, a.limit, a.batch_size, a.device, a.threads, a.random_init, a.net_size,
                a.update, not a.no_fade)


def _evaluate_hints(a):
    from .hint_eval import main
    return main(a.data, a.models, a.out, a.counts, a.seed, a.limit, a.batch_size, a.threads)


def _bench(a):
    from .bench import main
    return main(a.models, a.out, a.sizes, a.repeats, a.repeats_large, a.warmup, a.batch, a.threads, a.devices,
                a.net_size, a.runtimes, a.folder)


def _card(a):
    from .card import main
    main(a.models, a.results)


def _tune(a):
    from .tune import main
    main(a.model, a.data, a.limit, a.cf_floor, a.write, a.temperatures, a.weights, a.strengths)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m colorcore", description="Automatic photo colorization workbench")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("colorize", help="colorize image files or folders into DIR/<stem>.png")
    c.add_argument("inputs", nargs="+", metavar="INPUT")
    c.add_argument("--model", default="default")
    c.add_argument("--out", required=True, metavar="DIR")
    c.add_argument("--temperature", type=float, help="annealed-mean temperature for bin models")
    c.add_argument("--seed", type=int, help="sample seed for the VAE")
    c.add_argument("--no-fade", action="store_true",
                   help="bin models: keep full chroma where the model is unsure (bolder, riskier)")
    c.add_argument("--vividness", type=float,
                   help="chroma scale for any model (0 gray .. 3; default: the weights' own, usually 1)")
    c.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    c.add_argument("--runtime", choices=RUNTIMES, default="auto",
                   help="torch, onnx (ONNX Runtime on the CPU; builds the graph into the cache on first use) or "
                        "auto (onnx where its graph is already cached, else torch)")
    c.add_argument("--batch", type=int, default=8, help="photos per forward pass (default 8)")
    c.add_argument("--hints", metavar="FILE.json",
                   help='colour hints for one photo: a JSON list of [x, y, "#rrggbb"] (pixels, 0-based, '
                        "x right, y down), for models that take hints")
    c.set_defaults(func=_colorize)

    o = sub.add_parser("export-onnx", help="build the models' ONNX graphs into the cache (or --out DIR)")
    o.add_argument("--models", default="all", help="comma-separated model names, or all (default)")
    o.add_argument("--out", metavar="DIR", help="write DIR/<model>.onnx instead of filling the cache")
    o.set_defaults(func=_export_onnx)

    m = sub.add_parser("models", help="list every registered model")
    m.set_defaults(func=_models)

    t = sub.add_parser("train", help="train a model from a TOML config")
    t.add_argument("--config", required=True)
    t.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    t.add_argument("--steps", type=int, help="override the config's step count")
    t.add_argument("--out", help="override the config's run folder")
    t.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    t.add_argument("--init-weights", metavar="DIR",
                   help="with no checkpoint to resume: start from an exported weights folder at its step")
    t.add_argument("--fine-tune", action="store_true",
                   help="with --init-weights: a new run from those weights (step 0, a fresh schedule and log)")
    t.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config setting (TOML value), e.g. --set data.crop=128; repeatable; "
                        "a key the config schema (colorcore/config.py) does not know is an error")
    t.add_argument("--train-data", help="override the config's training photos (folder, tar or glob)")
    t.add_argument("--minutes", type=float, help="stop after this much wall time (checkpointed; --resume goes on)")
    t.set_defaults(func=_train)

    e = sub.add_parser("export", help="write weights/<name>/ from a run's last checkpoint")
    e.add_argument("--config", required=True)
    e.add_argument("--run", help="run folder (default: the config's out)")
    e.add_argument("--out", help="weights folder (default: weights/<name>)")
    e.add_argument("--temperature", type=float, help="default annealed-mean temperature to ship")
    e.add_argument("--hardware", help="what it was trained on, for the card")
    e.set_defaults(func=_export)

    v = sub.add_parser("evaluate", help="score models on a folder or tar shard of photos (the evaluation protocol)")
    v.add_argument("--data", required=True, help="folder of images or tar shard, e.g. ../shared/data/val.tar")
    v.add_argument("--models", default="all", help="comma-separated model names, or all (default)")
    v.add_argument("--out", required=True, metavar="DIR")
    v.add_argument("--limit", type=int, help="score N images, evenly spaced in name order (names sort by source)")
    v.add_argument("--batch-size", type=int, default=16)
    v.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    v.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    v.add_argument("--random-init", action="store_true", help="score random weights even where trained ones exist")
    v.add_argument("--net-size", type=int, help="run the models at this square resolution instead of their own")
    v.add_argument("--no-fade", action="store_true", help="decode bin models without their confidence fades")
    v.add_argument("--update", action="store_true",
                   help="replace only these models' rows in an existing --out folder (same images), keep the others")
    v.set_defaults(func=_evaluate)

    h = sub.add_parser("evaluate-hints", help="score a hint-taking model with 0, 1, 2, 5, 10, 20 hints drawn from "
                                              "the ground truth, and its synthetic edge check")
    h.add_argument("--data", required=True, help="folder of images or tar shard, e.g. ../shared/data/val-broad.tar")
    h.add_argument("--models", default="default", help="comma-separated models that take hints (default: the flagship)")
    h.add_argument("--out", required=True, metavar="DIR")
    h.add_argument("--counts", default="0,1,2,5,10,20", help="hint counts, comma-separated (0 is always scored)")
    h.add_argument("--seed", type=int, default=0, help="which fixed hint lists the photos get")
    h.add_argument("--limit", type=int, help="score N images, evenly spaced in name order")
    h.add_argument("--batch-size", type=int, default=16)
    h.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    h.set_defaults(func=_evaluate_hints)

    b = sub.add_parser("bench", help="colorize latency, throughput and peak memory per model, against full-width eccv16")
    b.add_argument("--models", default="all", help="comma-separated model names, or all (default)")
    b.add_argument("--out", required=True, metavar="FILE.csv")
    b.add_argument("--sizes", default="256,512,1024,4000x3000", help="N (NxN), WxH or 12mp, comma-separated")
    b.add_argument("--repeats", type=int, default=10, help="timed runs per size up to 2 MP")
    b.add_argument("--repeats-large", type=int, default=3, help="timed runs per size above 2 MP")
    b.add_argument("--warmup", type=int, default=2, help="untimed runs first (1 above 2 MP)")
    b.add_argument("--batch", type=int, default=8, help="batch for throughput at net resolution (0: skip)")
    b.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    b.add_argument("--devices", help="comma-separated, e.g. cpu or cpu,cuda (default: cpu, and cuda when present)")
    b.add_argument("--net-size", type=int, help="run the models (not the reference) at this square resolution")
    b.add_argument("--runtimes", default="torch,onnx", help="comma-separated: torch, onnx (default both, side by side)")
    b.add_argument("--folder", default="default",
                   help="models whose folder throughput and 12 MP stage breakdown to measure (default: the flagship; "
                        "none to skip)")
    b.set_defaults(func=_bench)

    k = sub.add_parser("card", help="write weights/<name>/README.md (model card) from config, log and results")
    k.add_argument("--models", default="all")
    k.add_argument("--results", default="results/val-broad,results/val",
                   help="comma-separated results folders, the primary set first")
    k.set_defaults(func=_card)

    u = sub.add_parser("tune", help="choose a bin model's temperature and confidence fade on held-out photos")
    u.add_argument("--model", required=True)
    u.add_argument("--data", required=True, help="photos that are not the validation set")
    u.add_argument("--limit", type=int, default=200)
    u.add_argument("--cf-floor", type=float, default=0.75,
                   help="least colourfulness kept, as a share of the ground truth's (default 0.75)")
    u.add_argument("--temperatures", help="comma-separated grid (default 0.2 ... 1.0)")
    u.add_argument("--strengths", help="comma-separated fade strengths (default 0, 0.25 ... 1)")
    u.add_argument("--weights", metavar="DIR", help="a weights folder (default: the model's own)")
    u.add_argument("--write", action="store_true", help="store the choice in the weights' config.json")
    u.set_defaults(func=_tune)

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
