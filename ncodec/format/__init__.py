"""The .ncz container: bytes and integers only, never torch (spec: docs/format.md)."""

from ncodec.format.container import NczFile, read_ncz, write_ncz
from ncodec.format.header import MAGIC, Header, Kind, VideoInfo, read_header

__all__ = ["MAGIC", "Header", "Kind", "NczFile", "VideoInfo", "read_header", "read_ncz", "write_ncz"]
