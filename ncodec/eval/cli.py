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
@click.option("--codecs", multiple=True, type=click.Choice(sorted(rd.SWEEPS)), default=sorted(rd.SWEEPS), show_default=True)
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
        points += rd.pillow_points(images, fmt)
    seconds = time.perf_counter() - start
    machine = f"{platform.machine()} {platform.processor() or ''}".strip()
    title = f"{len(images)} images of {data.parent.name}/{data.name} ({images.shape[2]}x{images.shape[1]}), {seconds:.0f} s on {machine}"
    rd.write_report(points, images, out, title, {"data": str(data), "images": len(images), "seconds": seconds, "machine": machine})
    click.echo(f"{title}\n\n{rd.markdown(points)}\nwrote {out}/results.md, results.json, rd.png, grid.png")
