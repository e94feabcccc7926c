"""Hints: how well the hint-taking models follow colour hints (results/hints/, written
by `python -m colorcore evaluate-hints`): issue 20's targets, the curve over 0 to 20
hints, the per-photo spread and the synthetic edge check."""
import streamlit as st

from dashboard import common, figures, labels, loaders, verdict

HINTS_HINT = "python -m colorcore evaluate-hints --data ../shared/data/val-broad.tar --out results/hints"
CURVES = ["psnr", "psnr_gain", "auc", "colorfulness"]
CURVE_TABLE = ["model", "hints", "images", "psnr", "psnr_gain", "auc", "colorfulness"]
number = st.column_config.NumberColumn


def missing(folder, name: str, what: str) -> None:
    """A note for an absent file (an unreadable one has had its warning from common.guard)."""
    if not (folder / name).exists():
        common.note(f"No {what}: `{folder / name}` is missing. Make it with `{HINTS_HINT}`.")


def show_targets(curve, edges) -> None:
    targets = verdict.hint_targets(curve, edges)
    st.markdown("\n\n".join(verdict.hint_summary(targets)))
    st.table(figures.style_status(targets, labelled=True), hide_index=True)
    st.caption("Issue 20's targets: mean PSNR over the photos with 1 hint above, and with 10 hints at least "
               "1.5 dB above, the same model with none; in the edge check, a hint moves the other side of an "
               f"edge by less than {verdict.LEAK_TARGET:.0%} of what it moves its own side (every scene).")


def show_curve(curve, colours) -> None:
    metric = st.radio("Curve", CURVES, format_func=labels.label, horizontal=True, key="hints_metric")
    targets = {n: least for n, least, _ in verdict.HINT_TARGETS}
    st.plotly_chart(figures.hint_curve_figure(curve, metric, colours, targets), key="hints_curve")
    st.caption("Each photo gets the first N of one fixed list of hints drawn from its own ground truth (the "
               "N-hint set holds the smaller ones), so the curve follows the same photos and hints as N grows. "
               "Triangles: where the PSNR has to reach to meet the targets.")
    table = curve[[c for c in CURVE_TABLE if c in curve.columns]]
    st.dataframe(table, hide_index=True, key="hints_table", placeholder="–",
                 column_config=common.column_config(
                     table.columns, psnr=number(labels.label("psnr"), format="%.2f"),
                     psnr_gain=number(labels.label("psnr_gain"), format="%+.2f"),
                     auc=number(labels.label("auc"), format="%.4f"),
                     colorfulness=number(labels.label("colorfulness"), format="%.1f")))


def show_spread(folder, colours) -> None:
    per = common.hints("per_image.csv")
    if per is None:
        missing(folder, "per_image.csv", "per-photo scores")
        return
    counts = sorted(c for c in per["hints"].unique() if c > 0)
    if 0 not in set(per["hints"]) or not counts:
        common.note(f"`{folder / 'per_image.csv'}` needs rows with 0 hints and with some: no gain to show.")
        return
    n = st.select_slider("Hints", counts, value=10 if 10 in counts else counts[-1], key="hints_n")
    gains = verdict.hint_gains(per, n)
    left, right = st.columns(2)
    left.plotly_chart(figures.per_image_figure(gains, "psnr_gain", colours, f"PSNR gain per photo with {n} hints",
                                               line=0), key="hints_spread")
    spread = verdict.gain_spread(gains)
    right.dataframe(spread, hide_index=True, key="hints_spread_table", placeholder="–",
                    column_config=common.column_config(
                        spread.columns, median_gain=number(labels.label("median_gain"), format="%+.2f"),
                        p10_gain=number(labels.label("p10_gain"), format="%+.2f"),
                        share_worse=number(labels.label("share_worse"), format="percent")))
    right.caption(f"Each photo's PSNR gain with {n} hints over its PSNR with none: the median, the 10th "
                  "percentile (the gain 90% of the photos reach) and the share of photos that got worse (PSNR fell).")


def show_edges(folder, edges, meta) -> None:
    if edges is None:
        missing(folder, "edges.csv", "edge check")
        return
    table = edges[[c for c in ("model", "case", "hinted_change", "other_change", "leak") if c in edges.columns]]
    table = table.assign(status=[verdict.leak_status(v) for v in table["leak"]])
    styled = figures.style_status(table).format({"hinted_change": "{:.2f}", "other_change": "{:.2f}",
                                                 "leak": "{:.1%}"}, na_rep="–")
    st.dataframe(styled, hide_index=True, key="hints_edges", column_config=common.column_config(table.columns))
    how = (meta or {}).get("edges") or "two flat regions split by an edge, one hint in one of them"
    st.caption(f"{how[0].upper()}{how[1:]}. Target: a leak below {verdict.LEAK_TARGET:.0%} in every scene.")


def show_provenance(meta) -> None:
    if not meta:
        return
    with st.expander("Models and protocol (meta.json)"):
        lines = [f"- **{m}**: `{i.get('source', '?')}`, sha256 `{str(i.get('sha256') or '?')[:12]}`, net size "
                 f"{i.get('net_size', '?')}, temperature {i.get('temperature', '?')}"
                 for m, i in (meta.get("models") or {}).items() if isinstance(i, dict)]
        if meta.get("protocol"):
            lines.append(f"- Protocol: {meta['protocol']}")
        if meta.get("wall_seconds") is not None:
            lines.append(f"- Took {meta['wall_seconds']} s.")
        st.markdown("\n".join(lines))


def main() -> None:
    st.title("Hints")
    folder = loaders.hints_dir()
    curve = common.hints("curve.csv")
    if curve is None:
        missing(folder, "curve.csv", "hint evaluation yet")
        return
    if curve.empty:
        common.note(f"`{folder / 'curve.csv'}` has no rows.")
        return
    meta = common.meta(folder / "meta.json")
    st.caption("Made by " + loaders.hints_made_by(folder, meta))
    colours = figures.colour_map(list(curve["model"]) + common.model_names())
    edges = common.hints("edges.csv")

    st.subheader("Targets")
    show_targets(curve, edges)
    st.subheader("PSNR against the number of hints")
    show_curve(curve, colours)
    st.subheader("Per photo")
    show_spread(folder, colours)
    st.subheader("Edge check")
    show_edges(folder, edges, meta)
    show_provenance(meta)


main()
