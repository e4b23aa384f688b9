"""Bit packing of quantization indices: fixed width, and canonical Huffman of deltas.

Fixed width is the robust default: a flipped bit changes one coordinate and never
desynchronises the stream. It is vectorised with numpy's packbits (MSB first), which
is faster than bit-by-bit building and needs no Python loop.
Huffman mode codes integer differences between consecutive keyframes with a
canonical code (bitarray.util.canonical_huffman / canonical_decode); the code is
sent as its code-length table (see docs/format.md, "Huffman payload").
"""

from __future__ import annotations

from collections import Counter
from itertools import islice

import numpy as np
import numpy.typing as npt
from bitarray import bitarray
from bitarray.util import canonical_decode, canonical_huffman

from ncodec.bytesio import ByteReader, uleb128
from ncodec.errors import FormatError, TruncatedError
from ncodec.quantize import check_bits

MAX_CODE_LENGTH = 31  # canonical_decode's own limit


def packed_size(count: int, bits: int) -> int:
    """Bytes taken by ``count`` indices of ``bits`` bits, padded to a whole byte."""
    return (count * bits + 7) // 8


def pack_fixed(indices: npt.ArrayLike, bits: int) -> bytes:
    """Pack indices MSB first, ``bits`` each, zero-padded to a byte boundary."""
    check_bits(bits)
    idx = np.asarray(indices).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= 1 << bits):
        raise ValueError(f"indices out of range for {bits} bits")
    planes = np.unpackbits(idx.astype(np.uint8)[:, None], axis=1)[:, 8 - bits :]
    return np.packbits(planes.reshape(-1)).tobytes()


def unpack_fixed(data: bytes, count: int, bits: int) -> npt.NDArray[np.uint8]:
    """Inverse of ``pack_fixed``: exactly ``packed_size(count, bits)`` bytes are read.

    Padding bits are ignored rather than checked, so channel noise in them is harmless.
    """
    check_bits(bits)
    need = packed_size(count, bits)
    if len(data) < need:
        raise TruncatedError(f"payload truncated: {len(data)} of {need} bytes")
    planes = np.unpackbits(np.frombuffer(data, dtype=np.uint8, count=need))[: count * bits]
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.uint8)
    indices: npt.NDArray[np.uint8] = (planes.reshape(count, bits) * weights).sum(axis=1, dtype=np.uint16).astype(np.uint8)
    return indices


def _zigzag(d: int) -> int:
    return 2 * d if d >= 0 else -2 * d - 1


def _unzigzag(u: int) -> int:
    return u // 2 if u % 2 == 0 else -(u + 1) // 2


def encode_deltas(frames: npt.NDArray[np.uint8], bits: int) -> bytes:
    """Canonical-Huffman code of ``frames[k] - frames[k-1]`` for k >= 1.

    Returns the code-length table followed by the code bits, zero-padded to a byte.
    ``frames`` is (K, M) with K >= 2.
    """
    check_bits(bits)
    deltas = [int(d) for d in np.diff(frames.astype(np.int16), axis=0).reshape(-1)]
    code, count, symbols = canonical_huffman(Counter(deltas))
    table = bytearray([len(count) - 1])
    for n in count[1:]:
        table += uleb128(n)
    for s in symbols:
        table += uleb128(_zigzag(s))
    stream = bitarray(endian="big")
    stream.encode(code, deltas)
    return bytes(table) + stream.tobytes()


def decode_deltas(reader: ByteReader, first: npt.NDArray[np.uint8], n_frames: int, bits: int) -> npt.NDArray[np.uint8]:
    """Rebuild (n_frames, M) indices from the first frame and the Huffman stream in ``reader``.

    The stream must run to the end of the reader's data. Every way the table or the
    code can be inconsistent is a ``FormatError``.
    """
    m = first.shape[0]
    max_delta = (1 << bits) - 1
    max_length = reader.u8()
    if not 1 <= max_length <= MAX_CODE_LENGTH:
        raise FormatError(f"Huffman table: code length {max_length} outside [1, {MAX_CODE_LENGTH}]")
    count = [0] + [reader.uleb128("Huffman table count", 0, 2 * max_delta + 1) for _ in range(max_length)]
    n_symbols = sum(count)
    if not 1 <= n_symbols <= 2 * max_delta + 1:
        raise FormatError(f"Huffman table: {n_symbols} symbols for {bits}-bit deltas")
    symbols = [_unzigzag(reader.uleb128("Huffman symbol", 0, 2 * max_delta)) for _ in range(n_symbols)]
    if len(set(symbols)) != n_symbols:
        raise FormatError("Huffman table: repeated symbol")
    code_bytes = reader.read(reader.remaining)
    stream = bitarray(endian="big")
    stream.frombytes(code_bytes)
    wanted = (n_frames - 1) * m
    try:
        decoded = list(islice(canonical_decode(stream, count, symbols), wanted))
    except ValueError as exc:
        raise FormatError(f"Huffman stream: {exc}") from exc
    if len(decoded) < wanted:
        raise TruncatedError(f"Huffman stream ended after {len(decoded)} of {wanted} deltas")
    length_of = {s: n for s, n in zip(symbols, _code_lengths(count), strict=True)}
    if (sum(length_of[d] for d in decoded) + 7) // 8 != len(code_bytes):
        raise FormatError("Huffman stream: trailing bytes after the last delta")
    out = np.empty((n_frames, m), dtype=np.int32)
    out[0] = first
    out[1:] = np.asarray(decoded, dtype=np.int32).reshape(n_frames - 1, m)
    out = np.cumsum(out, axis=0)
    if out.min() < 0 or out.max() > max_delta:
        raise FormatError("Huffman stream decodes to indices out of range")
    return out.astype(np.uint8)


def _code_lengths(count: list[int]) -> list[int]:
    """Code length of each symbol, in canonical order, from the per-length counts."""
    return [length for length, n in enumerate(count) for _ in range(n)]
