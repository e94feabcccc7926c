"""The per-image page's own clock: what it spent on a photo (loading, colorizing,
scoring, per model) against what results/bench.csv says those colorizations take.
No Streamlit."""
from __future__ import annotations

import pandas as pd

BENCH_SIZE = "256x256"  # the evaluation crop the page colorizes


def bench_seconds(bench: pd.DataFrame | None, models, device: str = "cpu") -> float | None:
    """bench.csv's median latency of one 256x256 photo, summed over models; None
    unless every one of them was benchmarked."""
    if bench is None or not len(models) or "size" not in bench:
        return None
    d = bench[(bench["device"] == device) & ~bench["reference"] & (bench["size"] == BENCH_SIZE)]
    got = d.drop_duplicates("model").set_index("model")["latency_median_s"]
    if not set(models) <= set(got.index):
        return None
    return float(got[list(models)].sum())


def record(image: str, per_model: dict[str, dict]) -> dict:
    """What the page keeps in st.session_state['img_timing']: per model load_s,
    run_s (colorize + score, 0 when cached), model_s (the model's own seconds),
    score_s, loaded and cached; and the totals."""
    fresh = [m for m, t in per_model.items() if not t["cached"]]
    return {"image": image, "models": per_model, "loaded": [m for m, t in per_model.items() if t["loaded"]],
            "colorized": fresh,
            "total_s": sum(t["load_s"] + t["run_s"] for t in per_model.values()),
            "model_s": sum(per_model[m]["model_s"] for m in fresh),
            "score_s": sum(per_model[m]["score_s"] for m in fresh),
            "load_s": sum(t["load_s"] for t in per_model.values())}


def line(rec: dict, bench_s: float | None) -> str:
    """One caption: the photo's time on this server and, for a photo new to every
    model, how it compares with bench.csv."""
    n, fresh = len(rec["models"]), rec["colorized"]
    if not n:
        return ""
    if not fresh:
        return f"`{rec['image']}`: all {n} results from this server's cache ({rec['total_s']:.2f} s)."
    text = (f"`{rec['image']}`: {len(fresh)} of {n} models colorized and scored in {rec['total_s']:.2f} s on this "
            f"server (loading {len(rec['loaded'])} model{'s' * (len(rec['loaded']) != 1)}: {rec['load_s']:.2f} s; "
            f"the models' own time {rec['model_s']:.2f} s; scoring {rec['score_s']:.2f} s)")
    if bench_s and len(fresh) == n:
        text += (f". bench.csv: these {n} colorizations take {bench_s:.2f} s at {BENCH_SIZE}, so this photo took "
                 f"{rec['total_s'] / bench_s:.1f}x that")
    return text + "."
