"""``train`` command group: stage 1 (gan), stage 2 (encoder), or both plus export (manifold).

Runs live in ``<out>/<id>/`` (checkpoints, CSV logs); ``manifold`` also writes the
loadable manifold folder to ``<out>/manifolds/<id>/``, so ``NCODEC_MANIFOLD_PATH=<out>/manifolds``
finds it by id. Multi-GPU (or multi-process CPU): ``torchrun --nproc_per_node N -m ncodec.train.cli
manifold ...`` with the same options; ``--batch-size`` stays the global batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
import torch.nn.functional as F

from ncodec import manifest
from ncodec.cli import NumberRange, OneLineErrorGroup
from ncodec.format.header import MAX_LATENT_DIM
from ncodec.manifold_config import ManifoldConfig
from ncodec.manifolds import Manifold, open_manifold, save_encoder, save_manifold
from ncodec.train import distributed
from ncodec.train.common import PRECISIONS, Budget, native_bf16
from ncodec.train.data import load_images
from ncodec.train.distributed import World
from ncodec.train.encoder import ReconLoss, train_encoder
from ncodec.train.gan import CKPT_NAME, joint_encoder_state, load_generator, train_gan
from ncodec.train.perceptual import PerceptualLoss
from ncodec.train.widen import widen_encoder, widen_generator

BUDGET = NumberRange(min=0)
DEFAULT_WIDTH = 32
Setup = tuple[ManifoldConfig, np.ndarray, Path, torch.device, World]  # what every command starts from


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--data", "data", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
                     help="Training images: .npz (images, or jpeg+offsets) or a folder; repeat for several."),
        click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True,
                     help="Runs folder; this run lives in OUT/ID."),
        click.option("--id", "manifold_id", required=True, help="Manifold id, e.g. faces64-z100."),
        click.option("--image-size", type=click.IntRange(8), default=64, show_default=True, help="A power of two."),
        click.option("--latent-dim", type=click.IntRange(1, MAX_LATENT_DIM), default=100, show_default=True),
        click.option("--width", type=click.IntRange(1),
                     help=f"Base feature width of the networks [default: {DEFAULT_WIDTH}; with --init: its, or more to widen it]."),
        click.option("--encoder-width", type=click.IntRange(min=1),
                     help="Base width of the encoder alone (default: --width); it runs only when encoding."),
        click.option("--description", default="", help="Stored in manifold.json."),
        click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True),
        click.option("--epochs", type=BUDGET, help="Total epochs (stage 1 for `manifold`)."),
        click.option("--minutes", type=BUDGET, help="Total training minutes (stage 1 for `manifold`)."),
        click.option("--seed", default=0, show_default=True),
        click.option("--resume", is_flag=True, help="Continue from the run's checkpoints."),
        click.option("--force", is_flag=True, help="Start over in a run folder that holds a run (its checkpoints are replaced)."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True),
        click.option("--threads", type=click.IntRange(1), help="torch CPU threads (default: torch's choice)."),
        click.option("--bits", type=click.IntRange(1, 8), default=5, show_default=True,
                     help="Bits per entry the manifold is tuned for: training adds uniform noise of one such quantiser cell to the codes."),
        click.option("--zoom", type=click.FloatRange(min=1), default=1.0, show_default=True,
                     help="Both stages: enlarge about half the training images by a random factor up to this, about a random "
                          "point, so that a small unaligned set (flowers, scenes) is not memorised; 1 = off, as for aligned faces."),
        click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True,
                     help="Forward passes in bf16 autocast, weights and optimiser state in fp32: about 2x the steps on a CPU "
                          "with AVX512-BF16 (measured), but 15-20x fewer on one without (a warning says so)."),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


def _setup(opts: dict[str, Any], decoder_of: ManifoldConfig | None = None) -> Setup:
    """Config, images, run folder, device and process group; ``decoder_of`` supplies the decoder's architecture."""
    if opts["threads"]:
        torch.set_num_threads(opts["threads"])
    if decoder_of is None:
        config = ManifoldConfig(id=opts["manifold_id"], image_size=opts["image_size"], channels=3, latent_dim=opts["latent_dim"],
                                width=opts["width"] or DEFAULT_WIDTH, description=opts["description"], trained=True,
                                encoder_width=opts["encoder_width"])  # fmt: skip
    else:
        config = replace(decoder_of, id=opts["manifold_id"], description=opts["description"] or decoder_of.description,
                         encoder_width=opts["encoder_width"])  # fmt: skip
    if opts["device"] == "cuda" and not torch.cuda.is_available():
        raise click.UsageError(f"--device cuda: this torch ({torch.__version__}) sees no CUDA device")
    world, device = distributed.setup(opts["device"])
    if config.id in manifest.packaged() and world.main:
        click.echo(f"note: {config.id} is a packaged manifold id: ncodec keeps finding the bundled or pinned files for it before "
                   "NCODEC_MANIFOLD_PATH; train under an id of your own unless you are replacing the packaged weights "
                   "(docs/manifolds.md)", err=True)  # fmt: skip
    if opts["precision"] == "bf16" and device.type == "cpu" and native_bf16() is False and world.main:
        click.echo("warning: this CPU has no native bf16 (no avx512_bf16 or amx_bf16 in /proc/cpuinfo): "
                   "--precision bf16 is emulated and 15-20x slower than fp32 here", err=True)  # fmt: skip
    if opts["batch_size"] % world.size:
        raise click.UsageError(f"--batch-size {opts['batch_size']} must be a multiple of the {world.size} processes")

    def warn(message: str) -> None:
        if world.main:
            click.echo(f"warning: {message}", err=True)

    images = load_images(opts["data"], config.image_size, warn)
    if len(images) < opts["batch_size"]:
        raise click.UsageError(f"{len(images)} training images are fewer than one batch of {opts['batch_size']}: lower --batch-size")
    if world.main:
        click.echo(f"{len(images)} training images from {len(opts['data'])} source(s); {world.size} process(es) on {device}", err=True)
    return config, images, opts["out"] / config.id, device, world


def _shared(opts: dict[str, Any], device: torch.device, world: World) -> dict[str, Any]:
    """Keywords both stages take from the command line."""
    return {"batch_size": opts["batch_size"], "seed": opts["seed"], "resume": opts["resume"], "force": opts["force"],
            "device": device, "world": world,
            "bits": opts["bits"], "zoom": opts["zoom"], "precision": opts["precision"]}  # fmt: skip


def _budget(epochs: float | None, minutes: float | None) -> Budget:
    try:
        return Budget(epochs, minutes)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.group(cls=OneLineErrorGroup)  # as `python -m ncodec.train.cli` (torchrun); `ncodec train` reports through its own group
def train() -> None:
    """Train manifolds: a GAN decoder, then an encoder into its latent space."""


_recon = click.option(
    "--recon-weight",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Stage 1: also train an encoder and add this x ||x - g(f(x))||^2 to the generator's loss, so the decoder "
    "covers the training images (stage 2 then starts from that encoder); 0 = the plain GAN.",
)


_lr = click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=2e-4,
    show_default=True,
    help="Stage 1 Adam learning rate, constant, of the generator, the discriminator and the joint encoder (the paper's 2e-4; "
    "docs/results.md measures 5e-5 for a round trained on with --init). A resumed run keeps its checkpoint's.",
)


_init = click.option(
    "--init", "init_id", metavar="MANIFOLD",
    help="Start stage 1 from this manifold's decoder (found as `ncodec decode` finds it), and with --recon-weight from "
         "its encoder too, instead of random weights; the discriminator starts fresh. Its architecture replaces "
         "--image-size/--latent-dim, and --width unless a larger one is given: then the decoder is widened to it, "
         "drawing what it drew (ncodec.train.widen), and the encoder keeps its width unless --encoder-width widens it "
         "too. To train an existing manifold "
         "longer, wider, or on other images: the result is a new decoder, with a new fingerprint. Ignored by --resume, "
         "which continues the run's checkpoint.",
)  # fmt: skip


def _init_setup(init_id: str | None, recon_weight: float, opts: dict[str, Any]) -> tuple[Setup, dict[str, dict[str, torch.Tensor]] | None]:
    """``_setup``, and with ``--init`` the architecture and starting weights of that manifold (its encoder: with the term)."""
    if init_id is None:
        return _setup(opts), None
    source = open_manifold(init_id, need_encoder=recon_weight > 0)
    narrow = source.config
    width = opts["width"] or narrow.width
    if width < narrow.width:
        raise click.UsageError(f"--width {width} is below {init_id}'s {narrow.width}: a decoder can be widened, not narrowed")
    encoder_width = opts["encoder_width"] or narrow.encoder_width or (narrow.width if width != narrow.width else None)
    setup = _setup({**opts, "encoder_width": encoder_width}, replace(narrow, width=width))
    decoder = source.weights("decoder")
    weights = {"decoder": decoder if width == narrow.width else widen_generator(decoder, narrow, setup[0], opts["seed"])}
    if recon_weight > 0 and setup[0].encoder_base_width >= narrow.encoder_base_width:
        weights["encoder"] = _encoder_weights(source, setup[0], opts["seed"])
    elif recon_weight > 0 and setup[4].main:
        click.echo(f"warning: --encoder-width {setup[0].encoder_base_width} is below {init_id}'s {narrow.encoder_base_width}: "
                   "the encoder starts from random weights, the decoder from the manifold's", err=True)  # fmt: skip
    return setup, weights


def _encoder_weights(source: Manifold, config: ManifoldConfig, seed: int) -> dict[str, torch.Tensor]:
    """``source``'s encoder as a starting point for ``config``'s: as stored, or widened to its larger width."""
    state = source.weights("encoder")
    if config.encoder_base_width == source.config.encoder_base_width:
        return state
    return widen_encoder(state, source.config, config.encoder_base_width, seed)


@train.command()
@_common
@_recon
@_lr
@_init
def gan(recon_weight: float, lr: float, init_id: str | None, **opts: Any) -> None:
    """Stage 1: train the decoder as a GAN generator (checkpoint OUT/ID/gan_ckpt.pt)."""
    budget = _budget(opts["epochs"], opts["minutes"])
    (config, images, run_dir, device, world), init = _init_setup(init_id, recon_weight, opts)
    train_gan(config, images, run_dir, budget, recon_weight=recon_weight, lr=lr, init=init, **_shared(opts, device, world))
    distributed.finish()


def _stage2(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--encoder-lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True,
                      help="Stage 2 peak learning rate (cosine to 0); lower when stage 2 starts from stage 1's encoder.")(fn)  # fmt: skip
    return click.option(
        "--perceptual-weight",
        type=click.FloatRange(min=0),
        default=0.002,
        show_default=True,
        help="Stage 2 loss: MSE + this x EfficientNet-Lite0 feature MSE (the paper's weight); 0 = MSE only.",
    )(fn)


def _start_width(start: ManifoldConfig, decoder: ManifoldConfig, width: int | None) -> int:
    """``train encoder --init``'s encoder width (default: the starting encoder's), once its shape fits the decoder."""
    if (start.image_size, start.channels, start.latent_dim) != (decoder.image_size, decoder.channels, decoder.latent_dim):
        raise click.UsageError(f"--init {start.id} codes {_shape(start)} images in {start.latent_dim} numbers, "
                               f"the decoder {_shape(decoder)} ones in {decoder.latent_dim}")  # fmt: skip
    if width is not None and width < start.encoder_base_width:
        raise click.UsageError(f"--encoder-width {width} is below {start.id}'s {start.encoder_base_width}: "
                               "an encoder can be widened, not narrowed")  # fmt: skip
    return width or start.encoder_base_width


def _shape(config: ManifoldConfig) -> str:
    return f"{config.image_size}x{config.image_size}x{config.channels}"


def _loss(weight: float, device: torch.device) -> ReconLoss:
    return F.mse_loss if weight == 0 else PerceptualLoss(weight).to(device)


@train.command()
@_common
@_stage2
@click.option("--decoder", "decoder_id", metavar="MANIFOLD",
              help="Train against this manifold's decoder (found as `ncodec decode` finds it) instead of OUT/ID's stage-1 "
                   "checkpoint. Its architecture replaces --image-size/--latent-dim/--width, and OUT/manifolds/ID/ gets its "
                   "decoder file byte for byte beside the new encoder: same fingerprint, so files coded before still decode.")  # fmt: skip
@click.option("--init", "init_id", metavar="MANIFOLD",
              help="With --decoder: start from this manifold's encoder (often the --decoder one) instead of random weights, "
                   "widened to --encoder-width when that is larger (ncodec.train.widen), so that a wider encoder starts "
                   "from what the narrow one learned. Its image size and latent length must be the decoder's. "
                   "Ignored by --resume.")  # fmt: skip
def encoder(perceptual_weight: float, encoder_lr: float, decoder_id: str | None, init_id: str | None, **opts: Any) -> None:
    """Stage 2: train the encoder against the stage-1 EMA generator, or against an existing manifold's decoder."""
    budget = _budget(opts["epochs"], opts["minutes"])
    if init_id and not decoder_id:
        raise click.UsageError("--init needs --decoder: without it stage 2 starts from the run's own stage-1 encoder")
    source = open_manifold(decoder_id) if decoder_id else None
    start = open_manifold(init_id, need_encoder=True) if init_id else None
    if source is not None and start is not None:
        opts["encoder_width"] = _start_width(start.config, source.config, opts["encoder_width"])
    config, images, run_dir, device, world = _setup(opts, source.config if source else None)
    if source is None:
        decoder, init = load_generator(run_dir / CKPT_NAME, config, device), joint_encoder_state(run_dir / CKPT_NAME)
    else:
        decoder = source.decoder(str(device))  # a copy of its own on the device: the CPU one stays as it is
        init = _encoder_weights(start, config, opts["seed"]) if start else None
    loss_fn = _loss(perceptual_weight, device)
    common = _shared(opts, device, world)
    enc = train_encoder(config, images, decoder, run_dir, budget, loss_fn=loss_fn, init=init, lr=encoder_lr, **common)
    if source is not None and world.main:
        folder = opts["out"] / "manifolds" / config.id
        save_encoder(folder, config, source.path("decoder"), enc)
        click.echo(f"wrote {folder}", err=True)
    distributed.finish()


@train.command()
@_common
@click.option("--encoder-epochs", type=BUDGET, help="Total epochs of stage 2.")
@click.option("--encoder-minutes", type=BUDGET, help="Total minutes of stage 2.")
@_stage2
@_recon
@_lr
@_init
def manifold(
    encoder_epochs: float | None,
    encoder_minutes: float | None,
    perceptual_weight: float,
    encoder_lr: float,
    recon_weight: float,
    lr: float,
    init_id: str | None,
    **opts: Any,
) -> None:
    """Both stages, then write the manifold folder OUT/manifolds/ID/ (fp16 safetensors).

    Use it with NCODEC_MANIFOLD_PATH=OUT/manifolds, or pin it with `ncodec manifolds register`.
    """
    gan_budget = _budget(opts["epochs"], opts["minutes"])
    enc_budget = _budget(encoder_epochs, encoder_minutes)
    (config, images, run_dir, device, world), init = _init_setup(init_id, recon_weight, opts)
    common = _shared(opts, device, world)
    decoder = train_gan(config, images, run_dir, gan_budget, recon_weight=recon_weight, lr=lr, init=init, **common)
    init = joint_encoder_state(run_dir / CKPT_NAME)
    loss_fn = _loss(perceptual_weight, device)
    enc = train_encoder(config, images, decoder, run_dir, enc_budget, loss_fn=loss_fn, init=init, lr=encoder_lr, **common)
    if world.main:
        folder = opts["out"] / "manifolds" / config.id
        save_manifold(folder, config, decoder, enc, half=True)
        click.echo(f"wrote {folder}", err=True)
    distributed.finish()


if __name__ == "__main__":
    train()
