"""A learned-codec peer: CompressAI's bmshj2018-hyperprior (Balle et al., ICLR 2018), trained on our data.

The peer is trained from scratch on the same training split as the manifold it is compared
with (no pretrained weights can be downloaded here), with CompressAI's own model, loss and
entropy coder: rate-distortion loss lambda * 255^2 * MSE + bits per pixel, Adam 1e-4 on the
network and 1e-3 on the entropy bottleneck's quantiles (CompressAI's examples/train.py). Its
sizes are real: the byte strings of ``compress()``, plus two bytes to say where the hyper-latent
string ends, the least a container could add.

CompressAI pins numpy<2 and pulls torchvision, so it sits in its own extra, ``[peer]``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ncodec.errors import MissingExtraError
from ncodec.eval.rd import Point, measured

ARCH = "bmshj2018-hyperprior"
LAMBDAS = {1: 0.0018, 2: 0.0035, 3: 0.0067}
"""CompressAI's MSE lambdas for its qualities 1-3 (its lowest rates)."""
CONTAINER_BYTES = 2
"""Where the hyper-latent string ends (a 16-bit length): the framing two strings need at least."""
_STRIDE = 64
"""The hyperprior's total downsampling: inputs are padded to a multiple of it."""


def compressai_module() -> Any:
    """The compressai package, or a MissingExtraError that says how to install it."""
    try:
        import compressai.losses
        import compressai.models
    except (ImportError, RuntimeError) as exc:  # RuntimeError: a torchvision built for another torch
        raise MissingExtraError(f"the learned-codec peer needs CompressAI: pip install 'ncodec[peer]' ({exc})") from exc
    return compressai


def build(n: int = 128, m: int = 192) -> torch.nn.Module:
    """The bmshj2018-hyperprior network (CompressAI's ScaleHyperprior; its qualities 1-5 use N=128, M=192)."""
    net: torch.nn.Module = compressai_module().models.ScaleHyperprior(n, m)
    return net


def _to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float() / 255


def train_peer(
    images: np.ndarray,
    lmbda: float,
    *,
    n: int = 128,
    m: int = 192,
    minutes: float | None = None,
    steps: int | None = None,
    batch_size: int = 16,
    seed: int = 0,
    device: torch.device | None = None,
    log_every: int = 200,
) -> tuple[torch.nn.Module, dict[str, str]]:
    """Train on uint8 (N, H, W, 3) images (H and W multiples of 64) until ``steps`` or ``minutes`` run out.

    Returns the network (entropy tables updated, eval mode) and the metadata to save with it.
    """
    if steps is None and minutes is None:
        raise ValueError("give steps or minutes")
    if images.shape[1] % _STRIDE or images.shape[2] % _STRIDE:
        raise ValueError(f"training images must be multiples of {_STRIDE} pixels, got {images.shape[1:3]}")
    device = device or torch.device("cpu")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    criterion = compressai_module().losses.RateDistortionLoss(lmbda=lmbda)
    net = build(n, m).to(device).train()
    main_params = [p for name, p in net.named_parameters() if not name.endswith(".quantiles")]
    aux_params = [p for name, p in net.named_parameters() if name.endswith(".quantiles")]
    optimizer, aux_optimizer = torch.optim.Adam(main_params, lr=1e-4), torch.optim.Adam(aux_params, lr=1e-3)
    start, step = time.monotonic(), 0
    while (steps is None or step < steps) and (minutes is None or time.monotonic() - start < 60 * minutes):
        batch = images[rng.integers(0, len(images), batch_size)]
        x = _to_tensor(np.where(rng.random((batch_size, 1, 1, 1)) < 0.5, batch, batch[:, :, ::-1]), device)
        out = criterion(net(x), x)
        optimizer.zero_grad(set_to_none=True)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(main_params, 1.0)
        optimizer.step()
        aux_loss = net.aux_loss()  # type: ignore[operator]
        aux_optimizer.zero_grad(set_to_none=True)
        aux_loss.backward()
        aux_optimizer.step()
        step += 1
        if log_every and step % log_every == 0:
            mse = out["mse_loss"].item()
            psnr = 10 * math.log10(1 / max(mse, 1e-10))
            print(f"step {step}: bpp {out['bpp_loss'].item():.3f}, psnr {psnr:.2f}, {time.monotonic() - start:.0f} s", flush=True)
    net.update(force=True)  # type: ignore[operator]
    meta = {"arch": ARCH, "n": str(n), "m": str(m), "lmbda": str(lmbda), "steps": str(step), "batch_size": str(batch_size),
            "seconds": f"{time.monotonic() - start:.0f}", "device": device.type}  # fmt: skip
    return net.eval(), meta


def save_peer(net: torch.nn.Module, meta: dict[str, str], path: Path) -> None:
    """fp32 safetensors with the metadata, the entropy coder's tables included."""
    from safetensors.torch import save

    from ncodec.atomic import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, save({k: v.contiguous() for k, v in net.state_dict().items()}, metadata=meta))


def load_peer(path: Path) -> tuple[torch.nn.Module, dict[str, str]]:
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), "pt") as fh:
        meta = dict(fh.metadata() or {})
    if meta.get("arch") != ARCH:
        raise ValueError(f"{path}: not a {ARCH} peer (arch {meta.get('arch')!r})")
    net = build(int(meta["n"]), int(meta["m"]))
    net.load_state_dict(load_file(str(path)))
    return net.eval(), meta


@torch.inference_mode()
def peer_points(images: np.ndarray, paths: list[Path]) -> list[Point]:
    """Each trained peer on uint8 (N, H, W, 3) images: real compressed sizes, decoded pixels, PSNR, SSIM."""
    points = []
    h, w = images.shape[1:3]
    pad_h, pad_w = -h % _STRIDE, -w % _STRIDE
    for path in paths:
        net, meta = load_peer(path)
        decoded, total_bits, seconds = [], 0, 0.0
        for image in images:
            x = F.pad(_to_tensor(image[None], torch.device("cpu")), (0, pad_w, 0, pad_h), mode="replicate")
            start = time.perf_counter()
            packed = net.compress(x)  # type: ignore[operator]
            seconds += time.perf_counter() - start
            total_bits += 8 * sum(len(s[0]) for s in packed["strings"])
            out = net.decompress(packed["strings"], packed["shape"])["x_hat"]  # type: ignore[operator]
            decoded.append((out[0, :, :h, :w].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy())
        ms = 1000 * seconds / len(images)
        payload = total_bits / len(images)
        setting = f"lambda={float(meta['lmbda']):g}, {meta['steps']} steps"
        points.append(measured(ARCH, setting, images, np.stack(decoded), payload, payload + 8 * CONTAINER_BYTES, ms))
    return points
