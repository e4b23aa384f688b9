"""Pillow plugin: ``Image.open("x.ncz")`` and ``img.save("x.ncz")`` after ``import ncodec``.

Shaped like Pillow's own format plugins: ``_accept`` sniffs the magic, the
``ImageFile`` subclass reads only the header on open and decodes on ``load()``,
and save handlers map ``img.save(..., bits=, manifold=, effort=)`` onto
``ncodec.compress`` (``save_all=True`` writes a video).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from PIL import Image, ImageFile, ImageSequence

from ncodec.bytesio import ByteReader
from ncodec.format.header import MAGIC, Header, read_header

if TYPE_CHECKING:
    import numpy.typing as npt

# This module is imported by `import ncodec`: the codec (numpy, and torch on use) loads only when a file is coded.

FORMAT = "NCZ"
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _accept(prefix: bytes) -> bool:
    return prefix[: len(MAGIC)] == MAGIC


def _mode(header: Header) -> str:
    return "I;16" if header.sixteen_bit and header.channels == 1 else _MODES[header.channels]


class NczImageFile(ImageFile.ImageFile):
    """An .ncz file seen by Pillow; a video is a multi-frame image."""

    format = FORMAT
    format_description = "ncodec generative compression"

    def _open(self) -> None:
        assert self.fp is not None
        self._blob = self.fp.read()
        header = read_header(ByteReader(self._blob))
        self._header = header
        self._size = (header.width, header.height)
        self._mode = _mode(header)
        self.n_frames = header.video.frames if header.video else 1
        self.is_animated = self.n_frames > 1
        self._frame = 0
        self._frames: npt.NDArray[Any] | None = None
        self.info |= {
            "manifold": header.manifold_id,
            "latent_dim": header.latent_dim,
            "bits": header.bits,
            "payload_bits": header.payload_bits,
            "fingerprint": header.fingerprint.hex(),
        }
        if header.video:
            self.info["duration"] = 1000.0 / header.video.fps
        self.tile = [ImageFile._Tile("ncz", (0, 0, *self._size), 0, None)]

    def seek(self, frame: int) -> None:
        if not self._seek_check(frame):
            return
        self._frame = frame
        self.tile = [ImageFile._Tile("ncz", (0, 0, *self._size), 0, None)]

    def tell(self) -> int:
        return self._frame

    def _decoded(self) -> npt.NDArray[Any]:
        if self._header.video is None:
            import numpy as np

            from ncodec.codec import decompress

            return np.asarray(decompress(self._blob))
        if self._frames is None:
            from ncodec.video import decompress_video

            self._frames = decompress_video(self._blob)
        frame: npt.NDArray[Any] = self._frames[self._frame]
        return frame

    def load(self) -> Any:
        if self.tile:
            from ncodec.images import to_pil

            decoded = to_pil(self._decoded())
            self.load_prepare()
            self.frombytes(decoded.convert(self.mode).tobytes())
            self.tile = []
        return super().load()


def _coding_options(opts: dict[str, Any]) -> dict[str, Any]:
    """The ``save()`` keywords that images and videos share."""
    from ncodec.codec import DEFAULT_BITS, DEFAULT_EFFORT

    return {
        "bits": opts.get("bits", DEFAULT_BITS),
        "effort": opts.get("effort", DEFAULT_EFFORT),
        "robust": opts.get("robust", False),
    }


def _save(im: Image.Image, fp: IO[bytes], filename: str | bytes) -> None:
    from ncodec.codec import compress
    from ncodec.manifolds import DEFAULT_MANIFOLD

    opts = im.encoderinfo
    fp.write(compress(im, manifold=opts.get("manifold", DEFAULT_MANIFOLD), **_coding_options(opts)))


def _save_all(im: Image.Image, fp: IO[bytes], filename: str | bytes) -> None:
    from ncodec.video import DEFAULT_KEYFRAME_INTERVAL, DEFAULT_VIDEO_MANIFOLD, compress_video

    opts = im.encoderinfo
    frames = [frame.copy() for frame in ImageSequence.Iterator(im)]
    frames += [f.copy() for extra in opts.get("append_images", []) for f in ImageSequence.Iterator(extra)]
    duration = opts.get("duration", im.info.get("duration", 40))
    fp.write(
        compress_video(
            frames,
            manifold=opts.get("manifold", DEFAULT_VIDEO_MANIFOLD),
            keyframe_interval=opts.get("keyframe_interval", DEFAULT_KEYFRAME_INTERVAL),
            huffman=opts.get("huffman", False),
            fps=1000.0 / duration,
            **_coding_options(opts),
        )
    )


Image.register_open(FORMAT, NczImageFile, _accept)
Image.register_save(FORMAT, _save)
Image.register_save_all(FORMAT, _save_all)
Image.register_extension(FORMAT, ".ncz")
Image.register_mime(FORMAT, "image/x-ncz")
