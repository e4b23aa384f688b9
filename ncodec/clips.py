"""Clips on disk: video files (through PyAV, the [video] extra), animated GIF/WebP/PNG, folders of frames, .npy arrays.

Reading gives a list of frames plus a frame rate; writing takes what ``decompress_video``
returns. Frame counts and sizes are checked against the format's limits while reading,
so a long or huge clip is refused before it fills memory.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageSequence

from ncodec.atomic import atomic_directory, atomic_write
from ncodec.errors import ImageTooLargeError, InvalidImageError, MissingExtraError
from ncodec.format.header import MAX_FRAMES, MAX_VIDEO_PIXELS
from ncodec.images import check_size, normalize, to_pil

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm"})
"""Read through PyAV (anything FFmpeg reads); .mp4, .m4v, .mkv and .mov are also written (H.264)."""
WRITABLE_VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mkv", ".mov"})
ANIMATION_SUFFIXES = frozenset({".gif", ".webp", ".png", ".apng"})
CLIP_OUTPUT_SUFFIXES = WRITABLE_VIDEO_SUFFIXES | ANIMATION_SUFFIXES | {".npy"}
FRAME_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"})
DEFAULT_FPS = Fraction(25)
"""Frame rate of inputs that record none (folders of frames, .npy arrays)."""
H264_CRF = 12  # near-transparent: the output file should not add visible loss to the decoded clip


@dataclass(frozen=True)
class Clip:
    """Frames, each (H, W) or (H, W, C), and their rate in frames per second."""

    frames: list[npt.NDArray[Any]]
    fps: Fraction


def is_clip_path(path: str) -> bool:
    """Inputs that are always clips: folders of frames, video files and .npy arrays (T, H, W[, C])."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() in VIDEO_SUFFIXES | {".npy"}


def read_clip(path: Path, data: bytes | None = None) -> Clip:
    """Read a clip from ``path`` (or from ``data``, the bytes of a file named like ``path``)."""
    suffix = path.suffix.lower()
    if data is None and path.is_dir():
        return _read_folder(path)
    raw = path.read_bytes() if data is None else data
    if suffix == ".npy":
        return _read_npy(raw, path)
    if suffix in VIDEO_SUFFIXES:
        return _read_video(raw, path)
    return _read_animation(raw, path)


def write_clip(path: Path, frames: npt.NDArray[Any], fps: Fraction) -> None:
    """Write ``frames`` (T, H, W[, C]) atomically as ``path`` says: a folder (existing, or no suffix) or a clip file."""
    if path.is_dir() or not path.suffix:
        write_frames(path, frames)
    else:
        atomic_write(path, clip_bytes(path.suffix.lower(), frames, fps))


def write_frames(folder: Path, frames: npt.NDArray[Any]) -> None:
    """A folder of PNG frames, frame_000000.png on; an existing folder is replaced as a whole, atomically."""
    with atomic_directory(folder) as tmp:
        digits = max(6, len(str(len(frames) - 1)))
        for i, frame in enumerate(frames):
            to_pil(frame).save(tmp / f"frame_{i:0{digits}d}.png")


def clip_bytes(suffix: str, frames: npt.NDArray[Any], fps: Fraction) -> bytes:
    """The file a clip becomes for an output suffix (also what stdout gets, as .gif)."""
    buffer = io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, frames, allow_pickle=False)
    elif suffix in WRITABLE_VIDEO_SUFFIXES:
        _write_h264(buffer, suffix, frames, fps)
    elif suffix in ANIMATION_SUFFIXES:
        images = [to_pil(_as_8bit_rgb(frame)) for frame in frames]
        fmt = {".gif": "GIF", ".webp": "WEBP"}.get(suffix, "PNG")
        options: dict[str, Any] = {"lossless": True} if fmt == "WEBP" else {}
        images[0].save(buffer, format=fmt, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0, **options)
    else:
        raise InvalidImageError(f"cannot write a clip as {suffix!r}: use a folder, .npy, .gif, .webp, .png or .mp4/.mkv/.mov")
    return buffer.getvalue()


def _checked_count(count: int, width: int, height: int, name: Path) -> None:
    check_size(width, height)
    if count > MAX_FRAMES or count * width * height > MAX_VIDEO_PIXELS:
        raise ImageTooLargeError(f"{name}: more than {min(MAX_FRAMES, MAX_VIDEO_PIXELS // (width * height))} frames of {width}x{height}")


def _natural_key(path: Path) -> list[Any]:
    """frame_2 before frame_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _read_folder(folder: Path) -> Clip:
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and p.is_file()), key=_natural_key)
    if not files:
        raise InvalidImageError(f"{folder}: no image frames in this folder ({', '.join(sorted(FRAME_SUFFIXES))})")
    frames = []
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                _checked_count(i + 1, *image.size, folder)
                frames.append(np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB")))
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            if isinstance(exc, InvalidImageError):
                raise
            raise InvalidImageError(f"{file}: not a readable image ({exc})") from None
    return Clip(frames, DEFAULT_FPS)


def _read_npy(raw: bytes, name: Path) -> Clip:
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidImageError(f"{name}: not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray) or array.ndim not in (3, 4):
        raise InvalidImageError(f"{name}: a clip array must be (T, H, W) or (T, H, W, C), got shape {getattr(array, 'shape', None)}")
    _checked_count(array.shape[0], array.shape[2], array.shape[1], name)
    return Clip(list(array), DEFAULT_FPS)


def _read_animation(raw: bytes, name: Path) -> Clip:
    try:
        with Image.open(io.BytesIO(raw)) as image:
            count = getattr(image, "n_frames", 1)
            _checked_count(count, *image.size, name)
            mode = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
            frames = [np.asarray(frame.convert(mode)) for frame in ImageSequence.Iterator(image)]
            duration = image.info.get("duration") or 0
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, InvalidImageError):
            raise
        raise InvalidImageError(f"{name}: not a readable image ({exc})") from None
    fps = Fraction(1000, int(duration)) if duration and duration > 0 else DEFAULT_FPS
    return Clip(frames, fps)


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise MissingExtraError(
            "video files need the [video] extra (PyAV): pip install 'ncodec[video]' (or use .gif, .npy or a folder of frames)"
        ) from None
    return av


def _read_video(raw: bytes, name: Path) -> Clip:
    av = _av()
    frames: list[npt.NDArray[Any]] = []
    try:
        with av.open(io.BytesIO(raw), "r") as container:
            if not container.streams.video:
                raise InvalidImageError(f"{name}: no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or DEFAULT_FPS
            for frame in container.decode(stream):
                _checked_count(len(frames) + 1, frame.width, frame.height, name)
                frames.append(frame.to_ndarray(format="rgb24"))
    except av.FFmpegError as exc:
        raise InvalidImageError(f"{name}: not a readable video ({exc})") from None
    return Clip(frames, Fraction(rate))


def _as_8bit_rgb(frame: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """What video and GIF outputs hold: 8-bit RGB (16-bit samples scaled, gray repeated, alpha dropped)."""
    pixels = normalize(frame)[0]
    pixels = pixels[:, :, :3] if pixels.shape[2] >= 3 else np.repeat(pixels[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def _write_h264(buffer: io.BytesIO, suffix: str, frames: npt.NDArray[Any], fps: Fraction) -> None:
    av = _av()
    height, width = frames.shape[1:3]
    with av.open(buffer, "w", format={".mkv": "matroska", ".mov": "mov"}.get(suffix, "mp4")) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        # 4:2:0 is what players expect; it needs even sides, so odd sizes keep full chroma.
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        stream.options = {"crf": str(H264_CRF)}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(_as_8bit_rgb(frame), format="rgb24")))
        container.mux(stream.encode(None))
