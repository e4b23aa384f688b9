"""The paper's "headerless" JPEG size: what a JPEG costs when both ends agree on the container.

Kept: the quantisation and Huffman tables (DQT, DHT), restart interval (DRI), arithmetic
coding conditioning (DAC), and every scan (SOS header plus its entropy-coded data).
Removed: SOI and EOI markers, APPn segments (JFIF, EXIF, ICC, ...), COM comments and the
frame header (SOFn: size and component layout, which the receiver is assumed to know).
docs/results.md states this rule beside the numbers that use it.
"""

from __future__ import annotations

from ncodec.errors import FormatError

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
_STANDALONE = {SOI, EOI, 0x01, *range(0xD0, 0xD8)}  # markers without a length field (TEM, RSTn)
_SOF = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}  # C4 = DHT, C8 = JPG extension, CC = DAC


def _removed(marker: int) -> bool:
    return marker in (SOI, EOI, 0xFE) or 0xE0 <= marker <= 0xEF or marker in _SOF


def headerless_size(jpeg: bytes) -> int:
    """Bytes of ``jpeg`` left after removing SOI, APPn, COM, SOFn and EOI (see the module doc)."""
    if jpeg[:2] != b"\xff\xd8":
        raise FormatError("not a JPEG file (no SOI marker)")
    kept, pos, end = 0, 0, len(jpeg)
    while pos < end:
        if jpeg[pos] != 0xFF:
            raise FormatError(f"expected a marker at byte {pos}")
        marker = jpeg[pos + 1] if pos + 1 < end else EOI
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _STANDALONE:
            size = 2
        else:
            if pos + 4 > end:
                raise FormatError("JPEG segment header cut short")
            size = 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        if marker == SOS:
            size += _scan_length(jpeg, pos + size)
        if not _removed(marker):
            kept += size
        pos += size
        if marker == EOI:
            break
    return kept


def _scan_length(jpeg: bytes, start: int) -> int:
    """Length of entropy-coded data from ``start`` up to the next marker (FF00 stuffing and RSTn belong to the scan)."""
    pos = start
    while True:
        pos = jpeg.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(jpeg):
            return len(jpeg) - start
        following = jpeg[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        else:
            return pos - start
