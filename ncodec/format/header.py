"""The .ncz v1 header: fields, limits, serialisation and parsing (docs/format.md).

Bytes and integers only; no torch. Every declared size is checked against the
limits here before any caller can allocate from it.
"""

from __future__ import annotations

import binascii
import enum
from dataclasses import dataclass
from typing import Any

from ncodec.bytesio import ByteReader, uleb128
from ncodec.errors import FormatError, IntegrityError, LimitExceededError, UnsupportedVersionError
from ncodec.format.robust import frame
from ncodec.manifold_config import ID_PATTERN

MAGIC = b"NCZ"
VERSION_MAJOR = 1
VERSION_MINOR = 0

MAX_LATENT_DIM = 4096
MAX_DIMENSION = 16384
MAX_PIXELS = 1 << 26  # per frame, width * height
MAX_FRAMES = 100_000
MAX_VIDEO_PIXELS = 1 << 30  # frames * width * height
MAX_FPS_TERM = 1 << 20
MAX_ID_LENGTH = 32
FINGERPRINT_SIZE = 4

FLAG_HUFFMAN = 0x04
FLAG_ROBUST = 0x08
_KIND_MASK = 0x03
_RESERVED_FLAGS = 0xF0

LAYOUT_CHANNELS = 0x07
LAYOUT_NO_CHANNEL_AXIS = 0x08
LAYOUT_16BIT = 0x10
_RESERVED_LAYOUT = 0xE0
_VARINT_MAX = (1 << 35) - 1  # all that ByteReader's 5-byte varints hold: ranges are checked after the CRC


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)."""
    return binascii.crc_hqx(data, 0xFFFF)


class Kind(enum.IntEnum):
    IMAGE = 0
    VIDEO = 1


@dataclass(frozen=True)
class VideoInfo:
    """Timing of a video file; keyframes are 0, N, 2N, ... and always the last frame."""

    frames: int
    keyframe_interval: int
    fps_num: int
    fps_den: int = 1

    @property
    def fps(self) -> float:
        return self.fps_num / self.fps_den

    def keyframes(self) -> list[int]:
        marks = list(range(0, self.frames, self.keyframe_interval))
        if marks[-1] != self.frames - 1:
            marks.append(self.frames - 1)
        return marks


@dataclass(frozen=True)
class Header:
    """Everything before the payload. ``payload_crc`` is set by the writer."""

    bits: int
    latent_dim: int
    width: int
    height: int
    channels: int
    manifold_id: str
    fingerprint: bytes
    no_channel_axis: bool = False
    sixteen_bit: bool = False
    huffman: bool = False
    robust: bool = False
    video: VideoInfo | None = None
    payload_crc: int = 0
    version_minor: int = VERSION_MINOR

    def __post_init__(self) -> None:
        _check_fields(self)

    @property
    def kind(self) -> Kind:
        return Kind.VIDEO if self.video else Kind.IMAGE

    @property
    def coded_frames(self) -> int:
        return len(self.video.keyframes()) if self.video else 1

    @property
    def payload_bits(self) -> int:
        """Bits of fixed-width indices (Huffman payloads are measured on the file)."""
        return self.coded_frames * self.latent_dim * self.bits

    def to_bytes(self) -> bytes:
        flags = int(self.kind) | (FLAG_HUFFMAN if self.huffman else 0) | (FLAG_ROBUST if self.robust else 0)
        layout = self.channels | (LAYOUT_NO_CHANNEL_AXIS if self.no_channel_axis else 0)
        layout |= LAYOUT_16BIT if self.sixteen_bit else 0
        out = bytearray(MAGIC)
        out += bytes([VERSION_MAJOR << 4 | self.version_minor, flags, self.bits])
        out += uleb128(self.latent_dim) + uleb128(self.width) + uleb128(self.height) + bytes([layout])
        if self.video:
            v = self.video
            out += uleb128(v.frames) + uleb128(v.keyframe_interval) + uleb128(v.fps_num) + uleb128(v.fps_den)
        out += bytes([len(self.manifold_id)]) + self.manifold_id.encode("ascii") + self.fingerprint
        out += self.payload_crc.to_bytes(2, "big")
        out += crc16(bytes(out)).to_bytes(2, "big")
        return bytes(out)

    def prefix(self) -> bytes:
        """Everything before the payload: the header, Reed-Solomon framed when ``robust``."""
        return frame(self.to_bytes()) if self.robust else self.to_bytes()

    def fields(self) -> dict[str, Any]:
        """The decoded fields, in spec order, as ``ncodec info`` prints them."""
        out: dict[str, Any] = {
            "format": f"ncz {VERSION_MAJOR}.{self.version_minor}",
            "kind": self.kind.name.lower(),
            "huffman": self.huffman,
            "robust": self.robust,
            "bits": self.bits,
            "latent_dim": self.latent_dim,
            "width": self.width,
            "height": self.height,
            "channels": self.channels,
            "channel_axis": not self.no_channel_axis,
            "sample_bits": 16 if self.sixteen_bit else 8,
        }
        if self.video:
            out |= {
                "frames": self.video.frames,
                "keyframe_interval": self.video.keyframe_interval,
                "fps": f"{self.video.fps_num}/{self.video.fps_den}",
                "keyframes": self.coded_frames,
            }
        out |= {
            "manifold": self.manifold_id,
            "fingerprint": self.fingerprint.hex(),
            "payload_crc": f"{self.payload_crc:04x}",
            "header_bytes": len(self.prefix()),
        }
        return out


def _check_fields(h: Header) -> None:
    """Reject values the format cannot carry, for writers and readers alike."""
    _in_range("bits", h.bits, 1, 8)
    _in_range("latent_dim", h.latent_dim, 1, MAX_LATENT_DIM)
    _in_range("width", h.width, 1, MAX_DIMENSION)
    _in_range("height", h.height, 1, MAX_DIMENSION)
    _in_range("width*height", h.width * h.height, 1, MAX_PIXELS)
    _in_range("channels", h.channels, 1, 4)
    if h.no_channel_axis and h.channels != 1:
        raise FormatError("only single-channel images may omit the channel axis")
    if not ID_PATTERN.match(h.manifold_id):
        raise FormatError(f"invalid manifold id {h.manifold_id!r}")
    if len(h.fingerprint) != FINGERPRINT_SIZE:
        raise FormatError(f"fingerprint must be {FINGERPRINT_SIZE} bytes")
    if h.huffman and not h.video:
        raise FormatError("Huffman coding is defined for video only")
    if h.video:
        v = h.video
        _in_range("frames", v.frames, 1, MAX_FRAMES)
        _in_range("frames*width*height", v.frames * h.width * h.height, 1, MAX_VIDEO_PIXELS)
        _in_range("keyframe_interval", v.keyframe_interval, 1, MAX_FRAMES)
        _in_range("fps numerator", v.fps_num, 1, MAX_FPS_TERM)
        _in_range("fps denominator", v.fps_den, 1, MAX_FPS_TERM)


def _in_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise LimitExceededError(f"{name} = {value} is outside the allowed range [{low}, {high}]")


def read_header(reader: ByteReader) -> Header:
    """Parse and verify a header; on return ``reader`` points at the payload.

    Out-of-range fields are reported only once the header CRC holds: a damaged header is
    "damaged", not "too large" (a flipped bit in the width reads as a huge image). Unknown
    flag or layout bits are refused by name at once: they may change what follows.
    """
    if reader.remaining == 0:
        raise FormatError("empty input: not an .ncz file")
    head = reader.data[: len(MAGIC)]
    if head != MAGIC[: len(head)]:
        raise FormatError("not an .ncz file (bad magic)")
    reader.read(len(MAGIC))
    version = reader.u8()
    major, minor = version >> 4, version & 0x0F
    if major != VERSION_MAJOR:
        raise UnsupportedVersionError(
            f"file is .ncz version {major}.{minor}; this ncodec reads version {VERSION_MAJOR}.x"
            + (" (upgrade ncodec to read it)" if major > VERSION_MAJOR else "")
        )
    out_of_range: list[LimitExceededError] = []

    def field(name: str, value: int, low: int, high: int) -> int:
        try:
            _in_range(name, value, low, high)
        except LimitExceededError as exc:
            out_of_range.append(exc)
        return value

    def varint(name: str, low: int, high: int) -> int:
        return field(name, reader.uleb128(name, 0, _VARINT_MAX), low, high)

    flags = reader.u8()
    if flags & _RESERVED_FLAGS or flags & _KIND_MASK > Kind.VIDEO:
        raise FormatError(f"unknown flags 0x{flags:02x}")
    bits = field("bits", reader.u8(), 1, 8)
    latent_dim = varint("latent_dim", 1, MAX_LATENT_DIM)
    width = varint("width", 1, MAX_DIMENSION)
    height = varint("height", 1, MAX_DIMENSION)
    layout = reader.u8()
    if layout & _RESERVED_LAYOUT:
        raise FormatError(f"unknown layout bits 0x{layout:02x}")
    video = None
    if flags & _KIND_MASK == Kind.VIDEO:
        video = (varint("frames", 1, MAX_FRAMES), varint("keyframe_interval", 1, MAX_FRAMES),
                 varint("fps numerator", 1, MAX_FPS_TERM), varint("fps denominator", 1, MAX_FPS_TERM))  # fmt: skip
    id_length = field("manifold id length", reader.u8(), 1, MAX_ID_LENGTH)
    raw_id = reader.read(id_length)
    fingerprint = reader.read(FINGERPRINT_SIZE)
    payload_crc = reader.u16()
    end = reader.pos
    stored_crc = reader.u16()
    if crc16(reader.data[:end]) != stored_crc:
        raise IntegrityError("header CRC mismatch: the file is damaged")
    if out_of_range:
        raise out_of_range[0]
    try:
        manifold_id = raw_id.decode("ascii")
    except UnicodeDecodeError:
        raise FormatError("manifold id is not ASCII") from None
    return Header(
        bits=bits,
        latent_dim=latent_dim,
        width=width,
        height=height,
        channels=layout & LAYOUT_CHANNELS,
        manifold_id=manifold_id,
        fingerprint=fingerprint,
        no_channel_axis=bool(layout & LAYOUT_NO_CHANNEL_AXIS),
        sixteen_bit=bool(layout & LAYOUT_16BIT),
        huffman=bool(flags & FLAG_HUFFMAN),
        robust=bool(flags & FLAG_ROBUST),
        video=None if video is None else VideoInfo(*video),
        payload_crc=payload_crc,
        version_minor=minor,
    )
