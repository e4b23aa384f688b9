import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ncodec.quantize import dequantize, quantize


@given(st.integers(1, 8), st.lists(st.floats(-1, 1), min_size=1, max_size=50))
def test_quantize_then_dequantize_is_within_half_a_cell(bits: int, values: list[float]) -> None:
    z = np.array(values)
    err = np.abs(dequantize(quantize(z, bits), bits) - z)
    assert err.max() <= 1.0 / (1 << bits) + 1e-6


@pytest.mark.parametrize("bits", range(1, 9))
def test_cell_centres_are_fixed_points(bits: int) -> None:
    idx = np.arange(1 << bits)
    assert np.array_equal(quantize(dequantize(idx, bits), bits), idx)


def test_known_values_for_two_bits() -> None:
    assert quantize([-1.0, -0.6, -0.1, 0.0, 0.49, 1.0], 2).tolist() == [0, 0, 1, 2, 2, 3]
    assert dequantize([0, 1, 2, 3], 2).tolist() == [-0.75, -0.25, 0.25, 0.75]


def test_out_of_range_values_clamp_and_bad_bits_raise() -> None:
    assert quantize([-5.0, 5.0], 3).tolist() == [0, 7]
    with pytest.raises(ValueError, match="bits"):
        quantize([0.0], 9)
    with pytest.raises(ValueError, match="out of range"):
        dequantize([4], 2)
