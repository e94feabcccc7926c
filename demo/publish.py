"""Publish the demo as a Hugging Face Space (and, first, the weights it reads).

    python demo/publish.py --weights                        # weights/<model>/ -> each model's Hub repo
    python demo/publish.py --space OWNER/NAME               # the Space itself
    python demo/publish.py --stage DIR                      # only build the Space's files in DIR, offline

The Space is this repository's colorcore/ and demo/ plus requirements.txt, with a
README.md made at each publish: demo/README.md (its front matter holds what no code
decides: title, sdk, app_file, suggested_hardware) plus `sdk_version`, `models:` and
`preload_from_hub:` from the installed gradio and the model registry, so adding a
model leaves every committed file as it was. The Space names the shipped models
(weights/<name>/ in this repository), the ones --weights uploads: a model without
weights yet has nothing on the Hub to preload, and the demo lists it as such.
Weights are not uploaded with the Space: the app takes them from the model repos.
Needs a token with write access (`hf auth login`, or HF_TOKEN).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from colorcore.hub import CONFIG_FILE, WEIGHTS_FILE, repo_weights  # noqa: E402
from colorcore.models import ModelSpec, all_specs  # noqa: E402

CARD = ROOT / "demo" / "README.md"
SPACE_FILES = ("colorcore", "demo", "requirements.txt")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "README.md", "publish.py")


def shipped(spec: ModelSpec) -> bool:
    """Whether this repository ships the model's weights (weights/<name>/model.safetensors)."""
    return (repo_weights() / spec.name / WEIGHTS_FILE).is_file()


def generated_front_matter() -> str:
    """The front-matter lines that follow the code: gradio's version and the model repos."""
    import gradio

    specs = sorted(filter(shipped, all_specs()), key=lambda s: s.hub_repo)
    lines = ["# written by demo/publish.py from the installed gradio and the model registry\n",
             f"sdk_version: {gradio.__version__}\n", "models:\n"]
    lines += [f"  - {s.hub_repo}\n" for s in specs]
    lines += ["preload_from_hub:  # fetched when the Space is built, so the first visitor does not wait\n"]
    lines += [f"  - {s.hub_repo} {CONFIG_FILE},{WEIGHTS_FILE}" + (f" {s.hub_revision}" if s.hub_revision else "")
              + "\n" for s in specs]
    return "".join(lines)


def render_card() -> str:
    """The Space's README.md: demo/README.md with the generated lines closing its front matter."""
    text = CARD.read_text()
    front, end, body = text.partition("\n---\n")  # the line that closes the front matter
    if not text.startswith("---\n") or not end:
        raise SystemExit(f"{CARD}: no front matter (a first line '---' and a closing '---')")
    return f"{front}\n{generated_front_matter()}---\n{body}"


def stage(out: Path) -> Path:
    """Lay out the Space's files in out (emptied first)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in SPACE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, out / name, ignore=SKIP)
        else:
            shutil.copy2(src, out / name)
    (out / "README.md").write_text(render_card())
    return out


def publish_weights(api, private: bool) -> None:
    for spec in all_specs():
        folder = repo_weights() / spec.name
        if not shipped(spec):
            print(f"skip {spec.name}: no {folder / WEIGHTS_FILE}")
            continue
        api.create_repo(spec.hub_repo, repo_type="model", private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=spec.hub_repo, repo_type="model",
                          commit_message=f"{spec.name} weights from colorcore")
        print(f"uploaded {folder} -> https://huggingface.co/{spec.hub_repo}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--space", help="OWNER/NAME of the Space to create or update")
    p.add_argument("--weights", action="store_true", help="upload weights/<model>/ to each model's Hub repo")
    p.add_argument("--stage", type=Path, help="only write the Space's files to this folder")
    p.add_argument("--private", action="store_true")
    args = p.parse_args(argv)
    if args.stage:
        print(f"staged the Space in {stage(args.stage)}")
    if args.weights or args.space:
        from huggingface_hub import HfApi

        api = HfApi()
        if args.weights:
            publish_weights(api, args.private)
        if args.space:
            with tempfile.TemporaryDirectory() as tmp:
                folder = stage(Path(tmp) / "space")
                api.create_repo(args.space, repo_type="space", space_sdk="gradio", private=args.private,
                                exist_ok=True)
                api.upload_folder(folder_path=str(folder), repo_id=args.space, repo_type="space",
                                  commit_message="colorcore demo")
            print(f"published https://huggingface.co/spaces/{args.space}")
    if not (args.stage or args.weights or args.space):
        p.print_help()


if __name__ == "__main__":
    main()
