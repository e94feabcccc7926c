"""Metrics: one table per evaluation set (results/<set>/metrics.csv)."""
import streamlit as st

from dashboard import common, figures, loaders

COLUMNS = ["model", "weights", "psnr", "ssim", "auc", "auc_rebal", "colorfulness", "delta_cf",
           loaders.SEMANTIC_COLUMN, loaders.FRECHET_COLUMN, "seconds_per_image", "images"]
HIDDEN = ("kind", "net_size", "images")  # in metrics.csv; the image count is in the heading
LABELS = {"psnr": "PSNR dB ↑", "ssim": "SSIM ↑", "auc": "AuC ↑", "auc_rebal": "AuC rebal ↑",
          "colorfulness": "colorfulness", "delta_cf": "Δ colorfulness ↓", loaders.SEMANTIC_COLUMN: "semantic agr. (Lite1) ↑",
          loaders.FRECHET_COLUMN: "Fréchet (Lite1) ↓", "seconds_per_image": "s / image ↓"}
EVAL_HINT = "python -m colorcore evaluate --data ../shared/data/val-broad.tar --models all --out results/val-broad"


def column_config(meta: dict | None) -> dict:
    helps = (meta or {}).get("metrics", {}) if isinstance(meta, dict) else {}
    return {c: st.column_config.Column(label, help=helps.get(c)) for c, label in LABELS.items()}


def show_set(name: str) -> None:
    folder = common.set_folder(name)
    df = common.metrics(name)
    if df is None:
        return
    meta = common.meta(folder / "meta.json")
    st.subheader(f"`{name}`" + (f" — {int(df['images'].max())} images" if "images" in df and df["images"].notna().any()
                                else ""))
    cols = [c for c in COLUMNS if c in df.columns] + [c for c in df.columns if c not in COLUMNS + list(HIDDEN)]
    table = df[cols].reset_index(drop=True)
    st.dataframe(figures.style_table(table), hide_index=True, column_config=column_config(meta),
                 key=f"metrics_{name}", placeholder="–")
    st.caption("Made by " + loaders.made_by(folder, meta) + "  \nGreen: the best model per metric (arrows say "
               "which way is better; the gray and ground-truth rows are references and never win). Click a "
               "header to sort.")
    models = [m for m in df["model"] if m not in loaders.REFERENCE_ROWS]
    random = df.loc[df["weights"].astype(str) == "random", "model"].tolist() if "weights" in df else []
    if random:
        st.caption(f"Scored with random weights (no trained weights when it ran): {', '.join(random)}.")
    if not models:
        common.note("Only the gray and ground-truth rows so far: no model was scored in this set.")
    budgets = loaders.read_budgets()
    budgets = budgets[budgets["model"].isin(models)] if budgets is not None else None
    if budgets is not None and not budgets.empty:
        st.caption("What each model's weights were trained on, in total: budgets differ a lot, and a comparison "
                   "between the models is only as fair as they are.")
        st.dataframe(budgets, hide_index=True, key=f"budgets_{name}")
    with st.expander(f"One metric across the models — {name}", expanded=False):
        metric = st.selectbox("Metric", [m for m in loaders.METRICS if m in df.columns and df[m].notna().any()],
                              key=f"metric_{name}")
        left, right = st.columns(2)
        left.plotly_chart(figures.metric_bar_figure(df, metric, common_colours(df)), key=f"bar_{name}")
        per = common.per_image(name)
        if per is not None and metric in per.columns:
            right.plotly_chart(figures.per_image_figure(per, metric, common_colours(df)), key=f"box_{name}")
        else:
            right.caption(f"No per-image `{metric}` in {name}/per_image.csv.")


def common_colours(df):
    return figures.colour_map(list(df["model"]) + common.model_names())


def main() -> None:
    st.title("Metrics")
    sets = loaders.eval_sets()
    if not sets:
        common.note(f"No evaluation results yet: `{loaders.results_dir()}` holds no `<set>/metrics.csv`. "
                    f"Make one with `{EVAL_HINT}`.")
        return
    for name in sets:
        show_set(name)


main()
