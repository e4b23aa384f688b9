"""Pieces shared by both training stages: budgets, batching, CSV logs, checkpoints and resuming, layout and precision.

Training state is just the global step, the training seconds spent and the RNG
state, so a resumed run picks the same batches it would have seen uninterrupted.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ncodec.manifold_config import ManifoldConfig

Precision = Literal["fp32", "bf16"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16")


@dataclass(frozen=True)
class Budget:
    """When to stop: a total number of epochs, total training minutes, or both (whichever comes first).

    Both count across resumes, so ``--resume`` continues to the same target.
    """

    epochs: float | None = None
    minutes: float | None = None

    def __post_init__(self) -> None:
        if self.epochs is None and self.minutes is None:
            raise ValueError("give a budget in epochs, minutes or both")
        if any(not value >= 0 for value in (self.epochs, self.minutes) if value is not None):  # NaN too
            raise ValueError(f"a budget is a number >= 0, got epochs={self.epochs}, minutes={self.minutes}")

    def progress(self, step: int, steps_per_epoch: int, seconds: float) -> float:
        """Fraction of the budget used, 0..1+; drives stopping and the encoder's cosine schedule.

        A zero budget is spent from the start: ``manifold --resume --encoder-epochs 0`` exports stage 1's encoder as it is.
        """
        if self.epochs == 0 or self.minutes == 0:
            return 1.0
        parts = [0.0]
        if self.epochs is not None:
            parts.append(step / max(1.0, self.epochs * steps_per_epoch))
        if self.minutes is not None:
            parts.append(seconds / max(1e-9, self.minutes * 60))
        return max(parts)


def epoch_order(n: int, batch_size: int, seed: int, epoch: int) -> np.ndarray:
    """Shuffled indices of one epoch as (steps, batch_size); a pure function of (seed, epoch) for resume.

    The ragged tail is dropped so every batch has the same size (BatchNorm statistics stay comparable).
    """
    steps = n // batch_size
    if steps == 0:
        raise ValueError(f"{n} images are fewer than one batch of {batch_size}")
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    return perm[: steps * batch_size].reshape(steps, batch_size)


class CsvLog:
    """Append-only CSV of training curves; on resume, rows past the checkpoint are dropped."""

    def __init__(self, path: Path, fields: Sequence[str], resume_step: int | None) -> None:
        self.path = path
        self.fields = list(fields)
        rows: list[dict[str, str]] = []
        if resume_step is not None and path.is_file():
            with path.open(newline="") as fh:
                rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= resume_step]
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, self.fields)
            writer.writeheader()
            writer.writerows(rows)

    def write(self, **row: float) -> None:
        with self.path.open("a", newline="") as fh:
            csv.DictWriter(fh, self.fields).writerow({k: _fmt(row[k]) for k in self.fields})


def _fmt(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save via a temporary file, so a kill mid-write never leaves a broken checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """Our own checkpoints hold only tensors and plain values, so weights_only loading suffices."""
    return torch.load(path, map_location=device, weights_only=True)


@contextlib.contextmanager
def checkpoint_on_interrupt(checkpoint: Callable[[], None], single_process: bool) -> Iterator[None]:
    """Ctrl-C (or SIGTERM, which the CLI turns into it) saves the run first: --resume then loses only the step in progress.

    Under torchrun the processes may stop at different steps, so there the last epoch's checkpoint stays.
    """
    try:
        yield
    except KeyboardInterrupt:
        if single_process:
            checkpoint()
            tqdm.write("interrupted: checkpoint saved, --resume continues from it", file=sys.stderr)
        raise


_ARCHITECTURE = ("image_size", "channels", "latent_dim", "width", "encoder_width")


def resume_state(path: Path, config: ManifoldConfig, device: torch.device, resume: bool, force: bool) -> dict[str, Any] | None:
    """The checkpoint a run continues from, or None for a fresh start.

    A run folder holding a checkpoint is started over only with ``force`` (its weights may be all
    there is of hours of training); ``resume`` without one starts fresh and says so; a checkpoint of
    another architecture is refused by name instead of failing deep inside load_state_dict.
    """
    if not path.is_file():
        if resume and not any(path.parent.glob("*_ckpt.pt")):  # stage 2 of a resumed `manifold` starts fresh by design
            tqdm.write(f"warning: --resume: no checkpoint at {path}; starting a fresh run", file=sys.stderr)
        return None
    if not resume:
        if force:
            return None
        raise ValueError(f"{path.parent} already holds a run ({path.name}): --resume continues it, --force starts it over")
    state = load_checkpoint(path, device)
    saved, wanted = json.loads(state["config"]), json.loads(config.to_json())
    differ = [f"{k} {saved.get(k)} (now {wanted.get(k)})" for k in _ARCHITECTURE if saved.get(k) != wanted.get(k)]
    if differ:
        raise ValueError(f"{path} was trained with {', '.join(differ)}: resume it with the options it was started with")
    return state


def cosine(progress: float) -> float:
    """Cosine decay factor from 1 at the start to 0 at the end of the budget."""
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def random_flip(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror about half the images left-right: faces are symmetric, so this doubles the data for free."""
    mask = torch.rand(x.shape[0], device=x.device, generator=generator) < 0.5
    return torch.where(mask[:, None, None, None], x.flip(3), x)


def random_zoom(x: torch.Tensor, max_zoom: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Enlarge about half the images (NCHW, in [-1, 1]) by 1 to ``max_zoom`` about a random point inside them.

    A zoomed-in crop of a flower photo is another plausible flower photo, so a small, unaligned
    training set counts as a larger one: without it, 1,200 flowers are memorised (docs/results.md).
    The crop stays inside the image (no padding for the discriminator to learn), resampled bicubic.
    """
    u = torch.rand(x.shape[0], 4, generator=generator)
    zoomed = u[:, 0] < 0.5
    window = 1.0 / (1.0 + u[:, 1] * (max_zoom - 1.0))  # the crop's side, as a fraction of the image's
    theta = torch.zeros(x.shape[0], 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = window
    theta[:, :, 2] = (1.0 - window[:, None]) * (2.0 * u[:, 2:] - 1.0)
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    crops = F.grid_sample(x, grid, mode="bicubic", padding_mode="border", align_corners=False).clamp(-1.0, 1.0)
    return torch.where(zoomed.to(x.device)[:, None, None, None], crops, x)


def augment(x: torch.Tensor, generator: torch.Generator, zoom: float = 1.0) -> torch.Tensor:
    """The training images as both stages see them: mirrored at random, and zoomed (``random_zoom``) when ``zoom`` > 1."""
    x = random_flip(x, generator)
    return random_zoom(x, zoom, generator) if zoom > 1.0 else x


def quantization_noise(z: torch.Tensor, bits: int, generator: torch.Generator) -> torch.Tensor:
    """z plus uniform noise of one cell width (2 / 2^bits), kept inside the cube."""
    width = 2.0 / 2**bits
    noise = (torch.rand(z.shape, generator=generator) - 0.5).to(z.device) * width
    return (z + noise).clamp(-1.0, 1.0)


def rank_rng(seed: int, rank: int) -> torch.Generator:
    """The random stream of one process: rank 0's is the single-process stream of ``seed``."""
    return torch.Generator().manual_seed(seed + 1_000_003 * rank)


def restore_rng(rng: torch.Generator, state: dict[str, Any], rank: int, world_size: int) -> None:
    """Resume this process's stream; a run resumed on a different number of processes starts fresh ones."""
    states = state.get("rngs", [state["rng"]])
    if len(states) == world_size:
        rng.set_state(states[rank].cpu())
    else:
        rng.manual_seed(int(state["step"]) * 7919 + rank)


def nhwc(x: torch.Tensor) -> torch.Tensor:
    """An image batch in the layout of ``channels_last`` networks, so no layer converts it back and forth."""
    return x.contiguous(memory_format=torch.channels_last)


def native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """Whether the CPU computes bf16 in hardware (AVX512-BF16 or AMX); None where ``cpuinfo`` cannot tell.

    Without it torch emulates bf16 on the CPU, and a training step takes 15-20x longer than in fp32.
    """
    try:
        flags = cpuinfo.read_text()
    except OSError:
        return None
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager[Any]:
    """Forward passes in bf16 (weights, gradients, optimiser state and losses stay fp32), or plain fp32.

    bf16 has fp32's exponent range, so unlike fp16 it needs no loss scaling. On a CPU with
    AVX512-BF16 a training step took about half the time; on GPUs it is unmeasured (docs/manifolds.md).
    """
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
