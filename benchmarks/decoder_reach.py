"""Is the encoder or the decoder what limits a reconstruction? The shipped effort levels beside a search.

    python benchmarks/decoder_reach.py [-n 50] [--starts 16] [--steps 500] [--image examples/kodim04-face.png ...]

For each image (the first -n of --data, then each --image fitted to the manifold's size as `ncodec
encode` fits it) it prints the PSNR of NCode(M, bits) at effort 0, 1 and 3, and of a search far past
effort 3: the encoder's latent and --starts uniform random ones, each refined for --steps steps the way
effort 3 refines (ncodec.latent), the best quantized latent kept. If the search finds little more than
effort 3, no encoder or refinement can do much better: what is missing is not in the decoder's reach.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ncodec import DEFAULT_MANIFOLD
from ncodec.eval.metrics import psnr
from ncodec.images import normalize, to_native
from ncodec.latent import MAX_EFFORT, _refine, encode_latents, generate, to_network_range
from ncodec.manifolds import Manifold, open_manifold
from ncodec.quantize import dequantize


def search(m: Manifold, image: np.ndarray, bits: int, starts: int, steps: int, seed: int) -> np.ndarray:
    """The best of the encoder's latent and ``starts`` random ones, each refined ``steps`` steps: (M,) in [-1, 1]."""
    x = to_network_range(image[None])
    with torch.inference_mode():
        first = m.encoder()(x)
    z0 = torch.cat([first, torch.rand(starts, first.shape[1], generator=torch.Generator().manual_seed(seed)) * 2 - 1])
    xs = x.expand(len(z0), -1, -1, -1)
    refined = _refine(m.decoder(), xs, z0, bits, steps)
    with torch.inference_mode():
        errors = (m.decoder()(refined) - xs).pow(2).mean(dim=(1, 2, 3))
    return refined[errors.argmin()].numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--manifold", default=DEFAULT_MANIFOLD)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces64/test.npz"), help=".npz with 'images'")
    parser.add_argument("-n", type=int, default=50, help="images of --data (0: none)")
    parser.add_argument("--image", type=Path, action="append", default=[], help="an image file; repeat for several")
    parser.add_argument("--bits", type=int, default=5)
    parser.add_argument("--starts", type=int, default=16, help="random starting latents beside the encoder's")
    parser.add_argument("--steps", type=int, default=500, help="refinement steps of each start (effort 3: 500)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    m = open_manifold(args.manifold, need_encoder=True)
    size, channels = m.config.image_size, m.config.channels
    named = [(f"{args.data.name}[{i}]", im) for i, im in enumerate(np.load(args.data)["images"][: args.n])]
    from_data = len(named)  # -n, or fewer where --data holds fewer
    for path in args.image:
        pixels, _ = normalize(np.asarray(Image.open(path)))
        named.append((path.name, to_native(pixels, size, channels)))
    images = np.stack([im for _, im in named])

    efforts = (0, 1, MAX_EFFORT)
    scores = {f"effort {e}": psnr(images, generate(m, dequantize(encode_latents(m, images, args.bits, e), args.bits))) for e in efforts}
    found = np.stack([search(m, im, args.bits, args.starts, args.steps, seed) for seed, im in enumerate(images)])
    scores[f"search ({args.starts} + 1 starts x {args.steps} steps)"] = psnr(images, generate(m, found))

    print(f"{m.config.id}, NCode({m.config.latent_dim},{args.bits}), PSNR dB at {size}x{size}")
    print("| image | " + " | ".join(scores) + " |")
    print("|---|" + "---:|" * len(scores))
    if from_data:
        means = " | ".join(f"{s[:from_data].mean():.2f}" for s in scores.values())
        print(f"| mean of {from_data} {args.data.name} | {means} |")
    for i, (name, _) in enumerate(named[from_data:], start=from_data):
        print(f"| {name} | " + " | ".join(f"{s[i]:.2f}" for s in scores.values()) + " |")


if __name__ == "__main__":
    main()
