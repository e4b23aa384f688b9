"""The perceptual-plausibility instrument (the paper's Figure 4a): a CIFAR-10 classifier whose
accuracy on decoded test images says how much of what matters survives a codec.

A ResNet-9 (the fast CIFAR recipe: conv-BN-ReLU stages 64-128-256-512 with two residual
blocks), trained on uncompressed CIFAR-10 train images with random crops, flips and cutout, label
smoothing, SGD with Nesterov momentum and a one-cycle learning rate. Test-time accuracy
averages the logits of each image and its mirror. The trained weights are an evaluation
instrument, committed with the command that made them (docs/results.md).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def _conv(cin: int, cout: int, pool: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(channels, channels), _conv(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.body(x)
        return out


class ResNet9(nn.Module):
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, classes: int = 10, width: int = 64) -> None:
        super().__init__()
        self.width = w = width
        self.net = nn.Sequential(
            _conv(3, w),
            _conv(w, 2 * w, pool=True),
            _Residual(2 * w),
            _conv(2 * w, 4 * w, pool=True),
            _conv(4 * w, 8 * w, pool=True),
            _Residual(8 * w),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Linear(8 * w, classes),
        )
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits for uint8 (N, H, W, 3) images as a tensor, or float (N, 3, H, W) in [0, 1]."""
        x = images.permute(0, 3, 1, 2).float() / 255 if images.dtype == torch.uint8 else images
        logits: torch.Tensor = self.net((x - self.mean) / self.std)
        return logits


def _augment(batch: torch.Tensor, generator: torch.Generator, cutout: int = 8) -> torch.Tensor:
    """Per image: a random 32x32 crop of the 4-pixel reflect-padded image, a mirror half of the
    time, and one `cutout`-pixel square set to grey (uint8 NHWC in and out).

    Each image gets its own offsets: with the 12k-image training subset, augmentation is what
    keeps the network from memorising it.
    """
    n, h, w, _ = batch.shape
    padded = F.pad(batch.permute(0, 3, 1, 2).float(), (4, 4, 4, 4), mode="reflect")
    dy, dx = torch.randint(0, 9, (2, n), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    crop = padded[torch.arange(n)[:, None, None, None], torch.arange(3)[None, :, None, None], rows, cols]
    flip = torch.rand(n, generator=generator) < 0.5
    crop = torch.where(flip[:, None, None, None], crop.flip(3), crop)
    if cutout:
        cy, cx = torch.randint(-cutout // 2, h - cutout // 2, (2, n), generator=generator)
        ys, xs = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
        hole = (ys >= cy[:, None, None]) & (ys < cy[:, None, None] + cutout) & (xs >= cx[:, None, None]) & (xs < cx[:, None, None] + cutout)
        crop = crop.masked_fill(hole[:, None], 128.0)
    return crop.permute(0, 2, 3, 1).round().to(torch.uint8)


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    *,
    batch_size: int = 256,
    lr: float = 0.2,
    width: int = 64,
    seed: int = 0,
    device: torch.device | None = None,
    log: bool = True,
) -> ResNet9:
    """Train on uint8 (N, 32, 32, 3) images and int labels; returns the network in eval mode."""
    device = device or torch.device("cpu")
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    net = ResNet9(width=width).to(device)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
    steps = epochs * math.ceil(len(images) / batch_size)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.25)
    start = time.monotonic()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(images), generator=rng)
        for i in range(0, len(images), batch_size):
            idx = order[i : i + batch_size]
            x = _augment(x_all[idx], rng).to(device)
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
                loss = F.cross_entropy(net(x), y_all[idx].to(device), label_smoothing=0.2)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            schedule.step()
        if log:
            print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}, {time.monotonic() - start:.0f} s", flush=True)
    net.eval()
    return net


@torch.no_grad()
def predict(net: ResNet9, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Class of each uint8 (N, 32, 32, 3) image, averaging the logits of the image and its mirror."""
    device = next(net.parameters()).device
    out = []
    for i in range(0, len(images), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(images[i : i + batch_size])).to(device)
        out.append((net(x) + net(x.flip(2))).argmax(1).cpu())
    return torch.cat(out).numpy()


def save_classifier(net: ResNet9, path: Path) -> None:
    from safetensors.torch import save

    from ncodec.atomic import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in net.state_dict().items()}
    atomic_write(path, save(state, metadata={"width": str(net.width)}))


def load_classifier(path: Path, device: torch.device | None = None) -> ResNet9:
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), "pt") as fh:
        width = int((fh.metadata() or {}).get("width", "64"))
    net = ResNet9(width=width)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()})
    net.to(device or torch.device("cpu")).eval()
    return net
