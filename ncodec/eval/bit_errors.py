"""Bit errors (the paper's Figure 4b): ncodec beside JPEG and JPEG 2000 through the same noisy channel.

Every file goes through the same seeded binary symmetric channel (ncodec.channel.bsc). For each
bit error rate: the share of files that still decode, and the mean PSNR of those that do
(against the original image). A file whose decoder raises, or returns the wrong size, counts
as failed. ncodec is measured three ways: payload bits only (the paper's experiment: the
header is assumed to arrive intact), the whole file, and the whole `--robust` file.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ncodec.channel import bsc
from ncodec.eval.figures import log_x_panels
from ncodec.eval.metrics import psnr

Decoder = Callable[[bytes], np.ndarray]
Channel = Callable[[bytes, float, np.random.Generator], bytes]

RATES = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
PSNR_CAP = 100.0
"""An exact copy has infinite PSNR; capped so that means stay finite."""


@dataclass
class Row:
    """One codec at one bit error rate, over every image and channel draw."""

    codec: str
    bytes: float
    ber: float
    decoded: float
    psnr: float


def _pillow_encode(image: np.ndarray, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **options)
    return buf.getvalue()


MAX_PIXELS = 1 << 20
"""A damaged header can claim a huge image: such a file has failed, so it is not decoded."""


def _pillow_decode(blob: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused just below
        im = Image.open(io.BytesIO(blob))
    with im:
        if im.width * im.height > MAX_PIXELS:
            raise ValueError(f"damaged header claims {im.width}x{im.height}")
        return np.asarray(im.convert("RGB"))


def _ncodec_decode(blob: bytes) -> np.ndarray:
    import ncodec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ncodec.PayloadDamagedWarning)
        return np.asarray(ncodec.decompress(blob))


def _payload_channel(blob: bytes, ber: float, rng: np.random.Generator) -> bytes:
    """Flip only the bits after the header: the paper's assumption of a protected header."""
    import ncodec

    head = len(ncodec.read_ncz(blob).header.prefix())
    return blob[:head] + bsc(blob[head:], ber, rng)


def measure(
    originals: np.ndarray, blobs: Sequence[bytes], decode: Decoder, channel: Channel, ber: float, trials: int, seed: int
) -> tuple[float, float]:
    """(share of files decoded, mean PSNR of those) after ``trials`` draws of the channel per file."""
    rng = np.random.default_rng([seed, round(ber * 1e6)])
    ok, scores = 0, []
    for _ in range(trials):
        for original, blob in zip(originals, blobs, strict=True):
            try:
                out = decode(channel(blob, ber, rng))
            except Exception:  # a broken file is the outcome being counted, whatever the decoder raises
                continue
            if out.shape != original.shape:
                continue
            ok += 1
            scores.append(float(np.minimum(psnr(original, out)[0], PSNR_CAP)))
    return ok / (trials * len(blobs)), float(np.mean(scores)) if scores else float("nan")


def codecs(images: np.ndarray, manifold: str | None = None) -> dict[str, tuple[list[bytes], Decoder, Channel]]:
    """The files each codec makes of ``images``, with their decoder and the channel they go through."""
    import ncodec

    manifold = manifold or ncodec.DEFAULT_MANIFOLD
    plain = ncodec.compress_batch(images, manifold=manifold, effort=1)
    robust = ncodec.compress_batch(images, manifold=manifold, effort=1, robust=True)
    j2k = {"quality_mode": "rates", "quality_layers": [24], "irreversible": True}
    return {
        "ncodec, payload bits only": (plain, _ncodec_decode, _payload_channel),
        "ncodec, whole file": (plain, _ncodec_decode, bsc),
        "ncodec --robust, whole file": (robust, _ncodec_decode, bsc),
        "JPEG q=50, whole file": ([_pillow_encode(i, "JPEG", quality=50) for i in images], _pillow_decode, bsc),
        "JPEG 2000 rate 24, whole file": ([_pillow_encode(i, "JPEG2000", **j2k) for i in images], _pillow_decode, bsc),
    }


def run(
    images: np.ndarray,
    rates: Sequence[float],
    trials: int,
    seed: int,
    manifold: str | None = None,
    report: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Every codec at BER 0 (one pass) and at each rate (``trials`` draws per file); ``report`` sees each row when done."""
    rows = []
    for name, (blobs, decode, channel) in codecs(images, manifold).items():
        size = float(np.mean([len(b) for b in blobs]))
        for ber in (0.0, *rates):
            decoded, score = measure(images, blobs, decode, channel, ber, 1 if ber == 0 else trials, seed)
            rows.append(Row(name, size, ber, decoded, score))
            if report is not None:
                report(rows[-1])
    return rows


def markdown(rows: Sequence[Row]) -> str:
    lines = ["| codec | mean bytes | BER | decoded | mean PSNR dB (decoded files) |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r.codec} | {r.bytes:.0f} | {r.ber:g} | {100 * r.decoded:.1f}% | {r.psnr:.2f} |" for r in rows]
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[Row], path: Path, title: str) -> None:
    """BER against mean PSNR of the decoded files and against the share decoded, one line per codec."""
    with log_x_panels(path, title, "bit error rate", ("mean PSNR of decoded files (dB)", "files decoded (%)"), legend_panel=1) as axes:
        for codec in dict.fromkeys(r.codec for r in rows):
            series = [r for r in rows if r.codec == codec and r.ber > 0]
            axes[0].plot([r.ber for r in series], [r.psnr for r in series], "o-", label=codec)
            axes[1].plot([r.ber for r in series], [100 * r.decoded for r in series], "o-", label=codec)


def write_report(rows: Sequence[Row], out: Path, title: str, meta: dict[str, object]) -> None:
    """results.json, results.md and bit-errors.png in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({**meta, "rows": [asdict(r) for r in rows]}, indent=1) + "\n")
    (out / "results.md").write_text(f"{title}\n\n{markdown(rows)}")
    plot(rows, out / "bit-errors.png", title)
