"""How far the NumPy decoder's pixels are from torch's, on real latents.

python benchmarks/numpy_parity.py                       # first 500 faces64 test images, faces64-z100
python benchmarks/numpy_parity.py --data ../shared/data/flowers64/test.npz -m flowers64-z100 -n 300

Encodes the images (effort 0 by default), decodes the same latents with ``ncodec.latent.generate``
(torch) and ``ncodec.decoding.numpy_decode``, and prints how many 8-bit samples differ, by how much,
and each decoder's PSNR against the originals. docs/results.md quotes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ncodec.decoding import numpy_decode
from ncodec.eval.metrics import psnr
from ncodec.latent import encode_latents, generate
from ncodec.manifolds import DEFAULT_MANIFOLD, open_manifold
from ncodec.quantize import dequantize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces64/test.npz"), help="an .npz with a uint8 'images' array")
    parser.add_argument("-n", type=int, default=500, help="first N images")
    parser.add_argument("-m", "--manifold", default=DEFAULT_MANIFOLD)
    parser.add_argument("--bits", type=int, default=5)
    parser.add_argument("--effort", type=int, default=0)
    args = parser.parse_args()

    images = np.load(args.data)["images"][: args.n]
    manifold = open_manifold(args.manifold)
    latents = dequantize(encode_latents(manifold, images, args.bits, args.effort, "cpu"), args.bits)
    by_torch = generate(manifold, latents, "cpu")
    by_numpy = numpy_decode(manifold, latents)
    diff = np.abs(by_torch.astype(np.int16) - by_numpy.astype(np.int16))
    print(f"{len(images)} images of {args.data}, {args.manifold}, NCode({manifold.config.latent_dim},{args.bits}) effort {args.effort}")
    print(f"samples that differ: {np.count_nonzero(diff):,} of {diff.size:,}, by at most {int(diff.max())} level(s)")
    print(f"mean PSNR torch {psnr(images, by_torch).mean():.4f} dB, NumPy {psnr(images, by_numpy).mean():.4f} dB")


if __name__ == "__main__":
    main()
