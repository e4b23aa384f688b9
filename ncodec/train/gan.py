"""Stage 1: train the decoder as the generator of a GAN over the uniform prior z ~ U[-1,1]^M.

Non-saturating loss with a lazy R1 penalty on reals (stabilises the small DCGAN
without weakening it) and an EMA copy of the generator: the EMA weights are
smoother and are what becomes the manifold's decoder.

With ``recon_weight`` > 0 an encoder trains beside the generator, and the generator's
loss adds ``recon_weight`` x ||x - g(f(x) + u)||^2 on the real batch (u: one quantiser
cell of uniform noise on half the batches, as in stage 2). The adversarial game over the
prior is unchanged; the extra term makes the decoder cover the training images instead
of only making plausible ones, which an encoder trained afterwards cannot fix (a pure
GAN generator misses much of its data, and inversion finds only the nearest face it can
draw). Stage 2 then starts from this encoder.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
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
    epoch_order,
    load_checkpoint,
    nhwc,
    quantization_noise,
    rank_rng,
    restore_rng,
    resume_state,
    save_checkpoint,
)
from ncodec.train.distributed import SINGLE, World, average_gradients, broadcast_parameters, check_in_sync

CKPT_NAME = "gan_ckpt.pt"
LOG_NAME = "gan_log.csv"


def sample_prior(n: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """The codec's latent space is the cube [-1,1]^M, so the GAN is trained on exactly that."""
    return torch.rand(n, dim, generator=generator) * 2 - 1


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, decay: float) -> None:
    for p_ema, p in zip(ema.parameters(), net.parameters(), strict=True):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), net.buffers(), strict=True):
        b_ema.copy_(b)


@torch.no_grad()
def recalibrate_bn(
    gen: nn.Module, latent_dim: int, device: torch.device, batches: int = 50, size: int = 256, codes: torch.Tensor | None = None
) -> None:
    """Re-estimate BatchNorm running stats for the EMA weights (the copied ones belong to the live net).

    The batches are prior samples; with ``codes`` (encoded training images), half of each batch is
    drawn from those, the mixture the generator saw in training.
    """
    norms = [m for m in gen.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    rng = torch.Generator().manual_seed(1234)
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the passes below
    gen.train()
    for _ in range(batches):
        z = sample_prior(size, latent_dim, rng)
        if codes is not None:
            z[size // 2 :] = codes[torch.randint(len(codes), (size - size // 2,), generator=rng)]
        gen(z.to(device))
    for m in norms:
        m.momentum = 0.1
    gen.eval()


def load_generator(path: Path, config: ManifoldConfig, device: torch.device) -> nn.Module:
    """The frozen EMA generator from a stage-1 checkpoint, in eval mode."""
    gen = build(config, "decoder").to(device)
    gen.load_state_dict(load_checkpoint(path, device)["ema"])
    gen.eval().requires_grad_(False)
    return gen


def joint_encoder_state(path: Path) -> dict[str, torch.Tensor] | None:
    """The encoder trained beside the generator (``recon_weight`` > 0), the starting point of stage 2; else None."""
    state: dict[str, torch.Tensor] | None = load_checkpoint(path, torch.device("cpu")).get("enc")
    return state


@torch.no_grad()
def _encode_sample(enc: nn.Module, images: np.ndarray, device: torch.device, count: int = 2048) -> torch.Tensor:
    """Codes of up to ``count`` training images (fixed choice), for BatchNorm recalibration."""
    was_training = enc.training
    enc.eval()
    pick = np.random.default_rng(1234).permutation(len(images))[:count]
    codes = torch.cat([enc(to_network_range(images[pick[i : i + 256]]).to(device)).cpu() for i in range(0, len(pick), 256)])
    enc.train(was_training)
    return codes


def train_gan(
    config: ManifoldConfig,
    images: np.ndarray,
    run_dir: Path,
    budget: Budget,
    *,
    batch_size: int = 64,
    seed: int = 0,
    resume: bool = False,
    force: bool = False,
    device: torch.device | None = None,
    lr: float = 2e-4,
    r1_gamma: float = 0.2,
    r1_every: int = 8,
    ema_decay: float = 0.999,
    recon_weight: float = 0.0,
    bits: int = 5,
    noise_prob: float = 0.5,
    zoom: float = 1.0,
    log_every: int = 20,
    precision: Precision = "fp32",
    world: World = SINGLE,
    init: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
) -> nn.Module:
    """Train until ``budget`` is spent, checkpointing every epoch; return the EMA generator (eval mode).

    ``batch_size`` is the global batch: under torchrun each of the ``world`` processes takes its share.
    ``resume``/``force``: continue the run folder's checkpoint / start over in it (``common.resume_state``).
    ``recon_weight`` > 0 trains an encoder jointly (module docstring); ``bits`` and ``noise_prob`` set its noise.
    ``zoom`` > 1: zoom about half the real images in by up to that factor (``common.random_zoom``).
    ``precision`` "bf16" runs the forward passes under bf16 autocast (``common.autocast``).
    ``init``: starting weights for a fresh run, ``{"decoder": ..., "encoder": ...}`` (the encoder optional and
    used only with ``recon_weight``); the generator and its EMA start from the decoder, the discriminator
    from scratch. A resumed run continues from its checkpoint instead.
    """
    device = device or torch.device("cpu")
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / CKPT_NAME
    torch.manual_seed(seed)
    gen, disc = channels_last(build(config, "decoder").to(device)), channels_last(build(config, "discriminator").to(device))
    ema = copy.deepcopy(gen).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))
    parts: list[tuple[nn.Module | torch.optim.Optimizer, str]] = [
        (gen, "gen"),
        (disc, "disc"),
        (ema, "ema"),
        (opt_g, "opt_g"),
        (opt_d, "opt_d"),
    ]
    enc = None
    if recon_weight > 0:
        enc = channels_last(build(config, "encoder").to(device))
        opt_e = torch.optim.Adam(enc.parameters(), lr=lr, betas=(0.5, 0.999))
        parts += [(enc, "enc"), (opt_e, "opt_e")]
    rng = rank_rng(seed, world.rank)
    step, seconds = 0, 0.0
    state = resume_state(ckpt_path, config, device, resume, force)
    if state is not None:
        if ("enc" in state) != (enc is not None):
            raise ValueError(f"{ckpt_path} was trained with{'' if 'enc' in state else 'out'} --recon-weight; resume it the same way")
        for obj, key in parts:
            obj.load_state_dict(state[key])
        restore_rng(rng, state, world.rank, world.size)
        step, seconds = int(state["step"]), float(state["seconds"])
    elif init is not None:
        gen.load_state_dict(init["decoder"])
        ema.load_state_dict(init["decoder"])
        if enc is not None and "encoder" in init:
            enc.load_state_dict(init["encoder"])
    for net in (gen, disc, ema, enc):
        if net is not None:
            broadcast_parameters(net, world)
    fields = ["step", "d_loss", "g_loss", "r1", "recon", "seconds"]
    log = CsvLog(run_dir / LOG_NAME, fields, step if resume else None) if world.main else None
    steps_per_epoch = len(images) // batch_size

    def checkpoint() -> None:
        rngs = world.gather_rng(rng)
        state = {key: obj.state_dict() for obj, key in parts}
        state |= {"rng": rngs[0], "rngs": rngs, "step": step, "seconds": seconds, "config": config.to_json()}
        if world.main:
            save_checkpoint(ckpt_path, state)

    gen.train()
    sums, last_log = np.zeros(3), step  # a resumed run's first row averages fewer than log_every steps
    r1 = torch.zeros(())
    bar = tqdm(desc="gan", unit="step", initial=step, mininterval=5, disable=not world.main)
    start = time.monotonic() - seconds
    with checkpoint_on_interrupt(checkpoint, single_process=world.size == 1):
        while budget.progress(step, steps_per_epoch, seconds) < 1.0:
            order = epoch_order(len(images), batch_size, seed, step // steps_per_epoch)
            idx = world.shard(order[step % steps_per_epoch])
            real = nhwc(augment(to_network_range(images[idx]), rng, zoom).to(device))
            z = sample_prior(len(idx), config.latent_dim, rng).to(device)
            with autocast(device, precision):
                if enc is None:
                    fake = gen(z).float()
                else:  # one generator batch for both, so BatchNorm sees the mixture it is recalibrated on at the end
                    codes = enc(real).float()
                    if torch.rand((), generator=rng).item() < noise_prob:
                        codes = quantization_noise(codes, bits, rng)
                    fake, rec = gen(torch.cat([z, codes])).float().split(len(idx))

            # Discriminator: softplus(D(fake)) + softplus(-D(real)), plus R1 on reals every r1_every steps.
            disc.requires_grad_(True)
            lazy_r1 = r1_every > 0 and step % r1_every == 0
            real.requires_grad_(lazy_r1)
            with autocast(device, precision):
                real_logits, fake_logits = disc(real).float(), disc(fake.detach()).float()
            d_loss = F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()
            total = d_loss
            if lazy_r1:
                (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
                r1 = grad.square().sum(dim=(1, 2, 3)).mean()
                total = d_loss + 0.5 * r1_gamma * r1_every * r1
            opt_d.zero_grad(set_to_none=True)
            total.backward()
            average_gradients(disc.parameters(), world)
            opt_d.step()

            # Generator: non-saturating softplus(-D(G(z))) through the freshly updated D (+ reconstruction).
            disc.requires_grad_(False)
            with autocast(device, precision):
                fake_logits = disc(fake).float()
            g_loss = F.softplus(-fake_logits).mean()
            recon = F.mse_loss(rec, real.detach()) if enc is not None else torch.zeros(())
            opt_g.zero_grad(set_to_none=True)
            if enc is not None:
                opt_e.zero_grad(set_to_none=True)
            (g_loss + recon_weight * recon).backward()
            average_gradients(gen.parameters(), world)
            opt_g.step()
            if enc is not None:
                average_gradients(enc.parameters(), world)
                opt_e.step()
            update_ema(ema, gen, min(ema_decay, (1 + step) / (10 + step)))

            step += 1
            seconds = world.agree(time.monotonic() - start)
            sums += (d_loss.item(), g_loss.item(), recon.item())
            bar.update()
            if step % log_every == 0 and log is not None:
                d_mean, g_mean, recon_mean = sums / (step - last_log)
                log.write(step=step, d_loss=d_mean, g_loss=g_mean, r1=r1.item(), recon=recon_mean, seconds=seconds)
                bar.set_postfix(
                    d=f"{d_mean:.3f}", g=f"{g_mean:.3f}", r1=f"{r1.item():.3f}", rec=f"{recon_mean:.4f}", ep=step // steps_per_epoch
                )
                sums[:], last_log = 0, step
            if step % steps_per_epoch == 0:
                checkpoint()
    bar.close()
    recalibrate_bn(ema, config.latent_dim, device, codes=None if enc is None else _encode_sample(enc, images, device))
    check_in_sync(ema, world)
    checkpoint()
    if world.main:
        tqdm.write(f"gan: {step} steps ({step / steps_per_epoch:.2f} epochs) in {seconds / 60:.1f} min, {world.size} process(es)")
    return ema
