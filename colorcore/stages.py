"""Wall time per named step of a colorization (Colorizer.run, `bench`'s breakdown)."""
from __future__ import annotations

import contextlib
import time


class Stages(dict):
    """{step: seconds}, summed over every `with stages("step"):` block."""

    @contextlib.contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - start


def timed(stages: Stages | None, name: str):
    """stages(name), or nothing where no one is timing."""
    return contextlib.nullcontext() if stages is None else stages(name)
