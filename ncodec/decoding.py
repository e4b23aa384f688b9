"""Latents -> pixels at the manifold's native size, through whichever decoder is faster here.

In a process that has not imported torch, up to ``NUMPY_BELOW`` images go through the NumPy twin
of the generator (``ncodec.numpy_decoder``): ``import torch`` (2.5-3.4 s on the development VM) would
cost more than NumPy's slower convolutions save below a few thousand images, and it is most of a
one-file ``ncodec decode``. (A bf16 decoder file, which NumPy cannot hold, still goes to torch.)
Once torch is imported (by encoding, training, or the caller), torch decodes everything: its
convolutions are faster, and NumPy's BLAS threads and torch's would take turns spinning on the
same cores (an effort-0 encode took 2.3x as long right after a NumPy decode on the 2-core VM).
The two decoders agree to float rounding: a few samples in a million differ by one level, as
torch's own results do between batch sizes (docs/results.md, "The NumPy decoder"). Importing
this module does not import torch.
"""

from __future__ import annotations

import sys

import numpy as np
import numpy.typing as npt

from ncodec.device import DEFAULT_DEVICE, check_device
from ncodec.images import Image8
from ncodec.manifolds import Manifold
from ncodec.numpy_decoder import NumpyUnsupportedError
from ncodec.quantize import dequantize

NUMPY_BELOW = 1024
"""Jobs of fewer images decode with NumPy while torch is not imported. faces64-z100 on the 2026-12-02 VM:
NumPy 1.1 ms/image in chunks of 16, torch 0.6-0.7 ms/image batched plus 2.5-3.4 s to import."""
NUMPY_CHUNK = 16
"""Images per NumPy pass: its per-image time is lowest at 4-32 (1.09 ms at 16, 1.57 at 64), where the
intermediate arrays stay in cache."""


def decode_latents(manifold: Manifold, indices: npt.NDArray[np.uint8], bits: int, device: str = DEFAULT_DEVICE) -> Image8:
    """(N, M) indices -> (N, S, S, C) uint8 at the manifold's native size."""
    return decode_z(manifold, dequantize(indices, bits), device=device)


def decode_z(manifold: Manifold, latents: npt.NDArray[np.float32], total: int | None = None, device: str = DEFAULT_DEVICE) -> Image8:
    """(N, M) latents in [-1, 1] -> (N, S, S, C) uint8 at the manifold's native size.

    ``total``: the size of the whole job when this call decodes one chunk of it (a clip's frames),
    so that every chunk goes the same way. ``device`` other than the CPU (``ncodec.device``) always
    runs torch's decoder there.
    """
    small = (len(latents) if total is None else total) < NUMPY_BELOW
    if check_device(device) == "cpu" and small and "torch" not in sys.modules:
        try:
            return numpy_decode(manifold, latents)
        except NumpyUnsupportedError:
            pass  # torch reads it
    from ncodec.latent import generate  # imports torch

    return generate(manifold, latents, device)


def numpy_decode(manifold: Manifold, latents: npt.NDArray[np.float32]) -> Image8:
    """``decode_z`` through the NumPy generator, whatever is imported."""
    decoder = manifold.numpy_decoder()
    return np.concatenate([decoder(latents[s : s + NUMPY_CHUNK]) for s in range(0, len(latents), NUMPY_CHUNK)])
