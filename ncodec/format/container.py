"""Whole .ncz files: header + payload of quantization indices (docs/format.md).

``write_ncz`` and ``read_ncz`` are exact inverses; the reader checks every length
before it allocates and rejects trailing bytes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ncodec.bytesio import ByteReader
from ncodec.errors import FormatError
from ncodec.format.header import Header, crc16, read_header
from ncodec.format.robust import unframe

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# numpy (~0.1 s to import) loads only when indices are packed or unpacked: `ncodec info` never needs it
# for a fixed-width file, whose length follows from the header alone.


@dataclass(frozen=True, eq=False)
class NczFile:
    """A parsed file: its header and, on first use, the (coded_frames, M) index matrix."""

    header: Header
    payload_ok: bool
    file_bytes: int
    _fixed_payload: bytes = field(default=b"", repr=False)
    _decoded: npt.NDArray[np.uint8] | None = field(default=None, repr=False)

    @cached_property
    def indices(self) -> npt.NDArray[np.uint8]:
        if self._decoded is not None:
            return self._decoded
        from ncodec.entropy import unpack_fixed

        frames, m = self.header.coded_frames, self.header.latent_dim
        return unpack_fixed(self._fixed_payload, frames * m, self.header.bits).reshape(frames, m)

    @property
    def payload_bits(self) -> int:
        """Bits actually sent after the header (fixed width: M*b per coded frame)."""
        return (self.file_bytes - len(self.header.prefix())) * 8 if self.header.huffman else self.header.payload_bits


def encode_payload(header: Header, indices: npt.NDArray[np.uint8]) -> bytes:
    from ncodec.entropy import encode_deltas, pack_fixed

    if header.huffman and header.coded_frames > 1:
        return pack_fixed(indices[0], header.bits) + encode_deltas(indices, header.bits)
    return pack_fixed(indices, header.bits)


def write_ncz(header: Header, indices: npt.ArrayLike) -> bytes:
    """Serialise ``indices`` (coded_frames x M) under ``header``; the payload CRC is filled in."""
    import numpy as np

    idx = np.asarray(indices, dtype=np.uint8)
    if idx.size != header.coded_frames * header.latent_dim:
        raise ValueError(f"expected {header.coded_frames} x {header.latent_dim} indices, got shape {idx.shape}")
    idx = idx.reshape(header.coded_frames, header.latent_dim)
    payload = encode_payload(header, idx)
    final = dataclasses.replace(header, payload_crc=crc16(payload))
    return final.prefix() + payload


def _read_any_header(reader: ByteReader) -> Header:
    """A plain header, or else a Reed-Solomon framed one; ``reader`` is left at the payload."""
    try:
        header = read_header(reader)
    except FormatError as plain_error:
        recovered = unframe(reader.data)
        if recovered is None:
            raise
        head, reader.pos = recovered
        inner = ByteReader(head, "robust header")
        try:
            header = read_header(inner)
        except FormatError:
            raise plain_error from None
        if not header.robust or inner.remaining:
            raise plain_error from None
        return header
    if header.robust:
        raise FormatError("robust flag set on a header without Reed-Solomon framing")
    return header


def read_ncz(data: bytes) -> NczFile:
    """Parse a whole file. A payload CRC mismatch is reported in ``payload_ok``, not raised."""
    reader = ByteReader(bytes(data))
    header = _read_any_header(reader)
    reader.what = "payload"
    payload = reader.data[reader.pos :]
    m, bits, frames = header.latent_dim, header.bits, header.coded_frames
    payload_ok = crc16(payload) == header.payload_crc
    if header.huffman and frames > 1:  # only decoding a Huffman code shows it is whole
        from ncodec.entropy import decode_deltas, packed_size, unpack_fixed

        first = unpack_fixed(reader.read(packed_size(m, bits)), m, bits)
        return NczFile(header, payload_ok, len(reader.data), _decoded=decode_deltas(reader, first, frames, bits))
    fixed = reader.read((header.payload_bits + 7) // 8)
    if reader.remaining:
        raise FormatError(f"{reader.remaining} trailing bytes after the payload")
    return NczFile(header, payload_ok, len(reader.data), _fixed_payload=fixed)
