"""Per-thread scratch arrays for colorcore.render's chunks. Numpy's temporaries there are
each a few hundred kilobytes: fresh memory from the operating system every time (page
faults, which two threads then wait on in turn), where a reused buffer costs nothing."""
from __future__ import annotations

import threading

import numpy as np

_local = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """This thread's array `name` of that shape; its contents are whatever was left in it.
    The buffer grows to the largest size asked for and is reused after."""
    buffers = _local.__dict__.setdefault("buffers", {})
    size = int(np.prod(shape))
    buffer = buffers.get(name)
    if buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = buffers[name] = np.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)
