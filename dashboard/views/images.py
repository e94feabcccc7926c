"""Per-image comparison: the ground truth, the gray input and every model's output
for one photo, with its scores. Each colorizer is loaded once per server and each
(model, photo) colorized once; the page times itself (st.session_state['img_timing'])."""
import time

import pandas as pd
import streamlit as st

from dashboard import common, figures, images, loaders, timing

PER_ROW = 4
SCORED = ["psnr", "ssim", "auc", "auc_rebal"]  # the columns whose best model is marked


def caption(s: dict, seconds: float | None = None) -> str:
    text = f"PSNR {s['psnr']:.2f} dB · SSIM {s['ssim']:.3f} · AuC {s['auc']:.3f} · CF {s['colorfulness']:.1f}"
    return text + (f" · {seconds * 1000:.0f} ms" if seconds is not None else "")


def pick_source() -> str:
    default = images.default_source()
    typed = st.text_input("Photos: a folder, a tar shard or a glob (empty: the photos scikit-image bundles)",
                          value="" if default == images.BUNDLED else default, key="img_source",
                          placeholder="e.g. ../shared/data/val.tar",
                          help=f"Defaults to ${images.DATA_ENV} when set. Nothing is copied into the repository.")
    return typed.strip() or images.BUNDLED


def grid(names: list[str]) -> dict:
    """One placeholder per tile, PER_ROW to a row."""
    slots = {}
    for start in range(0, len(names), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, name in zip(cols, names[start:start + PER_ROW]):
            slots[name] = col.empty()
    return slots


def tile(slot, title: str, img, cap: str) -> None:
    with slot.container():
        st.markdown(f"**{title}**")
        if img is None:
            st.caption(cap)
        else:
            st.image(img, caption=cap, width="stretch")


def run_model(name: str, key: str, source: str, image_id: str) -> dict:
    """One model's result on the photo, timed by the page: load_s (0 once the
    colorizer is cached for the server), run_s (colorize + score, 0 from the cache)."""
    before = common.WORK.copy()
    t0 = time.perf_counter()
    common.colorizer(name, key)
    t1 = time.perf_counter()
    r = common.colorized(name, key, source, image_id)
    t2 = time.perf_counter()
    cached = common.WORK["colorize", name] == before["colorize", name]
    loaded = common.WORK["load", name] > before["load", name]
    return {"result": r, "load_s": t1 - t0, "run_s": t2 - t1, "loaded": loaded, "cached": cached,
            "model_s": r["seconds"], "score_s": r["score_s"]}


def committed_scores(image_id: str) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for name in loaders.eval_sets():
        per = common.per_image(name)
        if per is not None:
            rows = per[per["image"] == image_id]
            if not rows.empty:
                out.append((name, rows.drop(columns="image")))
    return out


def main() -> None:
    st.title("Per-image comparison")
    source = pick_source()
    try:
        ids = common.source_ids(source)
    except (FileNotFoundError, OSError, ValueError) as e:
        st.warning(f"No photos at `{source}` ({e}); showing the bundled photos instead.", icon=":material/warning:")
        source = images.BUNDLED
        try:
            ids = common.source_ids(source)
        except FileNotFoundError as e2:
            common.note(str(e2))
            return
    image_id = st.selectbox(f"Photo ({len(ids)} in {'the bundled set' if source == images.BUNDLED else source})",
                            ids, key="img_image")

    names = common.model_names()
    keys = common.weights_keys(tuple(names))
    ready = [n for n in names if keys.get(n)]
    missing = [n for n in names if not keys.get(n)]
    chosen = st.multiselect("Models", ready, default=ready, key="img_models")
    if missing:
        st.caption("No weights on this machine for " + ", ".join(f"`{m}`" for m in missing) +
                   " (looked in weights/, $COLORCORE_WEIGHTS and the Hugging Face cache), so they are not shown.")
    if not ready:
        common.note("No model has weights on this machine yet: only the ground truth and the gray input are shown.")

    try:
        gt, gray, gray_scores, _ = common.ground_truth(source, image_id)
    except Exception as e:  # an unreadable photo in a user's folder
        st.warning(f"Cannot read `{image_id}` from `{source}`: {type(e).__name__}: {e}", icon=":material/warning:")
        return
    # The whole layout is drawn before any model runs, so the previous photo's
    # outputs and scores are replaced at once instead of lingering under the new name.
    st.subheader(f"`{image_id}`")
    slots = grid(["ground truth", "gray input", *chosen])
    tile(slots["ground truth"], "ground truth", gt, "the photo (centre crop 256x256)")
    tile(slots["gray input"], "gray input", gray, caption(gray_scores))
    for name in chosen:
        tile(slots[name], name, None, "colorizing…")
    timing_slot = st.empty()
    st.subheader("Scores on this photo")
    table_slot = st.empty()
    table_slot.caption("The scores appear when every model has run.")

    table = [{"model": "gray", **gray_scores, "ms": float("nan")}]
    per_model = {}
    for name in chosen:
        try:
            t = run_model(name, keys[name], source, image_id)
        except Exception as e:  # corrupt weights, a model that fails: say so, keep the page
            slots[name].warning(f"{name}: {type(e).__name__}: {e}", icon=":material/warning:")
            continue
        r = t.pop("result")
        per_model[name] = t
        tile(slots[name], name, r["image"], caption(r["scores"], r["seconds"]))
        table.append({"model": name, **r["scores"], "ms": r["seconds"] * 1000})
    rec = timing.record(image_id, per_model)
    st.session_state["img_timing"] = rec
    timing_slot.caption(timing.line(rec, timing.bench_seconds(common.bench(), list(per_model))))

    df = pd.DataFrame(table)
    table_slot.dataframe(figures.style_table(df, SCORED), hide_index=True, key="img_scores", placeholder="–",
                         column_config=common.column_config(df.columns))
    st.caption("Evaluation protocol: short side 256, centre crop 256x256; each model sees the ground truth's L "
               "and its 8-bit output is scored against the ground truth. Green: the best model per column, when "
               "it beats gray. ms: the model's own time on this machine, when it first ran on this photo.")
    for name, rows in committed_scores(image_id):
        with st.expander(f"Scores from results/{name}/per_image.csv"):
            rows = rows.reset_index(drop=True)
            st.dataframe(figures.style_table(rows, SCORED), hide_index=True, key=f"img_committed_{name}",
                         placeholder="–", column_config=common.column_config(rows.columns))


main()
