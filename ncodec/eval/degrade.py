"""Graceful degradation (the paper's Figure 7): one image at decreasing rates, one row per codec.

ncodec lowers its rate by sending fewer bits per latent entry and stays a plausible image down
to 1 bit; block and wavelet codecs fall apart into blocks and blur. Every panel is labelled with
its whole-file size and PSNR, so the strip is also a table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ncodec.eval.rd import Point, markdown

LABEL_HEIGHT = 26


def strip(image: np.ndarray, rows: Sequence[Sequence[Point]], path: Path, scale: int = 2) -> None:
    """The original on the left of each row, then the row's points from highest to lowest rate."""
    h, w = image.shape[0] * scale, image.shape[1] * scale
    columns = 1 + max(len(r) for r in rows)
    picture = Image.new("RGB", (columns * w, len(rows) * (h + LABEL_HEIGHT)), "white")
    draw = ImageDraw.Draw(picture)
    original = Image.fromarray(image).resize((w, h), Image.Resampling.NEAREST)
    for r, row in enumerate(rows):
        top = r * (h + LABEL_HEIGHT)
        picture.paste(original, (0, top + LABEL_HEIGHT))
        draw.text((3, top + 2), "original", fill="black")
        for c, p in enumerate(sorted(row, key=lambda p: -p.file_bpp), start=1):
            assert p.decoded is not None
            picture.paste(Image.fromarray(p.decoded[0]).resize((w, h), Image.Resampling.NEAREST), (c * w, top + LABEL_HEIGHT))
            size = round(p.file_bpp * image.shape[0] * image.shape[1] / 8)
            draw.multiline_text((c * w + 3, top + 1), f"{p.codec.split()[0]} {p.setting.split(' effort')[0]}\n{size} B, {p.psnr:.1f} dB",
                                fill="black", spacing=1)  # fmt: skip
    picture.save(path, optimize=True)


def write_report(image: np.ndarray, rows: Sequence[Sequence[Point]], out: Path, title: str, meta: dict[str, object]) -> None:
    """strip.png, results.md and results.json in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    points = [p for row in rows for p in row]
    strip(image, rows, out / "strip.png")
    (out / "results.md").write_text(f"{title}\n\n{markdown(points)}")
    (out / "results.json").write_text(json.dumps({**meta, "rows": [p.row() for p in points]}, indent=1) + "\n")
