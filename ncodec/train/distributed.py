"""Multi-process training under ``torchrun``: one process per GPU (or CPU slot), gradients averaged.

Each step's global batch is split across the processes (rank r takes rows r, r+W, ...), so a
run's batch size and number of steps per epoch do not depend on how many processes run it.
The encoder stage uses ``DistributedDataParallel``. The GAN stage averages gradients with
``torch.distributed.all_reduce`` after each backward instead: its lazy R1 penalty is a double
backward and its discriminator switches ``requires_grad`` between the two updates, both
outside what DDP's reducer supports (StyleGAN2-ADA averages its GAN gradients the same way).
Only rank 0 writes checkpoints, logs and the manifold.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """The process that writes files and prints progress."""
        return self.rank == 0

    def agree(self, seconds: float) -> float:
        """Rank 0's clock, so every process stops a minutes budget on the same step."""
        if self.size == 1:
            return seconds
        value = torch.tensor([seconds], dtype=torch.float64)
        dist.broadcast(value, 0)
        return float(value.item())

    def gather_rng(self, rng: torch.Generator) -> list[torch.Tensor]:
        """Every process's RNG state, for a checkpoint that resumes each on its own stream."""
        if self.size == 1:
            return [rng.get_state()]
        states: list[torch.Tensor] = [torch.empty(0)] * self.size
        dist.all_gather_object(states, rng.get_state())
        return states

    def shard(self, batch: np.ndarray) -> np.ndarray:
        """This process's rows of a global batch of indices."""
        if len(batch) % self.size:
            raise ValueError(f"batch size {len(batch)} is not a multiple of the {self.size} processes")
        return batch[self.rank :: self.size]


SINGLE = World()
"""A run without torchrun."""


def setup(device_name: str) -> tuple[World, torch.device]:
    """Join the process group when started by torchrun (WORLD_SIZE > 1); pick this process's device.

    NCCL on CUDA, gloo on CPU. Without torchrun: a world of one, and ``device_name`` as given
    ('auto' takes CUDA when present).
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
    if size == 1:
        return World(), torch.device("cuda" if cuda else device_name if device_name != "auto" else "cpu")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    return World(dist.get_rank(), dist.get_world_size()), device


def average_gradients(params: Iterable[nn.Parameter], world: World) -> None:
    """Mean of each gradient over all processes, in one flat all-reduce."""
    if world.size == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world.size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_parameters(module: nn.Module, world: World) -> None:
    """Start every process from rank 0's weights."""
    if world.size > 1:
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, 0)


def check_in_sync(module: nn.Module, world: World) -> None:
    """Raise if the processes' weights have drifted apart (they must stay identical)."""
    if world.size == 1:
        return
    with torch.no_grad():
        total = torch.stack([p.double().sum() for p in module.parameters()]).sum().reshape(1)
    low, high = total.clone(), total.clone()
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    if not torch.equal(low, high):
        raise RuntimeError(f"processes out of sync: weight sums range {low.item()} .. {high.item()}")


def finish() -> None:
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
