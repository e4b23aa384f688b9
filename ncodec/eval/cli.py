"""``ncodec eval ...``: commands that rerun the published tables and write Markdown, JSON and PNG."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import click
import numpy as np

from ncodec.eval import rd


@click.group(name="eval")
def eval_group() -> None:
    """Reproduce the evaluation tables."""


@eval_group.command(name="rd")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=Path("../shared/data/faces64/test.npz"),
              show_default=True, help=".npz test split with uint8 'images' (N, H, W, 3).")  # fmt: skip
@click.option("-n", "--count", default=200, show_default=True, help="First N images.")
@click.option("-m", "--manifold", "manifolds", multiple=True, help="Manifold(s) to run; default: the default manifold.")
@click.option("--bits", "bits", multiple=True, type=click.IntRange(1, 8), default=(2, 4, 5, 8), show_default=True)
@click.option("-e", "--effort", "efforts", multiple=True, type=click.IntRange(0, 3), default=(1,), show_default=True)
@click.option("--codecs", multiple=True, type=click.Choice([*sorted(rd.SWEEPS), "none"]), default=sorted(rd.SWEEPS), show_default=True,
              help="Classical codecs beside ncodec ('none': ncodec only).")  # fmt: skip
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/rd"), show_default=True)
def rd_(
    data: Path, count: int, manifolds: tuple[str, ...], bits: tuple[int, ...], efforts: tuple[int, ...], codecs: tuple[str, ...], out: Path
) -> None:
    """Rate-distortion: ncodec at each b beside JPEG, JPEG 2000, WebP and AVIF swept to their lowest rates.

    Writes OUT/results.md, results.json, rd.png (bpp vs PSNR and SSIM) and grid.png (reconstructions).
    """
    import ncodec

    with np.load(data) as npz:
        images = npz["images"][:count]
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise click.UsageError(f"{data}: 'images' must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    start = time.perf_counter()
    points = []
    for manifold in manifolds or (ncodec.DEFAULT_MANIFOLD,):
        points += rd.ncode_points(images, manifold, bits, efforts)
    for fmt in codecs:
        if fmt != "none":
            points += rd.pillow_points(images, fmt)
    seconds = time.perf_counter() - start
    machine = f"{platform.machine()} {platform.processor() or ''}".strip()
    title = f"{len(images)} images of {data.parent.name}/{data.name} ({images.shape[2]}x{images.shape[1]}), {seconds:.0f} s on {machine}"
    rd.write_report(points, images, out, title, {"data": str(data), "images": len(images), "seconds": seconds, "machine": machine})
    click.echo(f"{title}\n\n{rd.markdown(points)}\nwrote {out}/results.md, results.json, rd.png, grid.png")


def _labelled(path: Path, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as npz:
        if "labels" not in npz:
            raise click.UsageError(f"{path}: needs 'images' and 'labels'")
        return npz["images"][:count], npz["labels"][:count]


@eval_group.command(name="train-classifier")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=Path("../shared/data/cifar10/train.npz"),
              show_default=True, help="Uncompressed training images and labels.")  # fmt: skip
@click.option("--test", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Report accuracy on this split after training.")
@click.option("--epochs", default=40, show_default=True)
@click.option("--width", default=64, show_default=True, help="Channels of the first stage (ResNet-9: 64).")
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
@click.option("-n", "--count", type=int, help="First N test images (default: all).")
@click.option("-m", "--manifold", "manifolds", multiple=True, help="Manifold(s) for the images' size, e.g. cifar32-z100.")
@click.option("--bits", "bits", multiple=True, type=click.IntRange(1, 8), default=(2, 4, 5, 8), show_default=True)
@click.option("-e", "--effort", "efforts", multiple=True, type=click.IntRange(0, 3), default=(1,), show_default=True)
@click.option("--codecs", multiple=True, type=click.Choice(sorted(rd.SWEEPS)), default=sorted(rd.SWEEPS), show_default=True)
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/classify"), show_default=True)
def classify(weights: Path, data: Path, count: int | None, manifolds: tuple[str, ...], bits: tuple[int, ...], efforts: tuple[int, ...],
             codecs: tuple[str, ...], out: Path) -> None:  # fmt: skip
    """Classifier accuracy on test images as each codec decodes them, with compression factor eta = 24 bpp / file bpp."""
    import json

    from ncodec.eval.classifier import load_classifier, predict

    net = load_classifier(weights)
    images, labels = _labelled(data, count)
    points = [p for m in manifolds for p in rd.ncode_points(images, m, bits, efforts)]
    points += [p for fmt in codecs for p in rd.pillow_points(images, fmt)]
    rows = [
        {"codec": "uncompressed", "setting": "-", "file_bpp": 24.0, "eta": 1.0, "accuracy": float(np.mean(predict(net, images) == labels))}
    ]
    for p in points:
        assert p.decoded is not None
        accuracy = float(np.mean(predict(net, p.decoded) == labels))
        rows.append({"codec": p.codec, "setting": p.setting, "file_bpp": p.file_bpp, "eta": 24.0 / p.file_bpp, "accuracy": accuracy})
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"data": str(data), "images": len(images), "rows": rows}, indent=1) + "\n")
    lines = ["| codec | setting | file bpp | eta | accuracy |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['codec']} | {r['setting']} | {r['file_bpp']:.3f} | {r['eta']:.0f} | {r['accuracy']:.2%} |" for r in rows]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    click.echo("\n".join(lines))
