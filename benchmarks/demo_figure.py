"""The README's picture: original | ncodec | JPEG and WebP at their lowest quality, with sizes.

python benchmarks/demo_figure.py examples/kodim04-face.png docs/img/kodim04-face.png
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import ncodec
from ncodec.eval.metrics import psnr


def _pillow(image: Image.Image, fmt: str, **options: object) -> tuple[Image.Image, int]:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), buf.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--bits", type=int, default=5)
    parser.add_argument("--effort", type=int, default=1)
    parser.add_argument("--scale", type=int, default=2)
    args = parser.parse_args()

    original = Image.open(args.image).convert("RGB")
    blob = ncodec.compress(original, bits=args.bits, effort=args.effort)
    jpeg, jpeg_bytes = _pillow(original, "JPEG", quality=1)
    webp, webp_bytes = _pillow(original, "WEBP", quality=0, method=6)
    panels = [
        (original, f"original ({args.image.stat().st_size} B PNG)"),
        (ncodec.decompress(blob, output="pil"), f"ncodec b={args.bits}: {len(blob)} B"),
        (jpeg, f"JPEG q=1: {jpeg_bytes} B"),
        (webp, f"WebP q=0: {webp_bytes} B"),
    ]
    w, h = original.width * args.scale, original.height * args.scale
    strip = Image.new("RGB", (w * len(panels), h + 16), "white")
    draw = ImageDraw.Draw(strip)
    reference = np.asarray(original)
    for i, (image, label) in enumerate(panels):
        strip.paste(image.resize((w, h), Image.Resampling.NEAREST), (i * w, 16))
        score = "" if i == 0 else f", {psnr(reference, np.asarray(image))[0]:.1f} dB"
        draw.text((i * w + 3, 2), label + score, fill="black")
        print(label + score)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    strip.save(args.output, optimize=True)


if __name__ == "__main__":
    main()
