"""Where batched decoding spends its time, and what the alternatives to the shipped path would gain.

Prints, for the default manifold's generator at one batch size on the CPU: the top operators under
torch.profiler; NHWC (shipped) against NCHW; each transposed convolution against its sub-pixel
rewrite (a 3x3 convolution to 4x the channels, then pixel_shuffle: the same function); with
--alternatives, TorchScript's optimize_for_inference and torch.compile; with --widths, what the same
architecture would cost at other base widths (untrained weights, folded and NHWC as shipped). Medians
of --repeat calls. docs/results.md ("Speed on the 2026-12-02 VM"; "More steps, a lower rate, a wider decoder")
quotes runs of it.

    python benchmarks/decode_profile.py --threads 2 --batch 256 --alternatives
    python benchmarks/decode_profile.py --threads 2 --batch 256 --widths 32 40 48 64
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings
from dataclasses import replace

import torch
import torch.nn.functional as F
from speed import median_ms  # benchmarks/ is this script's folder, so on sys.path
from torch import nn

from ncodec.manifolds import DEFAULT_MANIFOLD, open_manifold
from ncodec.models import build, channels_last
from ncodec.models.fold import fold_batchnorm


def subpixel_weight(w: torch.Tensor) -> torch.Tensor:
    """A ConvTranspose2d(4, stride 2, padding 1) weight (Cin, Cout, 4, 4) as a 3x3 conv weight (4 Cout, Cin, 3, 3).

    Output pixel 2i+a reads input i+d through kernel tap a - 2d + 1; pixel_shuffle(2) then interleaves the phases.
    """
    cin, cout = w.shape[:2]
    out = torch.zeros(cout, 2, 2, cin, 3, 3)
    for a in range(2):
        for dy in (-1, 0, 1):
            for b in range(2):
                for dx in (-1, 0, 1):
                    ky, kx = a - 2 * dy + 1, b - 2 * dx + 1
                    if 0 <= ky < 4 and 0 <= kx < 4:
                        out[:, a, b, :, dy + 1, dx + 1] = w[:, :, ky, kx].T
    return out.reshape(cout * 4, cin, 3, 3)


def layer_rows(gen: nn.Module, z: torch.Tensor, repeat: int) -> None:
    print("\n| transposed conv | input | deconv ms | sub-pixel ms | max difference |\n|---|---|---:|---:|---:|")
    x = gen.project(z).view(len(z), gen.seed_channels, 4, 4).contiguous(memory_format=torch.channels_last)
    for layer in gen.body:
        if isinstance(layer, nn.ConvTranspose2d):
            w = subpixel_weight(layer.weight).contiguous(memory_format=torch.channels_last)
            b = None if layer.bias is None else layer.bias.repeat_interleave(4)
            ref = layer(x)
            diff = (F.pixel_shuffle(F.conv2d(x, w, b, padding=1), 2) - ref).abs().max().item()
            ms_deconv = median_ms(lambda x=x, layer=layer: layer(x), repeat)
            ms_sub = median_ms(lambda x=x, w=w, b=b: F.pixel_shuffle(F.conv2d(x, w, b, padding=1), 2), repeat)
            shape = "x".join(map(str, x.shape[1:]))
            print(f"| {layer.in_channels}->{layer.out_channels} | {shape} | {ms_deconv:.1f} | {ms_sub:.1f} | {diff:.1e} |")
        x = layer(x)


def width_rows(manifold: str, widths: list[int], batch: int, repeat: int) -> None:
    """The manifold's generator architecture at other base widths: parameters, batch and single-image time."""
    config = open_manifold(manifold).config
    print(f"\n| width | parameters | batch {batch} ms | images/s | one image ms |\n|---|---:|---:|---:|---:|")
    for width in widths:
        gen = channels_last(fold_batchnorm(build(replace(config, width=width), "decoder").eval()))
        params = sum(p.numel() for p in gen.parameters())
        z = torch.rand(batch, config.latent_dim, generator=torch.Generator().manual_seed(0)) * 2 - 1
        with torch.inference_mode():
            ms, one = median_ms(lambda g=gen, z=z: g(z), repeat), median_ms(lambda g=gen, z=z: g(z[:1]), 5 * repeat)
        print(f"| {width} | {params / 1e6:.2f} M | {ms:.1f} | {1000 * batch / ms:,.0f} | {one:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifold", default=DEFAULT_MANIFOLD)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--alternatives", action="store_true", help="also TorchScript and torch.compile (slow to prepare)")
    parser.add_argument("--widths", type=int, nargs="+", help="only time the architecture at these base widths")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.widths:
        width_rows(args.manifold, args.widths, args.batch, args.repeat)
        return
    gen = open_manifold(args.manifold).decoder()  # BatchNorm folded, NHWC: what decoding runs
    z = torch.rand(args.batch, gen.project[0].in_features, generator=torch.Generator().manual_seed(0)) * 2 - 1
    print(f"{args.manifold} generator, batch {args.batch}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    with torch.inference_mode():
        reference = gen(z)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                gen(z)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))
        nchw = copy.deepcopy(gen).to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
        print(f"NHWC {median_ms(lambda: gen(z), args.repeat):.1f} ms, NCHW {median_ms(lambda: nchw(z), args.repeat):.1f} ms, "
              f"max difference {(nchw(z) - reference).abs().max().item():.1e}")  # fmt: skip
        layer_rows(gen, z, args.repeat)
    if not args.alternatives:
        return
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated: measured, not used
        start = time.perf_counter()
        scripted = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(copy.deepcopy(gen), z)))
        scripted(z)
        prepare = time.perf_counter() - start
        ms = median_ms(lambda: scripted(z), args.repeat)
        diff = (scripted(z) - reference).abs().max().item()
        print(f"\nTorchScript optimize_for_inference: {ms:.1f} ms after {prepare:.1f} s, max difference {diff:.1e}")
    with torch.inference_mode():
        start = time.perf_counter()
        compiled = torch.compile(copy.deepcopy(gen))
        compiled(z)
        prepare = time.perf_counter() - start
        ms = median_ms(lambda: compiled(z), args.repeat)
        diff = (compiled(z) - reference).abs().max().item()
        print(f"torch.compile: {ms:.1f} ms after {prepare:.1f} s, max difference {diff:.1e}")


if __name__ == "__main__":
    main()
