"""Per-image comparison: the ground truth, the gray input and every model's output
for one photo, with its scores. Colorized on demand and cached."""
import pandas as pd
import streamlit as st

from dashboard import common, figures, images, loaders

PER_ROW = 4


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
        gt, gray, gray_scores = common.ground_truth(source, image_id)
    except Exception as e:  # an unreadable photo in a user's folder
        st.warning(f"Cannot read `{image_id}` from `{source}`: {type(e).__name__}: {e}", icon=":material/warning:")
        return
    tiles = [("ground truth", gt, "the photo (centre crop 256x256)"), ("gray input", gray, caption(gray_scores))]
    table = [{"model": "gray", **gray_scores, "ms": float("nan")}]
    for name in chosen:
        try:
            with st.spinner(f"Colorizing with {name}…"):
                out, seconds, s = common.colorized(name, keys[name], source, image_id)
        except Exception as e:  # corrupt weights, a model that fails: say so, keep the page
            st.warning(f"{name}: {type(e).__name__}: {e}", icon=":material/warning:")
            continue
        tiles.append((name, out, caption(s, seconds)))
        table.append({"model": name, **s, "ms": seconds * 1000})

    for start in range(0, len(tiles), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, (title, img, cap) in zip(cols, tiles[start:start + PER_ROW]):
            col.markdown(f"**{title}**")
            col.image(img, caption=cap, width="stretch")

    st.subheader("Scores on this photo")
    df = pd.DataFrame(table)
    st.dataframe(figures.style_table(df, ["psnr", "ssim", "auc", "auc_rebal"]), hide_index=True, key="img_scores",
                 placeholder="–")
    st.caption("Evaluation protocol: short side 256, centre crop 256x256; each model sees the ground truth's L "
               "and its 8-bit output is scored against the ground truth. Green: the best model per column. "
               "ms: this machine, this time (the first call includes warm-up).")
    for name, rows in committed_scores(image_id):
        with st.expander(f"Scores from results/{name}/per_image.csv"):
            st.dataframe(figures.style_table(rows.reset_index(drop=True), ["psnr", "ssim", "auc", "auc_rebal"]),
                         hide_index=True, key=f"img_committed_{name}", placeholder="–")


main()
