"""Speed: latency against megapixels per model (results/bench.csv)."""
import streamlit as st

from dashboard import common, figures, labels, loaders

BENCH_HINT = "python -m colorcore bench --models all --out results/bench.csv"
# ratio_vs_reference is left out: it is 1 / speed-up.
TABLE = ["model", "weights", "device", "threads", "size", "latency_median_s", "latency_p90_s", "speedup_vs_reference",
         "throughput_img_s", "peak_rss_mb", "cuda_max_alloc_mb", "params", "weights_mb_fp16"]


def main() -> None:
    st.title("Speed")
    path = common.bench_path()
    df = common.bench()
    if df is None:
        if not path.exists():
            common.note(f"No speed results yet: `{path}` is missing. Make it with `{BENCH_HINT}`.")
        return
    if df.empty:
        common.note(f"`{path}` has no rows.")
        return
    devices = list(dict.fromkeys(df["device"]))
    c1, c2, c3 = st.columns(3)
    device = c1.radio("Device", devices, horizontal=True, key="speed_device") if len(devices) > 1 else devices[0]
    metric = c2.radio("Plot", [m for m in ("latency_median_s", "peak_rss_mb", "cuda_max_alloc_mb")
                                if m in df and df.loc[df["device"] == device, m].notna().any()],
                      format_func={"latency_median_s": "latency", "peak_rss_mb": "peak memory (RSS)",
                                   "cuda_max_alloc_mb": "CUDA memory"}.get, horizontal=True, key="speed_metric")
    log_axes = c3.toggle("Log axes", value=True, key="speed_log")
    colours = figures.colour_map(list(df["model"]) + common.model_names())
    st.plotly_chart(figures.latency_figure(df, device, colours, log_axes, metric), key="speed_latency")
    meta = common.meta(path.with_suffix(".meta.json"))
    st.caption("Made by " + loaders.bench_made_by(path, meta) + "  \n`colorize(PIL image)` end to end (decode not "
               "timed); the dashed line is the reference architecture (full-width eccv16, random weights) on one "
               "256x256 photo in the same run, the dotted one 20x faster than it.")
    ref = df[df["reference"] & (df["device"] == device)]
    if ref.empty:
        common.note("No reference row for this device in bench.csv, so no reference line.")
    d = df[df["device"] == device]
    table = d[[c for c in TABLE if c in d.columns]]
    # Columns with one value for every row go into a line, so the rest fit the page's width.
    table = table.dropna(axis=1, how="all")
    same = [c for c in table.columns if c != "model" and table[c].nunique(dropna=False) == 1]
    if same:
        st.caption("Every row: " + ", ".join(f"{labels.label(c)} {table[c].iloc[0]}" for c in same) + ".")
    table = table.drop(columns=same)
    number = st.column_config.NumberColumn
    st.dataframe(table, hide_index=True, key="speed_table", placeholder="–",
                 column_config=common.column_config(
                     table.columns,
                     latency_median_s=number(labels.label("latency_median_s"), format="%.4f"),
                     latency_p90_s=number(labels.label("latency_p90_s"), format="%.4f"),
                     ratio_vs_reference=number(labels.label("ratio_vs_reference"), format="%.3f"),
                     speedup_vs_reference=number(labels.label("speedup_vs_reference"), format="%.1f×"),
                     throughput_img_s=number(labels.label("throughput_img_s"), format="%.1f"),
                     peak_rss_mb=number(labels.label("peak_rss_mb"), format="%.0f"),
                     weights_mb_fp16=number(labels.label("weights_mb_fp16"), format="%.1f"),
                     params=number(labels.label("params"), format="compact"),
                     megapixels=number(labels.label("megapixels"), format="%.3f")))

main()
