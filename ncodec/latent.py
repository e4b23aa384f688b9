"""Images <-> quantization indices through a manifold's networks (the torch part).

Encoding is the encoder f(x) followed, at effort > 0, by per-image refinement of z:
Adam steps on ||x - g(z)||^2 through the frozen decoder, z clamped to [-1, 1], the
last steps quantization-aware (straight-through) while the step size anneals to zero,
and the better of the plain and refined quantized latents kept per image, so more
effort never costs quality. MCode's keyframes are then refined the same way against
all the frames decoded from them (``refine_keyframes``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import torch

from ncodec.device import DEFAULT_DEVICE, torch_device
from ncodec.images import Image8
from ncodec.manifolds import Manifold
from ncodec.quantize import dequantize, quantize
from ncodec.video import Between

EFFORT_STEPS = (0, 30, 150, 500)
MAX_EFFORT = len(EFFORT_STEPS) - 1
CHUNK = 256
CUDA_CHUNK = 4096
"""Images per network pass: 256 on a CPU (larger batches gained nothing there), 4,096 on a GPU, which
needs thousands to fill (issue 8's reference: 8,192 for a DCGAN generator's peak on an H100)."""
_REFINE_LR = 0.04
_QUANT_AWARE_FRACTION = 0.3
# Step size: constant, then a cosine to zero over the quantization-aware tail (chosen on training faces, not the
# test split; docs/results.md has the effect on the test split).


def check_effort(effort: int) -> int:
    if not isinstance(effort, int) or not 0 <= effort <= MAX_EFFORT:
        raise ValueError(f"effort must be an integer in [0, {MAX_EFFORT}], got {effort!r}")
    return effort


def to_network_range(images: Image8) -> torch.Tensor:
    """(N, S, S, C) uint8 -> (N, C, S, S) float in [-1, 1], the range the networks use (also in training)."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> Image8:
    """(N, C, S, S) float in [-1, 1] -> (N, S, S, C) uint8: the inverse of to_network_range, rounded."""
    out = x.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)
    return out.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def _centres(z: torch.Tensor, bits: int) -> torch.Tensor:
    """Torch twin of quantize+dequantize, for the straight-through estimator."""
    levels = 1 << bits
    idx = torch.floor((z + 1.0) * (levels / 2.0)).clamp_(0, levels - 1)
    return (idx + 0.5) * (2.0 / levels) - 1.0


def encode_latents(manifold: Manifold, images: Image8, bits: int, effort: int, device: str = DEFAULT_DEVICE) -> npt.NDArray[np.uint8]:
    """(N, S, S, C) uint8 at the manifold's native size -> (N, M) indices, the networks on ``device``."""
    where = str(torch_device(device))
    encoder, decoder = manifold.encoder(where), manifold.decoder(where)
    steps = EFFORT_STEPS[check_effort(effort)]
    out = []
    chunk = _chunk(where)
    for start in range(0, len(images), chunk):
        x = to_network_range(images[start : start + chunk]).to(where)
        with torch.inference_mode():
            z0 = encoder(x)
        z = _refine(decoder, x, z0, bits, steps) if steps else z0
        out.append(quantize(z.cpu().numpy(), bits))
    return np.concatenate(out)


def refine_keyframes(
    manifold: Manifold,
    keys: npt.NDArray[np.uint8],
    free: slice,
    frames: Image8,
    between: Between,
    bits: int,
    effort: int,
    device: str = DEFAULT_DEVICE,
) -> npt.NDArray[np.uint8]:
    """Indices of ``keys[free]`` refined against all the ``frames`` that MCode decodes from them.

    Coding each keyframe as an image fits the keyframes only; the frames between are decoded from
    interpolated latents, so the keys are refined together against every frame: frame f (S, S, C at the
    manifold's size) is decoded from ``(1 - w[f]) * keys[left[f]] + w[f] * keys[right[f]]``, with
    ``between = (left, right, w)``, as ``ncodec.video.interpolate`` (linear) does. Keys outside ``free``
    stay as they are. The refined keys are kept only if they lower the frames' summed squared error.
    """
    where = str(torch_device(device))
    decoder = manifold.decoder(where)
    x = to_network_range(frames).to(where)
    z_keys = torch.from_numpy(dequantize(keys, bits)).to(where)
    left, right = (torch.from_numpy(i).to(where) for i in between[:2])
    w = torch.from_numpy(between[2]).to(where)[:, None]

    def error(z_free: torch.Tensor) -> torch.Tensor:
        z = torch.cat([z_keys[: free.start], z_free, z_keys[free.stop :]])
        summed: torch.Tensor = (decoder((1 - w) * z[left] + w * z[right]) - x).pow(2).mean(dim=(1, 2, 3)).sum()
        return summed

    refined = _centres(_descend(error, z_keys[free], bits, EFFORT_STEPS[check_effort(effort)]), bits)
    with torch.inference_mode():
        better = bool(error(refined) < error(z_keys[free]))
    return quantize(refined.cpu().numpy(), bits) if better else keys[free]


class _Adam:
    """torch.optim.Adam (betas 0.9, 0.999, eps 1e-8) on one tensor, op for op as its single-tensor CPU path.

    Not torch.optim itself: an optimiser's first step imports torch._dynamo, which took 2.6 s on the
    2026-12-02 VM, ten times the refinement of one image. Same operations, so the same latents.
    """

    def __init__(self, param: torch.Tensor) -> None:
        self.param, self.steps = param, 0
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(param), torch.zeros_like(param)

    @torch.no_grad()
    def step(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        grad = self.param.grad
        assert grad is not None
        self.steps += 1
        self.exp_avg.lerp_(grad, 1 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (self.exp_avg_sq.sqrt() / (1 - beta2**self.steps) ** 0.5).add_(eps)
        self.param.addcdiv_(self.exp_avg, denom, value=-(lr / (1 - beta1**self.steps)))


def _refine(decoder: torch.nn.Module, x: torch.Tensor, z0: torch.Tensor, bits: int, steps: int) -> torch.Tensor:
    z = _descend(lambda z_in: (decoder(z_in) - x).pow(2).mean(dim=(1, 2, 3)).sum(), z0, bits, steps)
    with torch.inference_mode():
        candidates = torch.stack([_centres(z0, bits), _centres(z, bits)])
        errors = torch.stack([(decoder(c) - x).pow(2).mean(dim=(1, 2, 3)) for c in candidates])
        best = errors.argmin(dim=0)
        return candidates[best, torch.arange(len(x), device=x.device)]


def _descend(loss: Callable[[torch.Tensor], torch.Tensor], z0: torch.Tensor, bits: int, steps: int) -> torch.Tensor:
    """``steps`` Adam steps on ``loss(z)`` from ``z0``: z clamped to [-1, 1], the last steps straight through the
    quantizer while the step size anneals to zero. Returns z, not yet quantized."""
    z = z0.clone().requires_grad_(True)
    opt = _Adam(z)
    aware_from = steps - int(steps * _QUANT_AWARE_FRACTION)
    with torch.enable_grad():
        for step in range(steps):
            aware = step >= aware_from
            z_in = z + (_centres(z, bits) - z).detach() if aware else z
            z.grad = None
            torch.autograd.backward(loss(z_in))
            opt.step(_REFINE_LR * (0.5 * (1 + math.cos(math.pi * (step - aware_from) / (steps - aware_from))) if aware else 1.0))
            with torch.no_grad():
                z.clamp_(-1.0, 1.0)
    return z.detach()


def generate(manifold: Manifold, latents: npt.NDArray[np.float32], device: str = DEFAULT_DEVICE) -> Image8:
    """(N, M) latents in [-1, 1] -> (N, S, S, C) uint8 through the torch decoder on ``device`` (``ncodec.decoding``
    chooses it or NumPy's)."""
    where = str(torch_device(device))
    decoder = manifold.decoder(where)
    z = torch.from_numpy(np.ascontiguousarray(latents, dtype=np.float32)).to(where)
    chunk = _chunk(where)
    with torch.inference_mode():
        return np.concatenate([to_uint8(decoder(z[s : s + chunk])) for s in range(0, len(z), chunk)])


def _chunk(device: str) -> int:
    return CUDA_CHUNK if device.startswith("cuda") else CHUNK
