"""Fuzz targets: each takes arbitrary bytes and may only raise ``NczError``.

Shared by the atheris drivers (``python tests/fuzz/run.py TARGET``) and by the
pytest replay of the saved corpus (tests/test_fuzz_corpus.py).
"""

from __future__ import annotations

import warnings

import numpy as np

import ncodec
from ncodec.bytesio import ByteReader
from ncodec.entropy import decode_deltas, unpack_fixed
from ncodec.format import read_ncz


def container(data: bytes) -> None:
    read_ncz(data)


def huffman(data: bytes) -> None:
    if len(data) < 3:
        return
    bits = data[0] % 8 + 1
    frames = data[1] % 6 + 2
    m = data[2] % 16 + 1
    first = np.zeros(m, np.uint8)
    decode_deltas(ByteReader(data[3:]), first, frames, bits)


def unpacker(data: bytes) -> None:
    if len(data) < 2:
        return
    bits = data[0] % 8 + 1
    count = data[1]
    out = unpack_fixed(data[2:], count, bits)
    assert out.shape == (count,) and int(out.max(initial=0)) < 1 << bits


def decode(data: bytes) -> None:
    """Full decode against the tiny stub manifold (NCODEC_MANIFOLD_PATH must name it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ncodec.PayloadDamagedWarning)
        try:
            ncodec.decompress(data)
        except ncodec.FormatError as exc:
            if "decompress_video" not in str(exc):
                raise
            ncodec.decompress_video(data)


TARGETS = {"container": container, "huffman": huffman, "unpacker": unpacker, "decode": decode}
