"""Data-parallel training with torch.distributed (DistributedDataParallel), launched by ``torchrun``.

Design (so that N processes give the single-process result for the same global batch and seed):

* every rank runs the same seeded :class:`~wavfusion.data.Batcher` and collates the whole global batch
  (same order, same crops, same augmentation draws), then keeps its contiguous share of the rows
  (:func:`local_rows`); the model is padding-invariant, so the shared padding changes nothing;
* cross-entropy is summed over the local rows and divided by the global batch size times the world
  size; DDP's gradient averaging then yields the gradient of the global mean;
* L_mar compares utterances across the whole batch, so the per-modality features are gathered from
  every rank (:class:`GatherRows`, whose backward sums the gradients of all ranks and returns each rank
  its own rows); every rank computes the same global L_mar, and DDP's averaging yields its gradient;
* only rank 0 evaluates, logs and writes the bundle.

Dropout and SpecAugment-style masks are drawn per rank, so with them the runs are equal in
distribution, not bit for bit (as with any DDP training).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Sequence

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    world: int = 1
    rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_from_env() -> DistContext:
    """Reads torchrun's WORLD_SIZE / RANK; initialises the process group (NCCL on CUDA, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank = int(os.environ["RANK"])
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    return DistContext(world=world, rank=rank)


def shutdown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def split_sizes(n: int, world: int) -> List[int]:
    """Rows per rank for a global batch of ``n`` (as torch.tensor_split: the first ranks get one more)."""
    return [n // world + (1 if r < n % world else 0) for r in range(world)]


def local_rows(n: int, ctx: DistContext) -> slice:
    sizes = split_sizes(n, ctx.world)
    start = sum(sizes[:ctx.rank])
    return slice(start, start + sizes[ctx.rank])


class GatherRows(torch.autograd.Function):
    """all_gather of [rows, D] tensors of possibly unequal row counts (known on every rank), with a
    backward that all-reduces (sums) the gradient and returns this rank's rows."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, sizes: Sequence[int], rank: int) -> torch.Tensor:  # type: ignore[override]
        ctx.sizes, ctx.rank = list(sizes), rank
        biggest = max(sizes)
        padded = torch.zeros((biggest,) + tuple(x.shape[1:]), dtype=x.dtype, device=x.device)
        padded[:x.shape[0]] = x
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded.contiguous())
        return torch.cat([p[:s] for p, s in zip(parts, sizes)], 0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = sum(ctx.sizes[:ctx.rank])
        return grad[start:start + ctx.sizes[ctx.rank]], None, None


def gather_rows(x: torch.Tensor, n_global: int, ctx: DistContext) -> torch.Tensor:
    if not ctx.enabled:
        return x
    return GatherRows.apply(x, split_sizes(n_global, ctx.world), ctx.rank)
