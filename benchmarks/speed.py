"""Encode/decode speed of ncodec beside Pillow's JPEG and WebP, on the same images.

    python benchmarks/speed.py [--threads N] [--json out.json]

Single-image latency (median ms, in-process, manifold already loaded) and batched
throughput (images/s) at several batch sizes. Network rows run the bare generator and
encoder on a device (CUDA when present, else the CPU; --device to choose) in fp32 and in
bf16 autocast with channels_last, with the FLOPs per image (torch's FlopCounterMode) and, with
--peak-tflops (e.g. 989 for an H100 SXM's dense bf16), the fraction of peak reached. Peak
memory: the process's peak RSS, and on CUDA the peak allocated device memory.
"""

from __future__ import annotations

import argparse
import copy
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
from torch.utils.flop_counter import FlopCounterMode

import ncodec
from ncodec.latent import MAX_EFFORT, decode_latents
from ncodec.manifolds import Manifold, open_manifold


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


def _flops(net: torch.nn.Module, example: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:
        net(example)
    return int(counter.get_total_flops())


def _network_rows(m: Manifold, device: torch.device, batches: list[int], peak_tflops: float | None) -> list[dict[str, object]]:
    """Bare generator (decode) and encoder throughput on ``device``, fp32 and bf16 autocast + channels_last."""
    cfg = m.config
    decoder = copy.deepcopy(m.decoder()).float().to(device).eval()
    encoder = copy.deepcopy(m.encoder()).float().to(device).eval()
    z = torch.rand(max(batches), cfg.latent_dim, device=device) * 2 - 1
    x = torch.rand(max(batches), cfg.channels, cfg.image_size, cfg.image_size, device=device) * 2 - 1
    flops = {"decode": _flops(decoder, z[:1]), "encode": _flops(encoder, x[:1])}
    rows: list[dict[str, object]] = []
    for dtype in (torch.float32, torch.bfloat16):
        fast = dtype == torch.bfloat16
        layout = torch.channels_last if fast else torch.contiguous_format
        nets = {"decode": decoder, "encode": encoder.to(memory_format=layout)}
        for op, net in nets.items():
            for batch in batches:
                data = z[:batch] if op == "decode" else x[:batch].contiguous(memory_format=layout)

                def run(n: torch.nn.Module = net, d: torch.Tensor = data, f: bool = fast) -> None:
                    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=f):
                        n(d)
                    if device.type == "cuda":
                        torch.cuda.synchronize()

                run()  # warm-up
                ms = _median_ms(run, 5) / batch
                row: dict[str, object] = {"op": f"{op} network {device.type} {'bf16' if fast else 'fp32'}", "batch": batch,
                                          "ms_per_image": ms, "images_per_s": 1000 / ms, "flops_per_image": flops[op]}  # fmt: skip
                if peak_tflops:
                    row["fraction_of_peak"] = flops[op] * 1000 / ms / (peak_tflops * 1e12)
                rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifold", default=ncodec.DEFAULT_MANIFOLD)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces64/test.npz"))
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 256, 4096])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="device of the network rows")
    parser.add_argument("--network-batches", type=int, nargs="+", default=[256, 4096, 8192])
    parser.add_argument("--peak-tflops", type=float, help="the device's peak for the dtype, for the fraction-of-peak column")
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

    network = _network_rows(m, torch.device(args.device), args.network_batches, args.peak_tflops)
    rows += network

    machine = f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    if args.device.startswith("cuda"):
        machine += f", {torch.cuda.get_device_name()}; peak CUDA memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB"
    print(f"{args.manifold} ({size}x{size}), {machine}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print("| operation | batch | ms/image | images/s | GFLOP/image | fraction of peak |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        gflop = f"{r['flops_per_image'] / 1e9:.4f}" if "flops_per_image" in r else "-"
        peak = f"{r['fraction_of_peak']:.1%}" if "fraction_of_peak" in r else "-"
        print(f"| {r['op']} | {r['batch']} | {r['ms_per_image']:.4f} | {r['images_per_s']:.0f} | {gflop} | {peak} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
