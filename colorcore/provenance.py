"""What a model's shipped weights were trained on, from their config.json, in one
place for the cards, the dashboard and the CLI: a comparison between models must
say how unequal their budgets are. No torch here."""
from __future__ import annotations

# The shared photo sets (../shared/data/SOURCES.md); weights exported before the
# version was recorded were trained on version 1.
DATA_VERSIONS = {
    1: "version 1: 17,016 photos from 13 sources, dominated by scenes, flowers, cats and dogs",
    2: "version 2: 21,272 photos from 25 sources (everyday objects, people, streets, animals, food added)",
}
STARTED_FROM = "started_from.json"  # written into a fine-tune's run folder, carried into config.json


def own_budget(config: dict) -> dict:
    """This run's own steps, images, wall time and data, without what it started from."""
    steps = int(config.get("steps") or 0)
    return {"data_version": int(config.get("data_version", 1)), "steps": steps,
            "images_seen": steps * int(config.get("batch") or 0), "wall_s": float(config.get("wall_s") or 0.0)}


def training_budget(config: dict) -> dict:
    """Totals over the run and the runs it was fine-tuned from: data version(s),
    steps, images seen, hours, and the hardware of the last run."""
    own = own_budget(config)
    prior = config.get("started_from") or {}
    versions = sorted({own["data_version"], *prior.get("data_versions", [])})
    return {
        "data_versions": versions,
        "steps": own["steps"] + int(prior.get("steps", 0)),
        "images_seen": own["images_seen"] + int(prior.get("images_seen", 0)),
        "hours": (own["wall_s"] + float(prior.get("wall_s", 0.0))) / 3600,
        "hardware": config.get("hardware", ""),
        "fine_tuned_from": prior.get("weights", ""),
    }


def started_from(config: dict, weights: str) -> dict:
    """The record a fine-tune keeps of the weights it started from (their totals)."""
    total = training_budget(config)
    return {"weights": weights, "sha256": config.get("sha256", ""), "data_versions": total["data_versions"],
            "steps": total["steps"], "images_seen": total["images_seen"], "wall_s": round(total["hours"] * 3600, 1)}


def budget_line(config: dict) -> str:
    """One sentence: what these weights were trained on, in total."""
    b = training_budget(config)
    data = " then ".join(f"v{v}" for v in b["data_versions"])
    line = (f"data {data}, {b['steps']:,} steps, {b['images_seen']:,} images seen, "
            f"{b['hours']:.1f} h on {b['hardware'] or 'unrecorded hardware'}")
    if b["fine_tuned_from"]:
        line += f" (fine-tuned from {b['fine_tuned_from']}, whose budget is included)"
    return line
