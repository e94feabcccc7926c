"""Several processes over one job, as torchrun starts them (RANK, WORLD_SIZE,
MASTER_ADDR / MASTER_PORT in the environment, on one machine or many): which
share of the inputs is this process's, and gathering results back to rank 0.
Without torchrun every function here is the single-process case."""
from __future__ import annotations

import os
from contextlib import contextmanager


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, the number of processes); (0, 1) outside torchrun."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def share(items: list, rank: int, world: int) -> list:
    """Every world-th item from the rank-th: shares that differ by at most one item."""
    return items[rank::world]


@contextmanager
def process_group(device_type: str = "cpu"):
    """Joins torchrun's process group for the duration (gloo on CPU, nccl on CUDA),
    unless this is a single process or the group is already up."""
    import torch.distributed as dist

    _, world = rank_and_world()
    started = world > 1 and not dist.is_initialized()
    if started:
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    try:
        yield
    finally:
        if started:
            dist.destroy_process_group()


def gather_to_rank0(obj, rank: int, world: int) -> list | None:
    """Every rank's obj (picklable), in rank order, on rank 0; None elsewhere."""
    if world == 1:
        return [obj]
    import torch.distributed as dist

    out = [None] * world if rank == 0 else None
    dist.gather_object(obj, out, dst=0)
    return out


def all_agree(flag: bool, world: int) -> bool:
    """True on every rank when it is true on every rank (a shared exit status)."""
    if world == 1:
        return flag
    import torch.distributed as dist

    flags = [None] * world
    dist.all_gather_object(flags, bool(flag))
    return all(flags)


def local_device(device: str | None) -> "torch.device":  # noqa: F821 - torch is imported here, not at import
    """The device this process runs on: CUDA where there is one (torchrun's LOCAL_RANK-th
    GPU when there are several processes), else the CPU; `device` overrides the kind."""
    import torch

    kind = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda" and rank_and_world()[1] > 1:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device(kind)
