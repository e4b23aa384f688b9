"""Byte-level reading and writing shared by the container and entropy layers.

``ByteReader`` turns every short read into ``TruncatedError`` and bounds every
varint, so parsers built on it cannot over-read or build huge integers.
"""

from __future__ import annotations

from ncodec.errors import FormatError, LimitExceededError, TruncatedError

_MAX_VARINT_BYTES = 5  # enough for 32-bit values


def uleb128(value: int) -> bytes:
    """Unsigned LEB128: 7 bits per byte, low groups first, high bit = more follows."""
    if value < 0:
        raise ValueError("uleb128 encodes non-negative integers only")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class ByteReader:
    """Sequential reader over an immutable buffer with bounds-checked primitives."""

    def __init__(self, data: bytes, what: str = "file") -> None:
        self.data = data
        self.pos = 0
        self.what = what

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def read(self, n: int) -> bytes:
        if n > self.remaining:
            raise TruncatedError(f"{self.what} truncated: needed {n} more bytes at offset {self.pos}, {self.remaining} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.read(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.read(2), "big")

    def uleb128(self, name: str, low: int, high: int) -> int:
        """Read a varint and check ``low <= value <= high`` before anyone uses it."""
        value = 0
        for i in range(_MAX_VARINT_BYTES):
            byte = self.u8()
            value |= (byte & 0x7F) << (7 * i)
            if not byte & 0x80:
                if i and byte == 0:
                    raise FormatError(f"{name}: non-minimal varint encoding")
                break
        else:
            raise FormatError(f"{name}: varint longer than {_MAX_VARINT_BYTES} bytes")
        if not low <= value <= high:
            raise LimitExceededError(f"{name} = {value} is outside the allowed range [{low}, {high}]")
        return value
