"""Metrics: the verdict on one evaluation set (val-broad first), the scores with each
model's training budget beside them, one metric across the models, and the whole
comparison as an HTML report (results/<set>/metrics.csv, weights/*/config.json)."""
import pandas as pd
import streamlit as st

from dashboard import common, figures, labels, loaders, report, verdict

SCORES = ["model", "psnr", "ssim", "auc", "auc_rebal", "colorfulness", "delta_cf", loaders.SEMANTIC_COLUMN,
          loaders.FRECHET_COLUMN, "seconds_per_image"]
BUDGET = ["data", "steps", "images seen", "hours"]  # from loaders.read_budgets
EVAL_HINT = "python -m colorcore evaluate --data ../shared/data/val-broad.tar --models all --out results/val-broad"
PRIMARY = next(iter(loaders.EVAL_SETS))


def set_label(name: str) -> str:
    return f"{name} (primary)" if name == PRIMARY else name


def with_budgets(df: pd.DataFrame, budgets: pd.DataFrame | None) -> pd.DataFrame:
    """The score columns, then each model's data version, steps, images seen, hours."""
    table = df[[c for c in SCORES if c in df.columns]].reset_index(drop=True)
    b = budgets[["model", *BUDGET]] if budgets is not None else pd.DataFrame(columns=["model", *BUDGET])
    out = table.merge(b, on="model", how="left")
    out["data"] = out["data"].astype(object).where(out["data"].notna(), "–")  # text: no number format to blank it
    return out


def hardware_note(budgets: pd.DataFrame | None, models) -> str:
    if budgets is None:
        return ""
    b = budgets[budgets["model"].isin(models) & (budgets["hardware"].astype(str) != "")]
    groups = b.groupby("hardware", sort=False)["model"].apply(list)
    return "Trained on: " + "; ".join(f"{', '.join(m)}: {hw}" for hw, m in groups.items()) + "." if len(groups) else ""


def show_verdict(df: pd.DataFrame, name: str) -> dict | None:
    lines = verdict.summary(df, name, primary=name == PRIMARY)
    if lines is None:
        common.note("Only the gray and ground-truth rows so far: no model was scored in this set.")
        return None
    st.markdown("\n\n".join(lines))
    rule = verdict.RULE.format(n=len(verdict.ranks(df).columns) - 1)
    st.caption(rule)
    stand = verdict.standings(df)
    gaps = [c for c in stand.columns if verdict.is_gap(df, c)]
    table = stand.reset_index()
    # st.table: it wraps its headers to the page's width, where st.dataframe cut columns off.
    st.table(figures.style_standings(table, gaps, labelled=True), hide_index=True)
    where = ("Where each model stands: 0% is the gray row, 100% the ground truth (negative: worse than gray); "
             "PSNR, whose ground truth is infinite, in dB over gray; colourfulness as a share of the truth's.")
    st.caption(where)
    rewards = [labels.REWARDS[c] for c in table.columns if c in labels.REWARDS]
    with st.expander("What each metric rewards", expanded=True):
        st.markdown("\n".join(f"- {r}" for r in rewards))
    return {"heading": f"Verdict on {name}", "lines": lines + [rule],
            "table": figures.style_standings(table, gaps, labelled=True), "caption": where + " " + " ".join(rewards)}


def show_set(name: str) -> None:
    folder = common.set_folder(name)
    df = common.metrics(name)
    if df is None:
        return
    meta = common.meta(folder / "meta.json")
    n = f" — {int(df['images'].max())} images" if "images" in df and df["images"].notna().any() else ""
    head, button = st.columns([4, 1], vertical_alignment="bottom")
    head.subheader(f"`{name}`{n}")
    if name in loaders.EVAL_SETS:
        st.caption(loaders.EVAL_SETS[name].capitalize() + ".")
    sections = []

    st.markdown("#### Verdict")
    v = show_verdict(df, name)
    if v:
        sections.append(v)

    st.markdown("#### Scores and training budgets")
    budgets = common.budgets()
    models = [m for m in df["model"] if m not in loaders.REFERENCE_ROWS]
    table = with_budgets(df, budgets)
    st.table(figures.style_table(table, labelled=True), hide_index=True)
    made = "Made by " + loaders.made_by(folder, meta)
    notes = [made, "Green: the best model per metric, where it beats gray (arrows say which way is better; the "
             "gray and ground-truth rows are references and never win). Budgets: what each model's weights were "
             "trained on in total (weights/<model>/config.json); they differ a lot, and a comparison is only as "
             "fair as they are."]
    random = df.loc[df["weights"].astype(str) == "random", "model"].tolist() if "weights" in df else []
    if random:
        notes.append(f"Scored with random weights (no trained weights when it ran): {', '.join(random)}.")
    hw = hardware_note(budgets, models)
    if hw:
        notes.append(hw)
    st.caption("  \n".join(notes))
    definitions = (meta or {}).get("metrics") if isinstance(meta, dict) else None
    if isinstance(definitions, dict) and definitions:
        with st.expander("How each metric is computed (meta.json)"):
            st.markdown("\n".join(f"- **{labels.label(c)}**: {d}" for c, d in definitions.items()))
    sections.append({"heading": f"Scores and training budgets on {name}",
                     "table": figures.style_table(table, labelled=True), "caption": " ".join(notes)})

    st.markdown("#### One metric across the models")
    metric = st.selectbox("Metric", [m for m in loaders.METRICS if m in df.columns and df[m].notna().any()],
                          key=f"metric_{name}", format_func=labels.label)
    colours = figures.colour_map(list(df["model"]) + common.model_names())
    shown = [figures.metric_bar_figure(df, metric, colours)]
    per = common.per_image(name)
    if per is not None and metric in per.columns:
        shown.append(figures.per_image_figure(per, metric, colours))
    for col, fig, key in zip(st.columns(2), shown, (f"bar_{name}", f"box_{name}")):
        col.plotly_chart(fig, key=key)
    if len(shown) == 1:
        st.caption(f"No per-image `{metric}` in {name}/per_image.csv.")
    if metric in labels.REWARDS:
        st.caption(labels.REWARDS[metric])
    sections.append({"heading": f"{labels.label(metric)} across the models", "figures": shown,
                     "caption": labels.REWARDS.get(metric, "")})

    # Built only when clicked (on its own thread): the report inlines plotly.js (~5 MB).
    button.download_button("Export report (HTML)", data=lambda: report.build(f"colorcore: {name}", sections),
                           file_name=f"colorcore-{name}-report.html", mime="text/html", on_click="ignore",
                           key=f"report_{name}", icon=":material/download:",
                           help="The verdict, the tables and the figures shown, in one file that opens offline")


def main() -> None:
    st.title("Metrics")
    sets = loaders.eval_sets()
    if not sets:
        common.note(f"No evaluation results yet: `{loaders.results_dir()}` holds no `<set>/metrics.csv`. "
                    f"Make one with `{EVAL_HINT}`.")
        return
    # val-broad (the primary set) first, so the page opens on it.
    name = st.radio("Evaluation set", sets, horizontal=True, key="metrics_set", format_func=set_label,
                    label_visibility="collapsed") if len(sets) > 1 else sets[0]
    show_set(name)


main()
