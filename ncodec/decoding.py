"""Latents -> pixels at the manifold's native size, through whichever decoder is faster for the batch.

A few images go through the NumPy twin of the generator (``ncodec.numpy_decoder``): as fast as torch
at that size, and no ``import torch``, which is most of a one-file ``ncodec decode`` otherwise
(docs/results.md, "The NumPy decoder"). Batches of ``NUMPY_BELOW`` images or more go through torch,
whose convolutions are faster there. The two agree to float rounding: a few samples in a million
differ by one level, as torch's own results do between batch sizes. Importing this module does
not import torch.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ncodec.images import Image8
from ncodec.manifolds import Manifold
from ncodec.quantize import dequantize

NUMPY_BELOW = 16
"""Batches smaller than this decode with NumPy (faces64-z100 on the 2026-12-02 VM: 2.1 ms/image alone,
1.3 at 8, against torch's 1.1 at 8 and 0.9 at 16 once torch is loaded)."""


def decode_latents(manifold: Manifold, indices: npt.NDArray[np.uint8], bits: int) -> Image8:
    """(N, M) indices -> (N, S, S, C) uint8 at the manifold's native size."""
    return decode_z(manifold, dequantize(indices, bits))


def decode_z(manifold: Manifold, latents: npt.NDArray[np.float32], total: int | None = None) -> Image8:
    """(N, M) latents in [-1, 1] -> (N, S, S, C) uint8 at the manifold's native size.

    ``total``: the size of the whole job when this call decodes one chunk of it (a clip's frames),
    so that every chunk goes the same way.
    """
    if (len(latents) if total is None else total) < NUMPY_BELOW:
        return manifold.numpy_decoder()(latents)
    from ncodec.latent import generate  # imports torch

    return generate(manifold, latents)
