"""Colorizing many files: the CLI's `colorize` and `bench`'s folder throughput.

Decoding (and the lightness) runs ahead on threads, the net takes the photos in batches,
and composing, PNG encoding and writing run behind it on threads, so that no core waits
while one step waits on another. On ONNX Runtime there is one batch in flight per core,
each on a one-thread session; PyTorch's net takes one batch at a time on all its threads.
The net sees every photo at its own net size, so photos of any sizes share a batch.

A photo's pixels are those that colorize() gives it alone: on ONNX Runtime the net's
output depends neither on the batch nor on the session's threads; PyTorch's kernels may
differ in the last bits between batch sizes, at most one 8-bit level on a few pixels
(tests/test_batch_colorize.py holds both).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from .io import ImageError, load_image
from .render import lightness, render_full

BATCH = 8  # photos per forward pass
# Decoded photos not yet written: about this many pixels at most (two 12 MP photos: with
# their lightness, upsampled ab and 8-bit results, a folder of them peaks under a gigabyte).
FLIGHT_PIXELS = 24_000_000
# PNG's fastest deflate: 2.5-3x faster to write than the default level 6, for files 5-20% larger
# (the same pixels); writing, not colorizing, otherwise dominates a large photo.
PNG_COMPRESS_LEVEL = 1


@dataclass
class _Photo:
    source: Path
    target: Path
    L: torch.Tensor | None = None  # full-size lightness
    x: torch.Tensor | None = None  # the net's input
    error: str | None = None

    @property
    def pixels(self) -> int:
        return 0 if self.L is None else self.L.numel()


@dataclass
class Report:
    done: int
    failed: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


def save_atomically(image: Image.Image, path: Path, pnginfo=None) -> None:
    """Write a PNG to a temporary file beside the target, then rename: never a partial PNG."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG", pnginfo=pnginfo, compress_level=PNG_COMPRESS_LEVEL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _failure(source: Path, e: Exception) -> str:
    return str(e) if isinstance(e, ImageError) else f"{source}: {type(e).__name__}: {e}"


def _decode(colorizer, photo: _Photo) -> _Photo:
    try:
        photo.L = lightness(np.asarray(load_image(photo.source)))
        photo.x = colorizer.to_net(photo.L)
    except Exception as e:  # noqa: BLE001 - one photo's failure never stops the batch
        photo.error = _failure(photo.source, e)
    return photo


def _write(photo: _Photo, ab: torch.Tensor, pnginfo) -> None:
    save_atomically(Image.fromarray(render_full(photo.L, ab), "RGB"), photo.target, pnginfo)


def colorize_files(colorizer, jobs: list[tuple[Path, Path]], options: dict, pnginfo=None, batch: int = BATCH,
                   progress: bool = False) -> Report:
    """Colorize each (input, output PNG) with Colorizer.predict's options (temperature,
    seed, fade, vividness); a failure is one line on stderr, and the rest are done."""
    threads = max(1, torch.get_num_threads())
    # On ONNX Runtime, one batch per core on one-thread sessions: on small photos that keeps
    # the cores busier than one batch at a time on all of them. PyTorch's net runs one batch
    # at a time on its own threads.
    nets = threads if colorizer.graph is not None else 1
    net = colorizer if nets == 1 else replace(colorizer, graph=colorizer.graph.one_thread())
    photos = deque(_Photo(Path(s), Path(t)) for s, t in jobs)
    ahead: deque[Future] = deque()  # decodes, in input order
    running: deque[tuple[list[_Photo], Future]] = deque()  # batches on the net
    behind: deque[tuple[_Photo, Future]] = deque()  # writes
    waiting: list[_Photo] = []  # decoded, for the next batch
    done = failed = 0
    start = time.perf_counter()
    bar = tqdm(total=len(photos), desc=f"colorizing ({colorizer.spec.name})", unit="img", disable=not progress)

    def fail(message: str) -> None:
        nonlocal failed
        failed += 1
        bar.update()
        tqdm.write(f"error: {message}", file=sys.stderr)

    def in_flight() -> int:
        return (sum(f.result().pixels for f in ahead if f.done()) + sum(p.pixels for p in waiting)
                + sum(p.pixels for b, _ in running for p in b) + sum(p.pixels for p, _ in behind))

    def finish_batches(keep: int) -> None:
        while len(running) > keep:
            members, prediction = running.popleft()
            try:
                ab = prediction.result()["ab"]
            except Exception as e:  # noqa: BLE001 - one batch's failure never stops the rest
                for p in members:
                    fail(_failure(p.source, e))
                continue
            for i, p in enumerate(members):
                p.x = None
                behind.append((p, writers.submit(_write, p, ab[i:i + 1], pnginfo)))

    def finish_writes(keep: int) -> None:
        nonlocal done
        while len(behind) > keep:
            photo, write = behind.popleft()
            try:
                write.result()
                done += 1
                bar.update()
            except Exception as e:  # noqa: BLE001
                fail(_failure(photo.source, e))

    with ThreadPoolExecutor(threads, "colorcore-decode") as decoders, \
            ThreadPoolExecutor(nets, "colorcore-net") as predictors, \
            ThreadPoolExecutor(threads, "colorcore-write") as writers:
        while photos or ahead or waiting:
            # Decode ahead: this batch and the next, within the memory budget.
            while photos and len(ahead) < 2 * batch and (not ahead or in_flight() < FLIGHT_PIXELS):
                ahead.append(decoders.submit(_decode, colorizer, photos.popleft()))
            if ahead:
                photo = ahead.popleft().result()
                if photo.error:
                    fail(photo.error)
                else:
                    waiting.append(photo)
            full = len(waiting) >= batch or sum(p.pixels for p in waiting) >= FLIGHT_PIXELS // 3
            if waiting and (full or not (photos or ahead)):
                x = torch.cat([p.x for p in waiting])
                running.append((waiting, predictors.submit(net.predict, x, **options)))
                waiting = []
                finish_batches(keep=nets - 1)
                # Composing may lag the net by a little, never by a folder.
                while len(behind) > 2 * threads or (len(behind) > 1 and in_flight() > FLIGHT_PIXELS):
                    finish_writes(keep=len(behind) - 1)
        finish_batches(keep=0)
        finish_writes(keep=0)
    bar.close()
    return Report(done, failed, time.perf_counter() - start)
