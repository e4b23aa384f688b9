"""Encode/decode speed of ncodec beside Pillow's JPEG and WebP, on the same images.

    python benchmarks/speed.py [--threads N] [--json out.json]

Single-image latency (median ms, in-process, manifold already loaded) and batched
throughput (images/s) at several batch sizes; Pillow's JPEG and WebP encode and decode the
same images in the same run, so the ratios hold on a noisy machine. Network rows run the bare
generator and encoder on a device (CUDA when present, else the CPU; --device to choose; the API rows
use it too, through ncodec's device= argument) in fp32
and in bf16 autocast with channels_last, with the FLOPs per image (torch's FlopCounterMode) and,
with --peak-tflops (e.g. 989 for an H100 SXM's dense bf16), the fraction of peak reached. Peak
memory: the process's peak RSS, and on CUDA the peak allocated device memory. This script imports
torch, so its API rows run torch's decoder; the "NumPy decoder" rows time the one that decodes in a
process without torch (ncodec.decoding), such as a one-file `ncodec decode`. Last, what bf16 and
fp16 autocast cost in quality: PSNR/SSIM of test images decoded each way, and against fp32.

Rows print as they are measured. On a CPU the network rows default to batch 256 (a CPU without
native bf16 runs bf16 autocast several times slower than fp32, and batches of 8192 there take
minutes without telling anything new); on CUDA to 256, 4096 and 8192.
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
from ncodec.decoding import NUMPY_BELOW, decode_latents, numpy_decode
from ncodec.eval.metrics import psnr, ssim
from ncodec.latent import MAX_EFFORT, encode_latents, to_uint8
from ncodec.manifolds import Manifold, open_manifold
from ncodec.quantize import dequantize


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


PILLOW_QUALITY = 75
PILLOW = {"JPEG": f"JPEG q={PILLOW_QUALITY}", "WEBP": f"WebP q={PILLOW_QUALITY}"}
"""Pillow format -> row label of the classical codecs timed beside ncodec."""


def _pillow_encode(images: np.ndarray, fmt: str) -> list[bytes]:
    out = []
    for image in images:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format=fmt, quality=PILLOW_QUALITY)
        out.append(buf.getvalue())
    return out


def _pillow_decode(blobs: list[bytes]) -> None:
    for blob in blobs:
        np.asarray(Image.open(io.BytesIO(blob)))


def _images(path: Path, n: int, size: int) -> np.ndarray:
    """``n`` test images of the manifold's size, the set repeated when it holds fewer (faces64 test: 1,000)."""
    images = None
    if path.exists():
        images = np.load(path)["images"]
        if images.shape[1] != size:
            images = None
    if images is None:
        images = np.random.default_rng(0).integers(0, 256, (min(n, 1000), size, size, 3), dtype=np.uint8)
    return np.resize(images, (n, *images.shape[1:]))


def _flops(net: torch.nn.Module, example: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:
        net(example)
    return int(counter.get_total_flops())


Row = dict[str, object]


def _rate(images_per_s: object) -> str:
    rate = float(images_per_s)  # type: ignore[arg-type]
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.2f}"


def _print_row(r: Row) -> None:
    gflop = f"{r['flops_per_image'] / 1e9:.4f}" if "flops_per_image" in r else "-"  # type: ignore[operator]
    peak = f"{r['fraction_of_peak']:.1%}" if "fraction_of_peak" in r else "-"
    print(f"| {r['op']} | {r['batch']} | {r['ms_per_image']:.4f} | {_rate(r['images_per_s'])} | {gflop} | {peak} |", flush=True)


def _network_rows(m: Manifold, device: torch.device, batches: list[int], peak_tflops: float | None, emit: Callable[[Row], None]) -> None:
    """Bare generator (decode) and encoder throughput on ``device``, fp32 and bf16 autocast + channels_last."""
    cfg = m.config
    decoder = copy.deepcopy(m.decoder()).float().to(device).eval()
    encoder = copy.deepcopy(m.encoder()).float().to(device).eval()
    z = torch.rand(max(batches), cfg.latent_dim, device=device) * 2 - 1
    x = torch.rand(max(batches), cfg.channels, cfg.image_size, cfg.image_size, device=device) * 2 - 1
    flops = {"decode": _flops(decoder, z[:1]), "encode": _flops(encoder, x[:1])}
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

                ms = median_ms(run, 5) / batch
                row: Row = {"op": f"{op} network {device.type} {'bf16' if fast else 'fp32'}", "batch": batch,
                            "ms_per_image": ms, "images_per_s": 1000 / ms, "flops_per_image": flops[op]}  # fmt: skip
                if peak_tflops:
                    row["fraction_of_peak"] = flops[op] * 1000 / ms / (peak_tflops * 1e12)
                emit(row)


def _precision_rows(m: Manifold, images: np.ndarray, device: torch.device) -> list[Row]:
    """What decoding in bf16 / fp16 autocast costs in quality: the issue's "where quality holds"."""
    z = torch.from_numpy(dequantize(encode_latents(m, images, 5, 0), 5)).to(device)
    decoder = copy.deepcopy(m.decoder()).float().to(device)
    decoded = {}
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
        with torch.inference_mode(), torch.autocast(device.type, dtype or torch.bfloat16, enabled=dtype is not None):
            decoded[name] = np.concatenate([to_uint8(decoder(z[i : i + 256]).float().cpu()) for i in range(0, len(z), 256)])
    return [{"dtype": name, "psnr": float(psnr(images, x).mean()), "ssim": float(ssim(images, x).mean()),
             "psnr_vs_fp32": float(psnr(decoded["fp32"], x).mean()) if name != "fp32" else None}
            for name, x in decoded.items()]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifold", default=ncodec.DEFAULT_MANIFOLD)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces64/test.npz"))
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 256, 4096])
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per single-image row (batched rows: 3)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="device of the network rows")
    parser.add_argument("--network-batches", type=int, nargs="+", help="default: 256 4096 8192 on CUDA, 256 on a CPU")
    parser.add_argument("--peak-tflops", type=float, help="the device's peak for the dtype, for the fraction-of-peak column")
    parser.add_argument("--precision-images", type=int, default=500, help="test images decoded in fp32, bf16 and fp16")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    network_batches = args.network_batches or ([256, 4096, 8192] if device.type == "cuda" else [256])

    m = open_manifold(args.manifold)
    size = m.config.image_size
    images = _images(args.data, max(*args.batches, args.precision_images), size)
    one = images[:1]
    api = str(device)  # the API rows run their networks on --device too
    blob = ncodec.compress(one[0], manifold=args.manifold, effort=0, device=api)
    machine = f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    if device.type == "cuda":
        machine += f", {torch.cuda.get_device_name(device)}"
    print(f"{args.manifold} ({size}x{size}), {machine}")
    print("| operation | batch | ms/image | images/s | GFLOP/image | fraction of peak |")
    print("|---|---|---|---|---|---|", flush=True)
    rows: list[Row] = []

    def emit(row: Row) -> None:
        rows.append(row)
        _print_row(row)

    def add(op: str, batch: int, ms_per_image: float) -> None:
        emit({"op": op, "batch": batch, "ms_per_image": ms_per_image, "images_per_s": 1000 / ms_per_image})

    add("ncodec decode (API)", 1, median_ms(lambda: ncodec.decompress(blob, device=api), args.repeat))
    for effort in range(MAX_EFFORT + 1):
        repeat = 3 if effort > 1 else args.repeat
        add(f"ncodec encode effort {effort} (API)", 1,
            median_ms(lambda e=effort: ncodec.compress(one[0], manifold=args.manifold, effort=e, device=api), repeat))  # fmt: skip
    for fmt, name in PILLOW.items():
        add(f"{name} encode (Pillow)", 1, median_ms(lambda f=fmt: _pillow_encode(one, f), args.repeat))
        single = _pillow_encode(one, fmt)
        add(f"{name} decode (Pillow)", 1, median_ms(lambda b=single: _pillow_decode(b), args.repeat))
    for batch in [b for b in args.batches if b > 1]:
        chunk = images[:batch]
        blobs = ncodec.compress_batch(chunk, manifold=args.manifold, effort=0, device=api)
        add("ncodec decode (API)", batch, median_ms(lambda b=blobs: ncodec.decompress_batch(b, device=api), 3) / batch)
        add("ncodec encode effort 0 (API)", batch,
            median_ms(lambda c=chunk: ncodec.compress_batch(c, manifold=args.manifold, effort=0, device=api), 3) / batch)  # fmt: skip
        indices = np.stack([ncodec.read_ncz(b).indices[0] for b in blobs])
        add("generator only", batch, median_ms(lambda i=indices: decode_latents(m, i, 5, api), 3) / batch)
        for fmt, name in PILLOW.items():
            add(f"{name} encode (Pillow)", batch, median_ms(lambda c=chunk, f=fmt: _pillow_encode(c, f), 3) / batch)
            coded = _pillow_encode(chunk, fmt)
            add(f"{name} decode (Pillow)", batch, median_ms(lambda b=coded: _pillow_decode(b), 3) / batch)

    _network_rows(m, device, network_batches, args.peak_tflops, emit)
    # Last, so NumPy's BLAS threads cannot slow the torch rows (ncodec.decoding): what decoding runs in a process
    # without torch, timed here with torch loaded but idle.
    for batch in [b for b in args.batches if b < NUMPY_BELOW]:
        z = dequantize(encode_latents(m, images[:batch], 5, 0), 5)
        add("NumPy decoder", batch, median_ms(lambda z=z: numpy_decode(m, z), args.repeat if batch == 1 else 3) / batch)
    precision = _precision_rows(m, images[: args.precision_images], device)
    print(f"\ndecode precision on {device.type}, NCode({m.config.latent_dim},5) effort 0, first {args.precision_images} test images")
    print("| autocast | PSNR dB | SSIM | PSNR against fp32 |\n|---|---|---|---|")
    for r in precision:
        against = "-" if r["psnr_vs_fp32"] is None else f"{r['psnr_vs_fp32']:.2f}"
        print(f"| {r['dtype']} | {r['psnr']:.3f} | {r['ssim']:.4f} | {against} |")

    memory = f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    if device.type == "cuda":
        memory += f", peak CUDA memory {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB"
    print(memory)
    if args.json:
        report = {"machine": machine, "memory": memory, "rows": rows, "precision": precision}
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
