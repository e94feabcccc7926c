"""Training: loss terms and validation metrics over steps, from
weights/<model>/train_log.csv and runs/<run>/train_log.csv (in progress)."""
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import common, figures, labels, loaders


def val_title(column: str) -> str:
    """'val_auc' -> 'val AuC ↑': the evaluation metric's label, arrow included."""
    return "val " + labels.label(column.removeprefix("val_"))


def shown_path(path) -> str:
    root = loaders.root()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def summary(logs: dict, found: dict) -> pd.DataFrame:
    """One row per run: how far it got, its latest loss and validation (where its log
    is goes in a caption: a path column pushed the table past the page's width)."""
    rows = []
    for label, df in logs.items():
        last = df.iloc[-1]
        row = {"run": label, "status": found[label].status,
               "step": int(last["step"]), "epoch": last.get("epoch"),
               "hours": float(last["wall_s"]) / 3600 if "wall_s" in df and pd.notna(last.get("wall_s")) else np.nan,
               "images/s": df["images_per_s"].tail(10).mean() if "images_per_s" in df else np.nan,
               "loss": last.get("loss")}
        for c in loaders.val_metrics(df):
            row[c] = df[c].dropna().iloc[-1]
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    st.title("Training")
    found = {t.label: t for t in loaders.find_train_logs()}
    logs = {}
    for label, t in found.items():
        df = common.train_log(t.path)
        if df is not None and not df.empty:
            logs[label] = df
        elif df is not None:
            common.note(f"`{t.path}` has no rows yet.")
    names = common.model_names()
    without = [m for m in names if not any(figures.base_model(label) == m for label in logs)]
    if not logs:
        common.note(f"No training logs yet: no `weights/*/train_log.csv` or `runs/*/train_log.csv` under "
                    f"`{loaders.root()}`. `python -m colorcore train --config configs/<model>.toml` writes one.")
        return
    if without:
        st.caption("No training log for: " + ", ".join(f"`{m}`" for m in without) + ".")

    chosen = st.multiselect("Runs", list(logs), default=list(logs), key="train_runs",
                            help="weights/<model>/ holds a finished model's log; runs/<run>/ one still training")
    if not chosen:
        common.note("Pick at least one run.")
        return
    logs = {k: logs[k] for k in chosen}
    colours = figures.colour_map([figures.base_model(k) for k in logs] + names)
    c1, c2, c3 = st.columns(3)
    smoothing = c1.slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="train_smoothing",
                          help="exponential moving average weight (0 = raw); the raw curve stays faint behind")
    x = c2.radio("x axis", ["step", "wall_s"], format_func=figures.X_AXES.get, horizontal=True, key="train_x")
    log_y = c3.toggle("Log-scale losses", value=True, key="train_logy")

    table = summary(logs, found)
    st.caption("Logs: " + ", ".join(f"`{shown_path(found[k].path)}`" for k in logs) + ".")
    st.dataframe(table, hide_index=True, key="train_summary", placeholder="–",
                 column_config=common.column_config(
                     [c for c in table.columns if c.startswith("val_")],
                     hours=st.column_config.NumberColumn(format="%.2f"),
                     **{"images/s": st.column_config.NumberColumn(format="%.1f")},
                     loss=st.column_config.NumberColumn(format="%.4f"),
                     **{c: st.column_config.NumberColumn(val_title(c), format="%.4g")
                        for c in table.columns if c.startswith("val_")}))

    vals = sorted({c for df in logs.values() for c in loaders.val_metrics(df)})
    st.subheader("Validation metrics")
    if vals:
        cols = st.columns(min(3, len(vals)))
        for i, c in enumerate(vals):
            cols[i % len(cols)].plotly_chart(
                figures.curves_figure(logs, c, 0.0, x, colours, markers=True, title=val_title(c)),
                key=f"val_{c}")
    else:
        common.note("No validation rows in these logs yet (they come every `val_every` steps).")

    st.subheader("Losses")
    by = st.radio("Group", ["by loss term (runs overlaid)", "by run (its terms overlaid)"], horizontal=True,
                  key="train_group")
    if by.startswith("by loss term"):
        terms = sorted({t for df in logs.values() for t in loaders.loss_terms(df)}, key=lambda t: (t != "loss", t))
        cols = st.columns(2)
        for i, term in enumerate(terms):
            which = [k for k, df in logs.items() if term in loaders.loss_terms(df)]
            cols[i % 2].plotly_chart(figures.curves_figure({k: logs[k] for k in which}, term, smoothing, x, colours,
                                                           log_y=log_y), key=f"loss_{term}")
    else:
        run = st.selectbox("Run", list(logs), key="train_run")
        df = logs[run]
        terms = loaders.loss_terms(df)
        normalise = st.toggle("Divide each term by its first value", value=True, key="train_norm")
        st.plotly_chart(figures.run_terms_figure(df, terms, run, smoothing, x, normalise), key="run_terms")

    with st.expander("Learning rate and throughput"):
        cols = st.columns(2)
        cols[0].plotly_chart(figures.curves_figure(logs, "lr", 0.0, x, colours, log_y=True, title="learning rate"),
                             key="train_lr")
        cols[1].plotly_chart(figures.curves_figure(logs, "images_per_s", smoothing, x, colours,
                                                   title="training images per second"), key="train_ips")


main()
