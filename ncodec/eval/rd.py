"""Rate and distortion of NCode beside JPEG, JPEG 2000, WebP and AVIF on the same images (the paper's Figure 3).

Every codec is run on uint8 (N, H, W, 3) images and measured the same way: mean payload and
whole-file bits per pixel, mean PSNR and SSIM (ncodec.eval.metrics). NCode's payload is the
latent bits (as the paper counts); JPEG's payload is the paper's headerless size
(ncodec.eval.jpeg); JPEG 2000 is a raw codestream, so its file is its payload; WebP and AVIF
have no payload column. Each classical codec is swept down to the lowest rate Pillow can reach.
"""

from __future__ import annotations

import collections
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from ncodec.codec import AUTO
from ncodec.eval.figures import log_x_panels
from ncodec.eval.jpeg import headerless_size
from ncodec.eval.metrics import psnr, ssim

_J2K = {"irreversible": True, "quality_mode": "rates", "no_jp2": True}
SWEEPS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "JPEG": [(f"quality={q}", {"quality": q}) for q in (1, 5, 10, 20, 40)],
    "JPEG2000": [(f"rate 1:{r}", {**_J2K, "quality_layers": [r]}) for r in (100, 50, 30, 15)],
    "WEBP": [(f"quality={q}", {"quality": q, "method": 6}) for q in (0, 10, 30, 60)],
    "AVIF": [(f"quality={q}", {"quality": q}) for q in (0, 10, 30, 60)],
}
"""Settings per Pillow format, lowest rate first; JPEG 2000 cannot go below about 1:100 at 64x64."""


@dataclass
class Point:
    """One codec at one setting, averaged over the images."""

    codec: str
    setting: str
    payload_bpp: float | None
    file_bpp: float
    psnr: float
    ssim: float
    encode_ms: float | None = None
    decoded: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    bits: int | None = None
    """NCode's bits per latent entry (None for the classical codecs); with ``effort``, picks the grid's rows."""
    effort: int | None = None

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "decoded"}


def measured(codec: str, setting: str, images: np.ndarray, decoded: np.ndarray, payload_bits: float | None,
              file_bits: float, encode_ms: float | None = None) -> Point:  # fmt: skip
    pixels = images.shape[1] * images.shape[2]
    return Point(
        codec,
        setting,
        None if payload_bits is None else payload_bits / pixels,
        file_bits / pixels,
        float(psnr(images, decoded).mean()),
        float(ssim(images, decoded).mean()),
        encode_ms,
        decoded,
    )


def ncode_points(
    images: np.ndarray, manifold: str, bits: Sequence[int], efforts: Sequence[int], report: Callable[[Point], None] | None = None
) -> list[Point]:
    """NCode(M, b) for each b and effort: one encode (timed) and decode per setting; ``report`` sees each point when done."""
    import ncodec

    points = []
    ncodec.compress(images[0], manifold=manifold, effort=min(efforts))  # load the networks and warm up before timing
    for b in bits:
        for effort in efforts:
            start = time.perf_counter()
            blobs = ncodec.compress_batch(images, manifold=manifold, bits=b, effort=effort)
            encode_ms = 1000 * (time.perf_counter() - start) / len(images)
            decoded = np.stack(ncodec.decompress_batch(blobs))
            parsed = [ncodec.read_ncz(x) for x in blobs]
            setting = f"NCode({'|'.join(sorted({str(p.header.latent_dim) for p in parsed}, key=int))},{b}) effort {effort}"
            if manifold == AUTO:
                setting += _choices(p.header.manifold_id for p in parsed)
            payload_bits = float(np.mean([p.payload_bits for p in parsed]))
            file_bits = 8 * float(np.mean([len(x) for x in blobs]))
            point = measured(f"ncodec {manifold}", setting, images, decoded, payload_bits, file_bits, encode_ms)
            points.append(replace(point, bits=b, effort=effort))
            if report is not None:
                report(points[-1])
    return points


def _choices(ids: Iterable[str]) -> str:
    """What ``manifold="auto"`` chose, most chosen first: ", faces64-z100 x 480, flowers64-z100 x 20"."""
    return "".join(f", {i} x {n}" for i, n in collections.Counter(ids).most_common())


def pillow_points(
    images: np.ndarray,
    fmt: str,
    settings: Sequence[tuple[str, dict[str, Any]]] | None = None,
    report: Callable[[Point], None] | None = None,
) -> list[Point]:
    """A Pillow codec at each setting (default: its sweep in SWEEPS); ``report`` sees each point when done."""
    points = []
    for setting, options in settings if settings is not None else SWEEPS[fmt]:
        decoded, file_bits, payload_bits = [], 0.0, 0.0
        for image in images:
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format=fmt, **options)
            data = buffer.getvalue()
            file_bits += 8 * len(data)
            payload_bits += 8 * (headerless_size(data) if fmt == "JPEG" else len(data))
            decoded.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
        payload = payload_bits / len(images) if fmt in ("JPEG", "JPEG2000") else None
        points.append(measured(fmt, setting, images, np.stack(decoded), payload, file_bits / len(images)))
        if report is not None:
            report(points[-1])
    return points


def markdown(points: Sequence[Point]) -> str:
    lines = ["| codec | setting | payload bpp | file bpp | PSNR dB | SSIM | encode ms/img |", "|---|---|---:|---:|---:|---:|---:|"]
    for p in points:
        payload = "-" if p.payload_bpp is None else f"{p.payload_bpp:.3f}"
        encode = "-" if p.encode_ms is None else f"{p.encode_ms:.1f}"
        lines.append(f"| {p.codec} | {p.setting} | {payload} | {p.file_bpp:.3f} | {p.psnr:.2f} | {p.ssim:.3f} | {encode} |")
    return "\n".join(lines) + "\n"


def _series(point: Point) -> str:
    """One line per codec, and per effort level for ncodec (its settings differ in rate and in effort)."""
    _, found, level = point.setting.rpartition(" effort ")
    return f"{point.codec}, effort {level}" if found else point.codec


def plot(points: Sequence[Point], path: Path, title: str) -> None:
    """Whole-file bpp against PSNR and SSIM, one line per codec (ncodec's payload bpp dashed)."""
    with log_x_panels(path, title, "bits per pixel", ("PSNR (dB)", "SSIM")) as axes:
        for name in dict.fromkeys(map(_series, points)):
            series = sorted((p for p in points if _series(p) == name), key=lambda p: p.file_bpp)
            for ax, metric in zip(axes, ("psnr", "ssim"), strict=True):
                ys = [getattr(p, metric) for p in series]
                ax.plot([p.file_bpp for p in series], ys, "o-", label=f"{name} (file)")
                if name.startswith("ncodec"):
                    ax.plot([p.payload_bpp for p in series], ys, "o--", label=f"{name} (payload)")


def grid(images: np.ndarray, points: Sequence[Point], path: Path, count: int = 6) -> None:
    """Originals in the first row, then each point's reconstructions, labelled with codec and bpp.

    Images smaller than 48 pixels are enlarged (nearest neighbour) so that three lines of label fit a row.
    """
    from PIL import ImageDraw

    scale = -(-48 // images.shape[1])
    height, width, label = images.shape[1] * scale, images.shape[2] * scale, 190
    picture = Image.new("RGB", (label + count * width, (len(points) + 1) * height), "white")
    draw = ImageDraw.Draw(picture)
    rows = [("original", images), *((f"{p.codec}\n{p.setting}\n{p.file_bpp:.2f} bpp, {p.psnr:.1f} dB", p.decoded) for p in points)]
    for r, (name, pictures) in enumerate(rows):
        draw.multiline_text((4, r * height + 4), name, fill="black")
        for c in range(min(count, len(images))):
            assert pictures is not None
            tile = Image.fromarray(pictures[c]).resize((width, height), Image.Resampling.NEAREST)
            picture.paste(tile, (label + c * width, r * height))
    picture.save(path)


def write_report(points: Sequence[Point], images: np.ndarray, out: Path, title: str, meta: dict[str, Any]) -> None:
    """results.json, results.md, rd.png and grid.png (grid_rows) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({**meta, "rows": [p.row() for p in points]}, indent=1) + "\n")
    (out / "results.md").write_text(f"{title}\n\n{markdown(points)}")
    plot(points, out / "rd.png", title)
    grid(images, grid_rows(points), out / "grid.png")


def grid_rows(points: Sequence[Point]) -> list[Point]:
    """The paper's Figure 3: NCode at every b run (its highest effort), each classical codec at its lowest rate."""

    def preference(p: Point) -> float:
        return p.effort or 0 if p.bits is not None else -p.file_bpp

    groups = dict.fromkeys((p.codec, p.bits) for p in points)
    return [max((p for p in points if (p.codec, p.bits) == group), key=preference) for group in groups]
