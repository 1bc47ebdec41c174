"""Spreading an ensemble's members over processes with ``torch.distributed``.

Run any sweep under ``torchrun`` (``python -m torch.distributed.run``): each
process trains a contiguous share of the members and the per-member results
are gathered, in member order, on every rank (rank 0 writes the files). Gloo
is used on the CPU and NCCL on CUDA. Members never interact, so the gathered
results equal a single-process run's.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

__all__ = ["init_from_environment", "rank_and_size", "shard", "gather_members", "finish"]


def init_from_environment(device: torch.device) -> bool:
    """Join the process group ``torchrun`` describes (WORLD_SIZE > 1); returns whether we did."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not dist.is_available():
        return False
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return True


def rank_and_size() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(count: int, rank: int, size: int) -> range:
    """The contiguous block of ``range(count)`` that process ``rank`` of ``size`` trains."""
    per, extra = divmod(count, size)
    start = rank * per + min(rank, extra)
    return range(start, start + per + (1 if rank < extra else 0))


def gather_members(tensor: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Concatenate every rank's share of a per-member tensor along ``dim``, in rank order."""
    size = rank_and_size()[1]
    if size == 1:
        return tensor
    parts = [None] * size
    dist.all_gather_object(parts, tensor.cpu())
    return torch.cat(parts, dim=dim)


def finish() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
