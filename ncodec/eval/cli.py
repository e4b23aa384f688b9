"""``ncodec eval ...``: commands that rerun the published tables and write Markdown, JSON and PNG."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import click
import numpy as np

from ncodec.eval import bit_errors, degrade, rd
from ncodec.train.data import jpeg_images

MACHINE = f"{platform.machine()} {platform.processor() or ''}".strip()
CODEC_CHOICE = click.Choice(sorted(rd.SWEEPS), case_sensitive=False)
DATA_OPTION = click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), show_default=True,
                           default=Path("../shared/data/faces64/test.npz"),
                           help=".npz test split: uint8 'images' (N, H, W, 3), or 'jpeg' + 'offsets'.")  # fmt: skip


def _point_reporter(start: float) -> Callable[[rd.Point], None]:
    """One stderr line per measured codec setting: these runs take minutes, so say what is done as it goes."""

    def report(point: rd.Point) -> None:
        click.echo(f"{time.perf_counter() - start:6.0f} s  {point.codec} {point.setting}: {point.psnr:.2f} dB", err=True)

    return report


def _images(data: Path, count: int | None = None) -> np.ndarray:
    """The first ``count`` images of an .npz test split (``images``, or ``jpeg`` + ``offsets``), checked to be uint8 RGB."""
    with np.load(data) as npz:
        if "images" in npz:
            images: np.ndarray = npz["images"][:count]
        elif "jpeg" in npz and "offsets" in npz:
            stop = None if count is None else count + 1
            images = np.stack([np.asarray(im.convert("RGB")) for im in jpeg_images(npz["jpeg"], npz["offsets"][:stop])])
        else:
            raise click.UsageError(f"{data}: expected an 'images' array, or 'jpeg' + 'offsets' (JPEG files back to back)")
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise click.UsageError(f"{data}: 'images' must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    return images


@click.group(name="eval")
def eval_group() -> None:
    """Reproduce the evaluation tables."""


@eval_group.command(name="rd")
@DATA_OPTION
@click.option("-n", "--count", type=click.IntRange(1), default=200, show_default=True, help="First N images.")
@click.option("-m", "--manifold", "manifolds", multiple=True, help="Manifold(s) to run; default: the default manifold.")
@click.option("--bits", "bits", multiple=True, type=click.IntRange(1, 8), default=(2, 4, 5, 8), show_default=True)
@click.option("-e", "--effort", "efforts", multiple=True, type=click.IntRange(0, 3), default=(1,), show_default=True)
@click.option("--codecs", multiple=True, type=click.Choice([*CODEC_CHOICE.choices, "none"], case_sensitive=False),
              default=sorted(rd.SWEEPS), show_default=True, help="Classical codecs beside ncodec ('none': ncodec only).")  # fmt: skip
@click.option("--peer", "peers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A trained CompressAI peer (ncodec eval train-peer) to add; repeat for several rates.")  # fmt: skip
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/rd"), show_default=True)
def rd_(data: Path, count: int, manifolds: tuple[str, ...], bits: tuple[int, ...], efforts: tuple[int, ...], codecs: tuple[str, ...],
        peers: tuple[Path, ...], out: Path) -> None:  # fmt: skip
    """Rate-distortion: ncodec at each b beside JPEG, JPEG 2000, WebP and AVIF swept to their lowest rates.

    Writes OUT/results.md, results.json, rd.png (bpp vs PSNR and SSIM) and grid.png (reconstructions: NCode at each b,
    each classical codec at its lowest rate).
    """
    import ncodec

    images = _images(data, count)
    start = time.perf_counter()

    report = _point_reporter(start)
    points = []
    for manifold in manifolds or (ncodec.DEFAULT_MANIFOLD,):
        points += rd.ncode_points(images, manifold, bits, efforts, report)
    for fmt in codecs:
        if fmt != "none":
            points += rd.pillow_points(images, fmt, report=report)
    if peers:
        points += _peer().peer_points(images, list(peers))
    seconds = time.perf_counter() - start
    title = f"{len(images)} images of {data.parent.name}/{data.name} ({images.shape[2]}x{images.shape[1]}), {seconds:.0f} s on {MACHINE}"
    rd.write_report(points, images, out, title, {"data": str(data), "images": len(images), "seconds": seconds, "machine": MACHINE})
    click.echo(f"{title}\n\n{rd.markdown(points)}\nwrote {out}/results.md, results.json, rd.png, grid.png")


@eval_group.command(name="bit-errors")
@DATA_OPTION
@click.option("-n", "--count", type=click.IntRange(1), default=100, show_default=True, help="First N images.")
@click.option("-m", "--manifold", help="ncodec manifold (default: the default manifold).")
@click.option("--rate", "rates", multiple=True, type=click.FloatRange(0, 1, min_open=True), default=bit_errors.RATES, show_default=True,
              help="Bit error rates of the channel.")  # fmt: skip
@click.option("--trials", default=5, show_default=True, help="Channel draws per file and rate.")
@click.option("--seed", default=0, show_default=True, help="Seeds the channel: the same seed flips the same bits.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/bit-errors"), show_default=True)
def bit_errors_command(data: Path, count: int, manifold: str | None, rates: tuple[float, ...], trials: int, seed: int, out: Path) -> None:
    """Bit errors: ncodec (payload only, whole file, --robust file), JPEG and JPEG 2000 through one seeded channel.

    Writes OUT/results.md, results.json and bit-errors.png (PSNR and share decoded against the bit error rate).
    """
    images = _images(data, count)
    start = time.perf_counter()

    def report(row: bit_errors.Row) -> None:  # minutes of channel draws: say what is done as it goes
        click.echo(f"{time.perf_counter() - start:6.0f} s  {row.codec} at BER {row.ber:g}: {100 * row.decoded:.1f}% decoded", err=True)

    rows = bit_errors.run(images, sorted(rates), trials, seed, manifold, report)
    seconds = time.perf_counter() - start
    title = f"{len(images)} images of {data.parent.name}/{data.name}, {trials} channel draws each, seed {seed}"
    title += f", {seconds:.0f} s on {MACHINE}"
    meta = {"data": str(data), "images": len(images), "trials": trials, "seed": seed, "seconds": seconds, "machine": MACHINE}
    bit_errors.write_report(rows, out, title, meta)
    click.echo(f"{title}\n\n{bit_errors.markdown(rows)}\nwrote {out}/results.md, results.json, bit-errors.png")


@eval_group.command(name="degrade")
@DATA_OPTION
@click.option("--index", default=0, show_default=True, help="Which image of --data.")
@click.option("-m", "--manifold", "manifolds", multiple=True, help="Manifold(s), one row each; default: the default manifold.")
@click.option("--bits", "bits", multiple=True, type=click.IntRange(1, 8), default=(8, 5, 4, 3, 2, 1), show_default=True)
@click.option("-e", "--effort", default=1, show_default=True, type=click.IntRange(0, 3))
@click.option("--codecs", multiple=True, type=CODEC_CHOICE, default=("JPEG", "JPEG2000", "WEBP"), show_default=True)
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/degrade"), show_default=True)
def degrade_command(
    data: Path, index: int, manifolds: tuple[str, ...], bits: tuple[int, ...], effort: int, codecs: tuple[str, ...], out: Path
) -> None:
    """Graceful degradation: one image at decreasing rates, a row per codec, in OUT/strip.png (+ results.md/.json)."""
    import ncodec

    images = _images(data)
    if not 0 <= index < len(images):
        raise click.BadParameter(f"{data} has {len(images)} images", param_hint="--index")
    image = images[index : index + 1]
    rows = [rd.ncode_points(image, m, bits, (effort,)) for m in manifolds or (ncodec.DEFAULT_MANIFOLD,)]
    rows += [rd.pillow_points(image, fmt) for fmt in codecs]
    title = f"image {index} of {data.parent.name}/{data.name} at decreasing rates, on {MACHINE}"
    degrade.write_report(image[0], rows, out, title, {"data": str(data), "index": index, "machine": MACHINE})
    click.echo(f"{title}\n\n{rd.markdown([p for row in rows for p in row])}\nwrote {out}/strip.png, results.md, results.json")


@eval_group.command(name="samples")
@click.option("-m", "--manifold", "manifolds", multiple=True, help="Manifold(s), one row each; default: the default manifold.")
@click.option("-n", "--count", default=10, show_default=True, type=click.IntRange(1, 64), help="Samples per manifold.")
@click.option("--seed", default=0, show_default=True)
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("results/samples.png"), show_default=True)
def samples_command(manifolds: tuple[str, ...], count: int, seed: int, out: Path) -> None:
    """Decode random latents z ~ U[-1,1]^M: what each manifold draws from its prior, as one PNG."""
    import ncodec
    from ncodec.eval.samples import sample_grid

    out.parent.mkdir(parents=True, exist_ok=True)
    sample_grid(manifolds or (ncodec.DEFAULT_MANIFOLD,), count, seed, out)
    click.echo(f"wrote {out}")


def _peer() -> ModuleType:
    """ncodec.eval.peer, once CompressAI is known to import: its absence is a one-line error."""
    from ncodec.errors import MissingExtraError
    from ncodec.eval import peer

    try:
        peer.compressai_module()
    except MissingExtraError as exc:
        raise click.ClickException(str(exc)) from exc
    return peer


@eval_group.command(name="train-peer")
@click.option("--data", "sources", multiple=True, required=True, type=click.Path(exists=True, path_type=Path),
              help="Training images (.npz or folder), as for `ncodec train`; repeat for several.")  # fmt: skip
@click.option("--image-size", default=64, show_default=True, help="Images are fitted to this size (a multiple of 64).")
@click.option("--quality", type=click.Choice(["1", "2", "3"]), help="CompressAI's MSE lambda of this quality: 0.0018, 0.0035, 0.0067.")
@click.option("--lmbda", type=click.FloatRange(0, min_open=True), help="Rate-distortion trade-off (instead of --quality).")
@click.option("--minutes", type=click.FloatRange(0, min_open=True), help="Training time budget.")
@click.option("--steps", type=click.IntRange(1), help="Training steps (batches).")
@click.option("--batch-size", default=16, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="cpu, cuda or auto.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Weights file (.safetensors).")
def train_peer_command(sources: tuple[Path, ...], image_size: int, quality: str | None, lmbda: float | None, minutes: float | None,
                       steps: int | None, batch_size: int, seed: int, device: str, out: Path) -> None:  # fmt: skip
    """Train CompressAI's bmshj2018-hyperprior on our training split: the learned-codec peer of `ncodec eval rd --peer`."""
    import torch

    from ncodec.train.data import load_images

    if (quality is None) == (lmbda is None):
        raise click.UsageError("give one of --quality and --lmbda")
    if minutes is None and steps is None:
        raise click.UsageError("give --minutes or --steps")
    peer = _peer()
    where = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device)
    images = load_images(sources, image_size, warn=lambda message: click.echo(f"warning: {message}", err=True))
    trade_off = lmbda if lmbda is not None else peer.LAMBDAS[int(str(quality))]
    net, meta = peer.train_peer(images, trade_off, minutes=minutes, steps=steps, batch_size=batch_size, seed=seed, device=where)
    peer.save_peer(net.cpu(), {**meta, "data": " ".join(str(s) for s in sources)}, out)
    click.echo(f"wrote {out} ({meta['steps']} steps in {meta['seconds']} s on {where.type})")


def _labelled(path: Path, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as npz:
        if "labels" not in npz:
            raise click.UsageError(f"{path}: needs 'images' and 'labels'")
        return npz["images"][:count], npz["labels"][:count]


@eval_group.command(name="train-classifier")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=Path("../shared/data/cifar10/train.npz"),
              show_default=True, help="Uncompressed training images and labels.")  # fmt: skip
@click.option("--test", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Report accuracy on this split after training.")
@click.option("--epochs", default=30, show_default=True)
@click.option("--width", default=32, show_default=True, help="Channels of the first stage (the original ResNet-9: 64).")
@click.option("--batch-size", default=256, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="cpu, cuda or auto.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), show_default=True,
              default=Path("benchmarks/weights/cifar10-resnet9.safetensors"))  # fmt: skip
def train_classifier_command(
    data: Path, test: Path | None, epochs: int, width: int, batch_size: int, seed: int, device: str, out: Path
) -> None:
    """Train the CIFAR-10 classifier that `ncodec eval classify` measures codecs with (fp16 safetensors)."""
    import torch

    from ncodec.eval.classifier import predict, save_classifier, train_classifier

    where = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device)
    images, labels = _labelled(data)
    net = train_classifier(images, labels, epochs, batch_size=batch_size, width=width, seed=seed, device=where)
    save_classifier(net, out)
    click.echo(f"wrote {out}")
    if test is not None:
        test_images, test_labels = _labelled(test)
        click.echo(f"accuracy on {test}: {np.mean(predict(net, test_images) == test_labels):.2%}")


@eval_group.command(name="classify")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=Path("benchmarks/weights/cifar10-resnet9.safetensors"), show_default=True)  # fmt: skip
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=Path("../shared/data/cifar10/test.npz"),
              show_default=True)  # fmt: skip
@click.option("-n", "--count", type=click.IntRange(1), help="First N test images (default: all).")
@click.option("-m", "--manifold", "manifolds", multiple=True, help="Manifold(s) for the images' size, e.g. cifar32-z100.")
@click.option("--bits", "bits", multiple=True, type=click.IntRange(1, 8), default=(2, 4, 5, 8), show_default=True)
@click.option("-e", "--effort", "efforts", multiple=True, type=click.IntRange(0, 3), default=(1,), show_default=True)
@click.option("--codecs", multiple=True, type=CODEC_CHOICE, default=sorted(rd.SWEEPS), show_default=True)
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/classify"), show_default=True)
def classify(weights: Path, data: Path, count: int | None, manifolds: tuple[str, ...], bits: tuple[int, ...], efforts: tuple[int, ...],
             codecs: tuple[str, ...], out: Path) -> None:  # fmt: skip
    """Classifier accuracy on test images as each codec decodes them, with compression factor eta = 24 bpp / file bpp."""
    import json

    from ncodec.eval.classifier import load_classifier, predict

    start = time.perf_counter()
    net = load_classifier(weights)
    images, labels = _labelled(data, count)
    report = _point_reporter(start)
    points = [p for m in manifolds for p in rd.ncode_points(images, m, bits, efforts, report)]
    points += [p for fmt in codecs for p in rd.pillow_points(images, fmt, report=report)]
    rows = [
        {"codec": "uncompressed", "setting": "-", "file_bpp": 24.0, "eta": 1.0, "accuracy": float(np.mean(predict(net, images) == labels))}
    ]
    for p in points:
        assert p.decoded is not None
        accuracy = float(np.mean(predict(net, p.decoded) == labels))
        rows.append({"codec": p.codec, "setting": p.setting, "file_bpp": p.file_bpp, "eta": 24.0 / p.file_bpp, "accuracy": accuracy})
    seconds = time.perf_counter() - start
    title = f"{len(images)} images of {data.parent.name}/{data.name}, classifier {weights.name}, {seconds:.0f} s on {MACHINE}"
    out.mkdir(parents=True, exist_ok=True)
    meta = {"data": str(data), "images": len(images), "weights": str(weights), "seconds": seconds, "machine": MACHINE}
    (out / "results.json").write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")
    lines = ["| codec | setting | file bpp | eta | accuracy |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['codec']} | {r['setting']} | {r['file_bpp']:.3f} | {r['eta']:.0f} | {r['accuracy']:.2%} |" for r in rows]
    (out / "results.md").write_text(title + "\n\n" + "\n".join(lines) + "\n")
    click.echo(title + "\n\n" + "\n".join(lines))
