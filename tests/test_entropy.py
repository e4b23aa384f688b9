import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ncodec.bytesio import ByteReader
from ncodec.entropy import decode_deltas, encode_deltas, pack_fixed, packed_size, unpack_fixed
from ncodec.errors import FormatError, TruncatedError


@st.composite
def index_matrices(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    bits = draw(st.integers(1, 8))
    frames = draw(st.integers(1, 6))
    m = draw(st.integers(1, 40))
    values = draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=frames * m, max_size=frames * m))
    return np.array(values, dtype=np.uint8).reshape(frames, m), bits


@settings(max_examples=300)
@given(index_matrices())
def test_fixed_width_round_trip_is_bit_exact(case: tuple[np.ndarray, int]) -> None:
    idx, bits = case
    data = pack_fixed(idx, bits)
    assert len(data) == packed_size(idx.size, bits)
    assert np.array_equal(unpack_fixed(data, idx.size, bits).reshape(idx.shape), idx)


def test_fixed_width_is_msb_first_and_zero_padded() -> None:
    assert pack_fixed([1, 2, 3], 5) == bytes([0b00001000, 0b10000110])
    assert pack_fixed([1], 1) == b"\x80"


def test_unpack_ignores_padding_bits_and_refuses_short_input() -> None:
    assert unpack_fixed(b"\x8f", 1, 1).tolist() == [1]
    with pytest.raises(TruncatedError):
        unpack_fixed(b"\x00", 3, 5)


@settings(max_examples=300)
@given(index_matrices().filter(lambda c: c[0].shape[0] >= 2))
def test_huffman_round_trips_any_delta_sequence(case: tuple[np.ndarray, int]) -> None:
    idx, bits = case
    data = encode_deltas(idx, bits)
    reader = ByteReader(data)
    assert np.array_equal(decode_deltas(reader, idx[0], idx.shape[0], bits), idx)
    assert reader.remaining == 0


def test_huffman_is_smaller_than_fixed_width_for_slow_changes() -> None:
    rng = np.random.default_rng(0)
    start = rng.integers(8, 24, 100)
    frames = np.clip(start + np.cumsum(rng.integers(-1, 2, (10, 100)), axis=0), 0, 31).astype(np.uint8)
    assert len(encode_deltas(frames, 5)) < packed_size(9 * 100, 5)


def _decode(data: bytes, first: np.ndarray, frames: int, bits: int) -> np.ndarray:
    return decode_deltas(ByteReader(data), first, frames, bits)


def test_corrupt_huffman_tables_are_format_errors() -> None:
    first = np.zeros(4, np.uint8)
    good = encode_deltas(np.zeros((2, 4), np.uint8), 3)  # one symbol (0) of length 1
    assert _decode(good, first, 2, 3).tolist() == [[0] * 4] * 2
    with pytest.raises(FormatError, match="code length"):
        _decode(b"\x00" + good[1:], first, 2, 3)
    with pytest.raises(FormatError):
        _decode(b"\x01\x03\x00\x02\x04\x00", first, 2, 3)  # 3 codes of length 1: not a prefix code
    with pytest.raises(FormatError, match="repeated"):
        _decode(b"\x01\x02\x00\x00\x00", first, 2, 3)
    plus_one = b"\x01\x01\x02\x00"  # one symbol, delta +1, code "0"
    assert _decode(plus_one, first, 2, 3).tolist() == [[0] * 4, [1] * 4]
    with pytest.raises(FormatError, match="out of range"):
        _decode(plus_one, np.full(4, 7, np.uint8), 2, 3)


def test_huffman_trailing_and_missing_bytes_are_refused() -> None:
    frames = np.array([[0, 1, 2], [1, 1, 3]], np.uint8)
    data = encode_deltas(frames, 3)
    with pytest.raises(FormatError, match="trailing"):
        _decode(data + b"\x00", frames[0], 2, 3)
    with pytest.raises(TruncatedError):
        _decode(data[:-1], frames[0], 2, 3)
