"""`python -m colorcore colorize INPUT... --model NAME --out DIR`: every input
file, or every image in an input folder, becomes DIR/<stem>.png. A bad file gets
one line on stderr and a non-zero exit; the good ones are still done."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from .data import IMAGE_SUFFIXES
from .io import ImageError


def collect_inputs(inputs: list[str]) -> tuple[list[Path], list[str]]:
    """Files named directly are taken whatever their suffix (a bad one will say so);
    folders contribute the image files inside them, sorted."""
    files, errors = [], []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.exists():
            files.append(p)
        else:
            errors.append(f"{item}: no such file or folder")
    return files, errors


def output_names(files: list[Path]) -> list[str]:
    """<stem>.png, disambiguated when two inputs share a stem (a.jpg, a.png)."""
    seen: dict[str, int] = {}
    names = []
    for f in files:
        n = seen.get(f.stem, 0)
        seen[f.stem] = n + 1
        names.append(f"{f.stem}.png" if n == 0 else f"{f.stem}-{n + 1}.png")
    return names


def save_atomically(image, path: Path, pnginfo=None) -> None:
    """Write to a temporary file beside the target, then rename: never a partial PNG."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG", pnginfo=pnginfo)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(inputs: list[str], model: str, out: str, temperature: float | None = None, seed: int | None = None,
        device: str | None = None, fade: bool = True, vividness: float | None = None) -> int:
    from .hub import WeightsCorrupt, WeightsNotFound
    from .pipeline import load_colorizer
    from .png_stamp import stamp

    if vividness is not None and not 0 <= vividness <= 3:
        print(f"error: --vividness {vividness}: use 0 (gray) to 3", file=sys.stderr)
        return 2
    files, errors = collect_inputs(inputs)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    try:
        colorizer = load_colorizer(model, device=device)
    except (KeyError, WeightsNotFound, WeightsCorrupt) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = len(errors)
    info = stamp(colorizer, temperature, vividness, seed, fade)
    for f, name in tqdm(list(zip(files, output_names(files))), desc=f"colorizing ({colorizer.spec.name})",
                        unit="img", disable=len(files) < 2):
        try:
            save_atomically(colorizer.colorize(f, temperature=temperature, seed=seed, fade=fade,
                                                  vividness=vividness), out_dir / name, info)
        except ImageError as e:
            failed += 1
            tqdm.write(f"error: {e}", file=sys.stderr)
        except Exception as e:  # noqa: BLE001 - one photo's failure never stops the batch
            failed += 1
            tqdm.write(f"error: {f}: {type(e).__name__}: {e}", file=sys.stderr)
    if not files and not errors:
        print("error: no images found in the inputs", file=sys.stderr)
        return 1
    return 1 if failed else 0
