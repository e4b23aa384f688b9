"""Rate and distortion of ncodec at several bits/effort settings, beside JPEG and WebP.

    python benchmarks/quality.py --data ../shared/data/faces64/test.npz --n 500

Prints a Markdown table (payload and whole-file bits per pixel, PSNR, SSIM, encode
time) and optionally writes JSON. JPEG, JPEG 2000 and WebP are at their lowest settings
through Pillow, counted as whole files; JPEG's "payload" column is the paper's headerless
count (tables and scan kept: ncodec.eval.jpeg), JPEG 2000 is a raw codestream (no JP2 box).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image

import ncodec
from ncodec.eval.jpeg import headerless_size
from ncodec.eval.metrics import psnr, ssim


def _pillow_codec(images: np.ndarray, fmt: str, **options: object) -> tuple[np.ndarray, float, float | None]:
    """Decoded images, mean file bytes and (JPEG only) mean headerless bytes."""
    decoded, sizes, headerless = [], [], []
    for image in images:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format=fmt, **options)
        sizes.append(buf.tell())
        if fmt == "JPEG":
            headerless.append(headerless_size(buf.getvalue()))
        decoded.append(np.asarray(Image.open(buf).convert("RGB")))
    return np.stack(decoded), float(np.mean(sizes)), float(np.mean(headerless)) if headerless else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces64/test.npz"), help=".npz with uint8 'images'")
    parser.add_argument("--n", type=int, default=500, help="first N images")
    parser.add_argument("--manifold", default=ncodec.DEFAULT_MANIFOLD)
    parser.add_argument("--bits", type=int, nargs="+", default=[2, 4, 5, 8])
    parser.add_argument("--efforts", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()

    images = np.load(args.data)["images"][: args.n]
    pixels = images.shape[1] * images.shape[2]
    rows = []
    for bits in args.bits:
        for effort in args.efforts:
            start = time.perf_counter()
            blobs = ncodec.compress_batch(images, manifold=args.manifold, bits=bits, effort=effort)
            seconds = time.perf_counter() - start
            decoded = np.stack(ncodec.decompress_batch(blobs))
            payload = ncodec.read_ncz(blobs[0]).payload_bits
            rows.append(
                {"codec": f"ncodec {args.manifold}", "setting": f"b={bits} effort={effort}", "payload_bpp": payload / pixels,
                 "file_bpp": 8 * np.mean([len(b) for b in blobs]) / pixels, "psnr": float(psnr(images, decoded).mean()),
                 "ssim": float(ssim(images, decoded).mean()), "encode_ms": 1000 * seconds / len(images)}
            )  # fmt: skip
    j2k = {"irreversible": True, "quality_mode": "rates", "no_jp2": True}
    peers: list[tuple[str, str, dict[str, object]]] = [
        ("JPEG", "quality=1", {"quality": 1}),
        ("JPEG2000", "rate 1:50", {**j2k, "quality_layers": [50]}),
        ("JPEG2000", "rate 1:100 (smallest reachable)", {**j2k, "quality_layers": [100]}),
        ("WEBP", "quality=0", {"quality": 0, "method": 6}),
    ]
    for fmt, setting, options in peers:
        decoded, size, headerless = _pillow_codec(images, fmt, **options)
        rows.append(
            {"codec": fmt, "setting": setting, "payload_bpp": headerless and 8 * headerless / pixels, "file_bpp": 8 * size / pixels,
             "psnr": float(psnr(images, decoded).mean()), "ssim": float(ssim(images, decoded).mean()), "encode_ms": None}
        )  # fmt: skip

    print(f"{len(images)} images from {args.data}, machine: {platform.machine()} {platform.processor() or ''}".strip())
    print("| codec | setting | payload bpp | file bpp | PSNR dB | SSIM | encode ms/img |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        pay = f"{r['payload_bpp']:.3f}" if r["payload_bpp"] is not None else "-"
        enc = f"{r['encode_ms']:.1f}" if r["encode_ms"] is not None else "-"
        print(f"| {r['codec']} | {r['setting']} | {pay} | {r['file_bpp']:.3f} | {r['psnr']:.2f} | {r['ssim']:.3f} | {enc} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
