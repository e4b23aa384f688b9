"""Binary symmetric channel: flip each bit independently with probability ``ber``.

Seeded, so every robustness figure can be rerun exactly.
"""

from __future__ import annotations

import numpy as np


def bsc(data: bytes, ber: float, rng: np.random.Generator) -> bytes:
    """``data`` after a binary symmetric channel with bit error rate ``ber``."""
    if not 0.0 <= ber <= 1.0:
        raise ValueError(f"bit error rate must be in [0, 1], got {ber}")
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    bits ^= (rng.random(bits.size) < ber).astype(np.uint8)
    return np.packbits(bits).tobytes()
