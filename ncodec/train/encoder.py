"""Stage 2: train the encoder f against the frozen EMA generator g.

Loss is reconstruction through the decoder, ||x - g(f(x) + u)||^2, where u is
uniform noise of one quantiser cell on half the batches: the encoder learns codes
whose neighbourhood (what survives quantisation) still decodes to x.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ncodec.latent import to_network_range
from ncodec.manifold_config import ManifoldConfig
from ncodec.models import build, channels_last
from ncodec.train.common import (
    Budget,
    CsvLog,
    Precision,
    augment,
    autocast,
    checkpoint_on_interrupt,
    cosine,
    epoch_order,
    load_checkpoint,
    nhwc,
    quantization_noise,
    rank_rng,
    restore_rng,
    resume_state,
    save_checkpoint,
)
from ncodec.train.distributed import SINGLE, World, check_in_sync

CKPT_NAME = "encoder_ckpt.pt"
LOG_NAME = "encoder_log.csv"

# Hook for the reconstruction loss: (x, x_hat) -> scalar. A perceptual term plugs in here.
ReconLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def load_encoder(path: Path, config: ManifoldConfig, device: torch.device) -> nn.Module:
    """The trained encoder from a stage-2 checkpoint, in eval mode."""
    enc = build(config, "encoder").to(device)
    enc.load_state_dict(load_checkpoint(path, device)["encoder"])
    return enc.eval().requires_grad_(False)


def train_encoder(
    config: ManifoldConfig,
    images: np.ndarray,
    decoder: nn.Module,
    run_dir: Path,
    budget: Budget,
    *,
    batch_size: int = 64,
    seed: int = 0,
    resume: bool = False,
    force: bool = False,
    device: torch.device | None = None,
    lr: float = 1e-3,
    bits: int = 5,
    noise_prob: float = 0.5,
    zoom: float = 1.0,
    loss_fn: ReconLoss = F.mse_loss,
    init: dict[str, torch.Tensor] | None = None,
    log_every: int = 20,
    precision: Precision = "fp32",
    world: World = SINGLE,
) -> nn.Module:
    """Train until ``budget`` is spent (lr on a cosine over the budget); return the encoder in eval mode.

    ``batch_size`` is the global batch; under torchrun the encoder is wrapped in DistributedDataParallel.
    ``init``: starting weights (the encoder trained jointly in stage 1); a fresh network without it.
    ``zoom`` > 1: zoom about half the training images in by up to that factor (``common.random_zoom``).
    ``precision`` "bf16" runs the forward passes (encoder, decoder, loss network) under bf16 autocast.
    """
    device = device or torch.device("cpu")
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / CKPT_NAME
    torch.manual_seed(seed)
    channels_last(decoder.eval().requires_grad_(False))
    if isinstance(loss_fn, nn.Module):  # the perceptual network
        channels_last(loss_fn)
    enc = channels_last(build(config, "encoder").to(device))
    if init is not None:
        enc.load_state_dict(init)
    opt = torch.optim.Adam(enc.parameters(), lr=lr)
    rng = rank_rng(seed, world.rank)
    step, seconds = 0, 0.0
    state = resume_state(ckpt_path, config, device, resume, force)
    if state is not None:
        enc.load_state_dict(state["encoder"])
        opt.load_state_dict(state["opt"])
        restore_rng(rng, state, world.rank, world.size)
        step, seconds = int(state["step"]), float(state["seconds"])
    # DDP broadcasts rank 0's weights on construction and averages gradients in backward.
    net = enc if world.size == 1 else DistributedDataParallel(enc, device_ids=[device.index] if device.type == "cuda" else None)
    log = CsvLog(run_dir / LOG_NAME, ["step", "loss", "lr", "seconds"], step if resume else None) if world.main else None
    steps_per_epoch = len(images) // batch_size

    def checkpoint() -> None:
        rngs = world.gather_rng(rng)
        state = {"encoder": enc.state_dict(), "opt": opt.state_dict(), "rng": rngs[0], "rngs": rngs,
                 "step": step, "seconds": seconds, "config": config.to_json()}  # fmt: skip
        if world.main:
            save_checkpoint(ckpt_path, state)

    net.train()
    total, last_log = 0.0, step  # a resumed run's first row averages fewer than log_every steps
    bar = tqdm(desc="encoder", unit="step", initial=step, mininterval=5, disable=not world.main)
    start = time.monotonic() - seconds
    with checkpoint_on_interrupt(checkpoint, single_process=world.size == 1):
        while (progress := budget.progress(step, steps_per_epoch, seconds)) < 1.0:
            rate = lr * cosine(progress)
            for group in opt.param_groups:
                group["lr"] = rate
            idx = world.shard(epoch_order(len(images), batch_size, seed, step // steps_per_epoch)[step % steps_per_epoch])
            x = nhwc(augment(to_network_range(images[idx]), rng, zoom).to(device))
            with autocast(device, precision):
                z = net(x).float()
                if torch.rand((), generator=rng).item() < noise_prob:
                    z = quantization_noise(z, bits, rng)
                loss = loss_fn(decoder(z).float(), x).float()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

            step += 1
            seconds = world.agree(time.monotonic() - start)
            total += loss.item()
            bar.update()
            if step % log_every == 0 and log is not None:
                mean = total / (step - last_log)
                log.write(step=step, loss=mean, lr=rate, seconds=seconds)
                bar.set_postfix(loss=f"{mean:.4f}", lr=f"{rate:.2e}", ep=step // steps_per_epoch)
                total, last_log = 0.0, step
            if step % steps_per_epoch == 0:
                checkpoint()
    bar.close()
    check_in_sync(enc, world)
    checkpoint()
    if world.main:
        tqdm.write(f"encoder: {step} steps ({step / steps_per_epoch:.2f} epochs) in {seconds / 60:.1f} min, {world.size} process(es)")
    return enc.eval().requires_grad_(False)
