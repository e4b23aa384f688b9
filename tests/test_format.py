"""The container against its spec: golden files, and one named error per kind of bad file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from ncodec.bytesio import uleb128
from ncodec.errors import FormatError, IntegrityError, LimitExceededError, TruncatedError, UnsupportedVersionError
from ncodec.format import Header, read_ncz, write_ncz
from ncodec.format.header import crc16

DATA = Path(__file__).parent / "data"
GOLDEN = sorted(p.stem for p in DATA.glob("*.ncz"))
SPEC_FIELDS = [
    "format",
    "kind",
    "huffman",
    "robust",
    "bits",
    "latent_dim",
    "width",
    "height",
    "channels",
    "channel_axis",
    "sample_bits",
    "manifold",
    "fingerprint",
    "payload_crc",
    "header_bytes",
]
VIDEO_FIELDS = ["frames", "keyframe_interval", "fps", "keyframes"]


def golden(name: str) -> tuple[bytes, dict]:
    return (DATA / f"{name}.ncz").read_bytes(), json.loads((DATA / f"{name}.json").read_text())


def test_there_are_golden_files_of_each_kind() -> None:
    assert set(GOLDEN) == {"image_rgb64", "image_gray16", "image_robust", "video_fixed", "video_huffman"}


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_files_parse_to_their_expected_fields(name: str) -> None:
    blob, expected = golden(name)
    parsed = read_ncz(blob)
    fields = parsed.header.fields() | {"payload_bits": parsed.payload_bits, "payload_ok": parsed.payload_ok, "file_bytes": len(blob)}
    assert fields == expected["fields"]
    assert parsed.indices.tolist() == expected["indices"]
    extra = VIDEO_FIELDS if parsed.header.video else []
    assert set(parsed.header.fields()) == set(SPEC_FIELDS + extra)


@pytest.mark.parametrize("name", GOLDEN)
def test_writer_reproduces_golden_bytes(name: str) -> None:
    blob, _ = golden(name)
    parsed = read_ncz(blob)
    assert write_ncz(parsed.header, parsed.indices) == blob


def test_default_image_header_and_padding_fit_in_32_bytes() -> None:
    blob, expected = golden("image_rgb64")
    assert expected["fields"]["header_bytes"] == 31
    assert len(blob) == 31 + (100 * 5 + 7) // 8
    assert len(blob) * 8 - 500 <= 32 * 8


def test_known_header_bytes() -> None:
    blob, _ = golden("image_gray16")
    assert blob[:3] == b"NCZ"
    assert blob[3] == 0x10  # version 1.0
    assert blob[4] == 0x00  # image, no flags
    assert blob[5] == 3  # bits
    assert blob[6:9] == bytes([12, 17, 5])  # M, width, height as LEB128
    assert blob[9] == 0x01 | 0x08 | 0x10  # 1 channel, no channel axis, 16-bit
    assert blob[10] == 9 and blob[11:20] == b"tiny-gray"
    assert blob[20:24] == bytes.fromhex("0badf00d")
    assert int.from_bytes(blob[26:28], "big") == crc16(blob[:26])


def _image_header(**changes: object) -> Header:
    base = Header(bits=5, latent_dim=100, width=64, height=64, channels=3, manifold_id="faces64-z100", fingerprint=b"\0\1\2\3")
    return dataclasses.replace(base, **changes)


def _valid() -> bytes:
    return write_ncz(_image_header(), np.zeros(100, np.uint8))


def _recrc(head: bytes) -> bytes:
    """Re-seal a hand-edited header so only the field under test is wrong."""
    return head + crc16(head).to_bytes(2, "big")


def test_empty_input() -> None:
    with pytest.raises(FormatError, match="empty"):
        read_ncz(b"")


def test_wrong_magic() -> None:
    with pytest.raises(FormatError, match="magic"):
        read_ncz(b"\x89PNG\r\n\x1a\n" + bytes(100))


def test_truncated_header() -> None:
    for cut in (2, 5, 8, 20, 30):
        with pytest.raises(TruncatedError):
            read_ncz(_valid()[:cut])


def test_truncated_payload() -> None:
    with pytest.raises(TruncatedError, match="payload"):
        read_ncz(_valid()[:-1])


def test_trailing_bytes() -> None:
    with pytest.raises(FormatError, match="trailing"):
        read_ncz(_valid() + b"\0")


def test_header_crc_mismatch() -> None:
    blob = bytearray(_valid())
    blob[7] ^= 0x01  # width 64 -> 65
    with pytest.raises(IntegrityError, match="header CRC"):
        read_ncz(bytes(blob))


def test_payload_damage_is_reported_not_raised() -> None:
    blob = bytearray(_valid())
    blob[-5] ^= 0x10
    parsed = read_ncz(bytes(blob))
    assert not parsed.payload_ok
    assert parsed.indices.sum() > 0


def test_newer_major_version_says_so() -> None:
    blob = bytearray(_valid())
    blob[3] = 0x20
    with pytest.raises(UnsupportedVersionError, match=r"version 2\.0.*upgrade"):
        read_ncz(bytes(blob))


def test_newer_minor_version_is_read() -> None:
    blob = _valid()
    head = bytes([*blob[:3], 0x13, *blob[4:29]])
    parsed = read_ncz(_recrc(head) + blob[31:])
    assert parsed.header.version_minor == 3


def test_absurd_dimensions_are_refused_before_allocation() -> None:
    head = b"NCZ\x10\x00\x05" + uleb128(100) + uleb128(1_000_000) + uleb128(64) + b"\x03"
    head += b"\x0cfaces64-z100" + b"\0\1\2\3" + b"\0\0"
    with pytest.raises(LimitExceededError, match="width"):
        read_ncz(_recrc(head))
    head = b"NCZ\x10\x00\x05" + uleb128(100) + uleb128(16000) + uleb128(16000) + b"\x03"
    with pytest.raises(LimitExceededError, match=r"width\*height"):
        read_ncz(_recrc(head + b"\x0cfaces64-z100\0\1\2\3\0\0"))


def test_a_damaged_header_is_damaged_not_too_large() -> None:
    """A field out of range in a header whose CRC fails is damage (exit 1), not a limit (exit 4)."""
    head = b"NCZ\x10\x00\x05" + uleb128(100) + uleb128(1_000_000) + uleb128(64) + b"\x03"
    damaged = bytearray(_recrc(head + b"\x0cfaces64-z100\0\1\2\3\0\0"))
    damaged[-1] ^= 0x01
    with pytest.raises(IntegrityError, match="header CRC"):
        read_ncz(bytes(damaged))
    blob = bytearray(_valid())
    blob[7] ^= 0x40  # width 64 -> 0, out of range
    with pytest.raises(IntegrityError, match="header CRC"):
        read_ncz(bytes(blob))


def test_absurd_video_length_is_refused() -> None:
    head = b"NCZ\x10\x01\x05" + uleb128(100) + uleb128(4096) + uleb128(4096) + b"\x03"
    head += uleb128(90_000) + uleb128(1) + uleb128(25) + uleb128(1)
    with pytest.raises(LimitExceededError, match="frames"):
        read_ncz(_recrc(head + b"\x0cfaces64-z100\0\1\2\3\0\0"))


def test_unknown_flags_and_bad_fields() -> None:
    blob = _valid()
    with pytest.raises(FormatError, match="flags"):
        read_ncz(_recrc(blob[:4] + b"\x80" + blob[5:29]) + blob[31:])
    with pytest.raises(LimitExceededError, match="bits"):
        read_ncz(_recrc(blob[:5] + b"\x09" + blob[6:29]) + blob[31:])
    with pytest.raises(FormatError, match="varint"):
        read_ncz(b"NCZ\x10\x00\x05\xff\xff\xff\xff\xff\xff" + bytes(40))


def test_writer_refuses_what_the_format_cannot_carry() -> None:
    with pytest.raises(LimitExceededError):
        _image_header(width=0)
    with pytest.raises(FormatError, match="manifold id"):
        _image_header(manifold_id="Not Valid")
    with pytest.raises(ValueError, match="indices"):
        write_ncz(_image_header(), np.zeros(99, np.uint8))


def test_crc16_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1
