"""The paper's headerless JPEG count, checked against a hand-made walk over a tiny file."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ncodec.errors import FormatError
from ncodec.eval.jpeg import headerless_size


def _tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    gray = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 3).astype(np.uint8)
    Image.fromarray(gray).save(buffer, format="JPEG", quality=50, comment=b"hello")
    return buffer.getvalue()


def test_headerless_size_of_a_tiny_gray_jpeg_by_hand() -> None:
    data = _tiny_jpeg()
    # Walk it by hand: SOI, APP0 (JFIF), COM, DQT, SOF0, DHT..., SOS + scan, EOI.
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    app0 = 2 + int.from_bytes(data[4:6], "big")
    assert data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\0" and app0 == 18
    com_at = data.index(b"\xff\xfe")
    com = 2 + int.from_bytes(data[com_at + 2 : com_at + 4], "big")
    assert data[com_at + 4 : com_at + com] == b"hello" and com == 9
    sof_at = data.index(b"\xff\xc0")
    sof = 2 + int.from_bytes(data[sof_at + 2 : sof_at + 4], "big")
    assert sof == 2 + 8 + 3 * 1  # length field, precision, height, width, one component
    assert headerless_size(data) == len(data) - 2 - app0 - com - sof - 2


def test_tables_and_scan_are_all_that_is_left() -> None:
    data = _tiny_jpeg()
    dqt_at, sos_at = data.index(b"\xff\xdb"), data.index(b"\xff\xda")
    dqt = 2 + int.from_bytes(data[dqt_at + 2 : dqt_at + 4], "big")
    dht = sum(2 + int.from_bytes(data[i + 2 : i + 4], "big") for i in range(dqt_at, sos_at) if data[i : i + 2] == b"\xff\xc4")
    scan = len(data) - 2 - sos_at  # SOS header + entropy-coded data, up to EOI
    assert headerless_size(data) == dqt + dht + scan


def test_not_a_jpeg() -> None:
    with pytest.raises(FormatError, match="SOI"):
        headerless_size(b"\x89PNG\r\n\x1a\n")
