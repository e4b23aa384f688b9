"""Reed-Solomon header protection: unit behaviour and the whole-file claim at BER 1e-2."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

import ncodec
from ncodec.channel import bsc
from ncodec.format import read_ncz
from ncodec.format.reedsolomon import ReedSolomonError, rs_decode, rs_encode
from ncodec.format.robust import LENGTH_COPIES, robust_parity

TINY = "tiny-rgb"


def test_reed_solomon_corrects_up_to_t_byte_errors() -> None:
    rng = random.Random(0)
    for _ in range(300):
        message = bytes(rng.randrange(256) for _ in range(rng.randint(16, 70)))
        nsym = rng.choice([8, 20, 40])
        codeword = bytearray(rs_encode(message, nsym))
        for pos in rng.sample(range(len(codeword)), rng.randint(0, nsym // 2)):
            codeword[pos] ^= rng.randint(1, 255)
        assert rs_decode(bytes(codeword), nsym) == message


def test_reed_solomon_refuses_or_miscorrects_beyond_t_never_crashes() -> None:
    rng = random.Random(1)
    refused = 0
    for _ in range(200):
        message = bytes(rng.randrange(256) for _ in range(31))
        codeword = bytearray(rs_encode(message, 8))
        for pos in rng.sample(range(len(codeword)), 9):
            codeword[pos] ^= rng.randint(1, 255)
        try:
            rs_decode(bytes(codeword), 8)
        except ReedSolomonError:
            refused += 1
    assert refused > 150


def test_known_codeword_matches_the_reedsolo_package() -> None:
    # reedsolo.RSCodec(10).encode(b"hello world"), computed once with reedsolo 1.7
    expected = bytes.fromhex("68656c6c6f20776f726c64ed2554c4fdfd89f3a8aa")
    assert rs_encode(b"hello world", 10) == expected
    damaged = bytearray(expected)
    damaged[1] ^= 0xFF
    damaged[15] ^= 0x01
    assert rs_decode(bytes(damaged), 10) == b"hello world"


def test_robust_cost_for_the_default_image() -> None:
    assert robust_parity(31) == 20
    photo = np.zeros((64, 64, 3), np.uint8)
    plain = ncodec.compress(photo, manifold=TINY, effort=0)
    robust = ncodec.compress(photo, manifold=TINY, effort=0, robust=True)
    header = len(plain) - 8  # 12 x 5 bits = 8 payload bytes
    assert len(robust) - len(plain) == LENGTH_COPIES + robust_parity(header)
    assert read_ncz(robust).header.robust and np.array_equal(ncodec.decompress(robust), ncodec.decompress(plain))


def _survival(blob: bytes, ber: float, trials: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    decoded = 0
    expected = ncodec.decompress(blob).shape
    for _ in range(trials):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ncodec.PayloadDamagedWarning)
                out = ncodec.decompress(bsc(blob, ber, rng))
        except ncodec.NczError:
            continue
        assert out.shape == expected
        decoded += 1
    return decoded / trials


def test_robust_files_decode_in_99_percent_at_ber_1e2_across_the_whole_file() -> None:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    robust = ncodec.compress(image, manifold=TINY, effort=0, robust=True)
    plain = ncodec.compress(image, manifold=TINY, effort=0)
    assert _survival(robust, 1e-2, 1000, seed=11) >= 0.99
    assert _survival(plain, 1e-2, 300, seed=11) < 0.5  # the plain header CRC refuses most damaged headers


def test_damaged_plain_header_is_reported_not_decoded() -> None:
    blob = bytearray(ncodec.compress(np.zeros((8, 8, 3), np.uint8), manifold=TINY, effort=0))
    blob[6] ^= 0x01  # latent length
    with pytest.raises(ncodec.IntegrityError, match="header CRC"):
        ncodec.decompress(bytes(blob))


def test_robust_flag_without_framing_is_refused() -> None:
    import dataclasses

    from ncodec.format import write_ncz

    parsed = read_ncz(ncodec.compress(np.zeros((8, 8, 3), np.uint8), manifold=TINY, effort=0, robust=True))
    plain_bytes = write_ncz(dataclasses.replace(parsed.header, robust=False), parsed.indices)
    forged = dataclasses.replace(parsed.header, robust=True).to_bytes() + plain_bytes[len(parsed.header.to_bytes()) :]
    with pytest.raises(ncodec.FormatError, match="robust flag"):
        read_ncz(forged)


def test_channel_is_seeded_and_rate_bounded() -> None:
    data = bytes(1000)
    a = bsc(data, 0.01, np.random.default_rng(5))
    assert a == bsc(data, 0.01, np.random.default_rng(5))
    flipped = int(np.unpackbits(np.frombuffer(a, np.uint8)).sum())
    assert 40 < flipped < 130  # 80 expected
    with pytest.raises(ValueError):
        bsc(data, 1.5, np.random.default_rng(0))
