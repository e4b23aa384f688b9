"""Uniform scalar quantizer over [-1, 1] with 2**bits cells, reconstruction at cell centres.

Works on numpy arrays so the container and entropy layers stay free of torch.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MIN_BITS = 1
MAX_BITS = 8


def check_bits(bits: int) -> int:
    """Return ``bits`` if it is a supported width, else raise ``ValueError``."""
    if not isinstance(bits, int | np.integer) or not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be an integer in [{MIN_BITS}, {MAX_BITS}], got {bits!r}")
    return int(bits)


def quantize(z: npt.ArrayLike, bits: int) -> npt.NDArray[np.uint8]:
    """Map values in [-1, 1] to cell indices 0 .. 2**bits - 1 (values outside are clamped)."""
    levels = 1 << check_bits(bits)
    z = np.asarray(z, dtype=np.float64)
    idx = np.floor((z + 1.0) * (levels / 2.0))
    return np.clip(idx, 0, levels - 1).astype(np.uint8)


def dequantize(indices: npt.ArrayLike, bits: int) -> npt.NDArray[np.float32]:
    """Cell centres of ``indices``: (i + 0.5) / 2**bits * 2 - 1."""
    levels = 1 << check_bits(bits)
    idx = np.asarray(indices)
    if idx.size and (idx.min() < 0 or idx.max() >= levels):
        raise ValueError(f"indices out of range for {bits} bits")
    return ((idx.astype(np.float32) + 0.5) * (2.0 / levels) - 1.0).astype(np.float32)
