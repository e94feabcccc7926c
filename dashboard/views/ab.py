"""ab distributions: where in the ab plane each model puts its colours, against the
ground truth (results/<set>/ab_hist.npz)."""
import streamlit as st

from dashboard import common, figures, loaders


def flagship() -> str:
    from colorcore.models import resolve

    return resolve("default")

THRESHOLDS = [0.0, 1e-7, 1e-6, 1e-5, 1e-4]


def main() -> None:
    st.title("ab distributions")
    sets = [s for s in loaders.eval_sets() if (common.set_folder(s) / "ab_hist.npz").is_file()]
    if not sets:
        common.note(f"No ab histograms yet: no `<set>/ab_hist.npz` in `{loaders.results_dir()}`. "
                    "`python -m colorcore evaluate ... --out results/val` writes one.")
        return
    name = st.selectbox("Evaluation set", sets, key="ab_set") if len(sets) > 1 else sets[0]
    hist = common.ab_hist(name)
    if hist is None:
        return
    if loaders.GROUND_TRUTH not in hist.hist:
        common.note(f"{name}/ab_hist.npz has no ground-truth histogram, so there is nothing to compare with.")
        return
    rows = hist.models + [r for r in (loaders.GRAY,) if r in hist.hist]
    if not hist.models:
        common.note(f"{name}/ab_hist.npz holds only the reference rows: no model was scored in this set.")
    if not rows:
        return
    colours = figures.colour_map(hist.rows + common.model_names())
    plane = common.plane(hist.centres)
    first = flagship()  # the page opens on the flagship
    model = st.selectbox("Model", rows, key="ab_model", index=rows.index(first) if first in rows else 0)
    pixels = f" over {hist.pixels:,} pixels" if hist.pixels else ""

    st.subheader("2-D ab histograms")
    st.plotly_chart(figures.ab_histograms_figure({"ground truth": hist.hist[loaders.GROUND_TRUTH],
                                                  model: hist.hist[model]}, hist.centres, plane), key="ab_pair")
    st.caption(f"Set `{name}`{pixels}, 1-unit ab bins. Each cell is drawn in the colour it stands for (L = "
               f"{figures.PLANE_L:g}); its opacity is the log10 share of pixels in it, from "
               f"{figures.DENSITY_FLOOR:g} (faint) to the largest share in either panel (opaque): the bar on the "
               "right. Black: no pixel at all.")

    st.subheader("a and b marginals")
    overlay = st.multiselect("Overlay", rows, default=[model], key="ab_overlay")
    log_y = st.toggle("Log scale", value=True, key="ab_log")
    shown = [loaders.GROUND_TRUTH] + [r for r in overlay if r != loaders.GROUND_TRUTH]
    st.plotly_chart(figures.marginals_figure({r: (hist.a[r], hist.b[r]) for r in shown}, hist.centres, colours, log_y),
                    key="ab_marginals")

    st.subheader("Ground-truth colours a model never produces")
    c1, c2 = st.columns(2)
    threshold = c1.select_slider("A model 'never' goes to a cell when its share there is at most", THRESHOLDS,
                                 value=0.0, format_func=lambda t: "0 (no pixel at all)" if t == 0 else f"{t:g}",
                                 key="ab_threshold")
    cell = c2.select_slider("Cell size (ab units)", [1, 2, 5, 10], value=1, key="ab_cell")
    gt = hist.hist[loaders.GROUND_TRUTH]
    shares = {r: figures.uncovered_share(gt, hist.hist[r], threshold, cell) for r in rows}
    left, right = st.columns([2, 3])
    left.plotly_chart(figures.uncovered_bar_figure(shares, colours), key="ab_uncovered_bar")
    right.plotly_chart(figures.uncovered_map_figure(gt, hist.hist[model], hist.centres, model, threshold, cell, plane),
                       key="ab_uncovered_map")
    st.caption("A desaturated model leaves the outer rings of the ground truth uncovered; a sepia-biased one "
               "leaves the blues and greens (a < 0, b < 0).")

    st.subheader("Summary")
    stats = figures.ab_stats({r: hist.hist[r] for r in [loaders.GROUND_TRUTH] + rows}, hist.centres, threshold, cell)
    st.dataframe(stats.style.format({c: "{:.3f}" for c in stats.columns if c != "row"}), hide_index=True,
                 key="ab_stats", column_config=common.column_config(stats.columns))
    st.caption("Mean a / mean b: the centre of mass (sepia: b > 0 with a near 0); mean chroma: mean √(a²+b²) "
               "(desaturation: far below the ground truth's); overlap with truth: Σ min(model, ground truth), "
               "1 = the same distribution; truth's colour never reached: the share of the ground truth's ab mass "
               "in cells where the row never goes (the threshold and cell size above).")


main()
