"""Random bit flips anywhere in valid files: a named error or an image of the declared size, nothing else."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ncodec
from ncodec.format import read_ncz

TINY = "tiny-rgb"


def _decode_any(blob: bytes) -> np.ndarray:
    try:
        return ncodec.decompress(blob)
    except ncodec.FormatError as exc:
        if "decompress_video" not in str(exc):
            raise
    return ncodec.decompress_video(blob)


@pytest.fixture
def valid_files() -> list[bytes]:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    clip = rng.integers(0, 256, (7, 12, 20, 3), dtype=np.uint8)
    return [
        ncodec.compress(image, manifold=TINY, effort=0),
        ncodec.compress(image[:, :, 0], manifold=TINY, bits=3, effort=0),
        ncodec.compress_video(clip, manifold=TINY, keyframe_interval=3, effort=0),
        ncodec.compress_video(clip, manifold=TINY, keyframe_interval=2, huffman=True, effort=0),
    ]


@pytest.mark.parametrize("flips", [1, 8, 64])
def test_flipped_bits_give_a_named_error_or_an_image_of_the_declared_size(valid_files: list[bytes], flips: int) -> None:
    rng = np.random.default_rng(flips)
    outcomes = {"decoded": 0, "refused": 0}
    for trial in range(150):
        blob = valid_files[trial % len(valid_files)]
        bits = np.unpackbits(np.frombuffer(blob, np.uint8))
        bits[rng.choice(bits.size, size=min(flips, bits.size), replace=False)] ^= 1
        damaged = np.packbits(bits).tobytes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ncodec.PayloadDamagedWarning)
                out = _decode_any(damaged)
        except ncodec.NczError:
            outcomes["refused"] += 1
            continue
        header = read_ncz(damaged).header
        expected = (header.height, header.width) if header.no_channel_axis else (header.height, header.width, header.channels)
        if header.video:
            expected = (header.video.frames, *expected)
        assert out.shape == expected
        outcomes["decoded"] += 1
    assert outcomes["decoded"] + outcomes["refused"] == 150
    if flips == 1:
        assert outcomes["decoded"] > 0  # payload hits decode: the point of fixed-width coding
