"""Encode/decode speed of ncodec beside Pillow's JPEG and WebP, on the same images.

    python benchmarks/speed.py [--threads N] [--json out.json]

Single-image latency (median ms, in-process, manifold already loaded) and batched
throughput (images/s) at several batch sizes; CUDA rows when a GPU is present.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import ncodec
from ncodec.latent import MAX_EFFORT, decode_latents
from ncodec.manifolds import open_manifold


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _pillow_roundtrip(image: np.ndarray, fmt: str, **options: object) -> None:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **options)
    np.asarray(Image.open(io.BytesIO(buf.getvalue())))


def _images(path: Path, n: int, size: int) -> np.ndarray:
    if path.exists():
        images = np.load(path)["images"][:n]
        if images.shape[1] == size:
            return images
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifold", default=ncodec.DEFAULT_MANIFOLD)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces64/test.npz"))
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 256, 4096])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    m = open_manifold(args.manifold)
    size = m.config.image_size
    images = _images(args.data, max(args.batches), size)
    one = images[0]
    blob = ncodec.compress(one, manifold=args.manifold, effort=0)
    rows: list[dict[str, object]] = []

    def add(op: str, batch: int, ms_per_image: float) -> None:
        rows.append({"op": op, "batch": batch, "ms_per_image": ms_per_image, "images_per_s": 1000 / ms_per_image})

    add("ncodec decode (API)", 1, _median_ms(lambda: ncodec.decompress(blob), args.repeat))
    for effort in range(MAX_EFFORT + 1):
        add(
            f"ncodec encode effort {effort} (API)",
            1,
            _median_ms(lambda e=effort: ncodec.compress(one, manifold=args.manifold, effort=e), 3 if effort > 1 else args.repeat),
        )
    for batch in args.batches:
        blobs = ncodec.compress_batch(images[:batch], manifold=args.manifold, effort=0)
        add("ncodec decode (API)", batch, _median_ms(lambda b=blobs: ncodec.decompress_batch(b), 3) / batch)
        add(
            "ncodec encode effort 0 (API)",
            batch,
            _median_ms(lambda b=batch: ncodec.compress_batch(images[:b], manifold=args.manifold, effort=0), 3) / batch,
        )
        indices = np.stack([ncodec.read_ncz(b).indices[0] for b in blobs])
        add("generator only", batch, _median_ms(lambda i=indices: decode_latents(m, i, 5), 3) / batch)
    add("JPEG q=75 encode+decode (Pillow)", 1, _median_ms(lambda: _pillow_roundtrip(one, "JPEG", quality=75), args.repeat))
    add("WebP q=75 encode+decode (Pillow)", 1, _median_ms(lambda: _pillow_roundtrip(one, "WEBP", quality=75), args.repeat))

    machine = f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    print(f"{args.manifold} ({size}x{size}), {machine}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print("| operation | batch | ms/image | images/s |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['op']} | {r['batch']} | {r['ms_per_image']:.3f} | {r['images_per_s']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
