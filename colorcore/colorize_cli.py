"""`python -m colorcore colorize INPUT... --model NAME --out DIR`: every input
file, or every image in an input folder, becomes DIR/<stem>.png. A bad file gets
one line on stderr and a non-zero exit; the good ones are still done. Decoding and
writing overlap the net, which takes the photos in batches (colorcore.batch_colorize);
the images per second are reported at the end.

Under `torchrun --nproc_per_node N` (one machine or several) each process takes
every N-th input and writes its own outputs; all wait for each other before the
exit status, so that one process's bad file never cuts the others' work short.

`--hints FILE.json` colorizes one photo with colour hints (colorcore.hints), a JSON list
of [x, y, "#rrggbb"]."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .batch_colorize import BATCH, colorize_files
from .data import IMAGE_SUFFIXES
from .distributed import all_agree, local_device, process_group, rank_and_world, share


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


def read_hints(path: str) -> list:
    """--hints FILE.json: a JSON list of [x, y, "#rrggbb"]; ValueError naming the file."""
    try:
        hints = json.loads(Path(path).read_text())
    except OSError as e:
        raise ValueError(f"--hints {path}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"--hints {path}: not JSON ({e})") from None
    if not isinstance(hints, list):
        raise ValueError(f'--hints {path}: expected a JSON list of [x, y, "#rrggbb"]')
    return hints


def colorize_hinted(colorizer, source: Path, target: Path, hints: list, options: dict, pnginfo) -> str | None:
    """One photo with its hints (the batched path takes none); the error line, or None."""
    from .batch_colorize import save_atomically
    from .io import ImageError

    try:
        save_atomically(colorizer.colorize(source, hints=hints, **options), target, pnginfo)
    except (ImageError, ValueError) as e:
        return f"{source}: {e}"
    return None


def run(inputs: list[str], model: str, out: str, temperature: float | None = None, seed: int | None = None,
        device: str | None = None, fade: bool = True, vividness: float | None = None, runtime: str = "auto",
        batch: int = BATCH, hints: str | None = None) -> int:
    from .hub import WeightsCorrupt, WeightsNotFound
    from .onnx_export import OnnxExportError
    from .onnx_runtime import RuntimeUnavailable
    from .pipeline import load_colorizer
    from .png_stamp import stamp

    if vividness is not None and not 0 <= vividness <= 3:
        print(f"error: --vividness {vividness}: use 0 (gray) to 3", file=sys.stderr)
        return 2
    if batch < 1:
        print(f"error: --batch {batch}: use 1 or more photos per forward pass", file=sys.stderr)
        return 2
    rank, world = rank_and_world()
    files, errors = collect_inputs(inputs)
    if hints is not None:
        if len(files) + len(errors) != 1 or world > 1:
            print("error: --hints applies to one photo: give one input file", file=sys.stderr)
            return 2
        try:
            hint_list = read_hints(hints)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    for e in errors if rank == 0 else ():
        print(f"error: {e}", file=sys.stderr)
    try:
        on = device or ("cpu" if runtime == "onnx" else None)  # ONNX Runtime's CPU build, GPU or not
        colorizer = load_colorizer(model, device=local_device(on), runtime=runtime)
    except (KeyError, WeightsNotFound, WeightsCorrupt, RuntimeUnavailable, OnnxExportError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    try:
        colorizer.check_hints(hint_list if hints is not None else None)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(f, out_dir / name) for f, name in share(list(zip(files, output_names(files))), rank, world)]
    options = {"temperature": temperature, "seed": seed, "fade": fade, "vividness": vividness}
    if hints is not None:
        if errors:
            return 1
        (source, target), = jobs
        failure = colorize_hinted(colorizer, source, target, hint_list, options,
                                  stamp(colorizer, temperature, vividness, seed, fade, hints=len(hint_list)))
        print(f"error: {failure}" if failure else f"colorized {source} with {len(hint_list)} hint(s) into {target}",
              file=sys.stderr)
        return 1 if failure else 0
    with process_group(colorizer.device.type):
        report = colorize_files(colorizer, jobs, options, stamp(colorizer, temperature, vividness, seed, fade),
                                batch, progress=rank == 0 and len(files) > 1)
        all_ok = all_agree(not report.failed and not errors, world)
    if report.done:
        who = f"process {rank} of {world}: " if world > 1 else ""
        print(f"{who}colorized {report.done} image(s) in {report.seconds:.2f} s, {report.images_per_second:.1f} "
              f"images/s ({colorizer.spec.name} on {colorizer.runtime}, batches of {batch})", file=sys.stderr)
    if not files and not errors:
        print("error: no images found in the inputs", file=sys.stderr)
        return 1
    return 0 if all_ok else 1
