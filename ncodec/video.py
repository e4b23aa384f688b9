"""MCode video: code the latents of every N-th frame (and the last), interpolate the rest.

Keyframes go through the image encoder; the frames between are decoded from a linear
(or spherical) interpolation of the neighbouring keyframes' dequantized latents. At effort > 0
the keyframes' latents are then refined together against every frame, the ones between too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ncodec.codec import DEFAULT_BITS, DEFAULT_EFFORT, check_payload, layout_of, manifold_for
from ncodec.decoding import decode_z
from ncodec.device import DEFAULT_DEVICE, check_device
from ncodec.errors import FormatError, IntegrityError, InvalidImageError
from ncodec.format import Header, VideoInfo, read_ncz, write_ncz
from ncodec.format.header import MAX_FPS_TERM
from ncodec.images import Image8, normalize, restore, to_array, to_native
from ncodec.manifolds import open_manifold
from ncodec.quantize import check_bits, dequantize

DEFAULT_VIDEO_MANIFOLD = "weizmann64-z100"
"""Trained on frames of human-action clips (docs/manifolds.md); bundled, like the image default."""
DEFAULT_KEYFRAME_INTERVAL = 4

Interpolation = Literal["linear", "slerp"]
Progress = Callable[[int], None]
"""Called with the number of frames just finished, chunk by chunk (a progress bar's ``update``)."""
ENCODE_CHUNK = 64  # keyframes coded per pass when coded one by one: batches well, reports often
JOINT_FRAMES = 256
"""Frames per pass when keyframes are refined against the frames between them (effort > 0, N > 1): the
decoder's forward and backward pass over this many frames at once; the keys are settled window by window."""
DECODE_CHUNK = 256


def compress_video(
    frames: Sequence[Any] | npt.NDArray[Any],
    manifold: str = DEFAULT_VIDEO_MANIFOLD,
    keyframe_interval: int = DEFAULT_KEYFRAME_INTERVAL,
    bits: int = DEFAULT_BITS,
    huffman: bool = False,
    fps: float | Fraction = 25,
    effort: int = DEFAULT_EFFORT,
    robust: bool = False,
    progress: Progress | None = None,
    device: str = DEFAULT_DEVICE,
) -> bytes:
    """Encode a clip of at least two equally sized frames to .ncz bytes (``robust``, ``device``: see ``compress``).

    At ``effort`` > 0 the keyframes are refined together against every frame, the ones between
    included, so encoding is no faster than at ``keyframe_interval`` 1; effort 0 is the fast path.
    """
    from ncodec.latent import check_effort, encode_latents, refine_keyframes

    check_bits(bits)
    check_effort(effort)
    check_device(device)
    if isinstance(keyframe_interval, bool) or not isinstance(keyframe_interval, int) or keyframe_interval < 1:
        raise ValueError(f"keyframe_interval must be a positive integer, got {keyframe_interval!r}")
    rate = _frame_rate(fps)
    prepared = [normalize(to_array(frame)) for frame in frames]
    if len(prepared) < 2:
        raise InvalidImageError(f"a video needs at least 2 frames, got {len(prepared)} (code a single frame as an image)")
    layout = prepared[0][1]
    for i, (_, other) in enumerate(prepared):
        if other != layout:
            raise InvalidImageError(
                f"frame {i} is {other.width}x{other.height} with {other.channels} channels, "
                f"frame 0 is {layout.width}x{layout.height} with {layout.channels}: all frames must match"
            )
    info = VideoInfo(len(prepared), keyframe_interval, rate.numerator, rate.denominator)
    m = open_manifold(manifold)
    cfg = m.config
    header = Header(
        bits=bits,
        latent_dim=cfg.latent_dim,
        width=layout.width,
        height=layout.height,
        channels=layout.channels,
        manifold_id=cfg.id,
        fingerprint=m.fingerprint,
        no_channel_axis=layout.no_channel_axis,
        sixteen_bit=layout.sixteen_bit,
        huffman=huffman,
        robust=robust,
        video=info,
    )
    marks = info.keyframes()
    joint = effort > 0 and keyframe_interval > 1
    step = max(1, JOINT_FRAMES // keyframe_interval) if joint else ENCODE_CHUNK

    def native(ts: Sequence[int]) -> Image8:
        return np.stack([to_native(prepared[t][0], cfg.image_size, cfg.channels) for t in ts])

    indices = np.empty((len(marks), cfg.latent_dim), np.uint8)
    coded = 0
    for start in range(0, len(marks), step):
        end = min(start + step, len(marks))
        upto = min(end + 1, len(marks)) if joint else end  # the key after the window shapes the frames before it
        if upto > coded:  # the last window's keys may all be coded already
            indices[coded:upto] = encode_latents(m, native(marks[coded:upto]), bits, effort, device)
            coded = upto
        if joint:
            first, last, between = _between(marks, start, end)
            held = max(start - 1, 0)
            indices[start:end] = refine_keyframes(
                m, indices[held : end + 1], slice(start - held, end - held), native(range(first, last + 1)), between, bits, effort, device
            )
        if progress is not None:  # frames up to the window's last keyframe are settled
            progress(marks[end - 1] + 1 - (marks[start - 1] + 1 if start else 0))
    return write_ncz(header, indices)


Between = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32]]


def _between(marks: list[int], start: int, end: int) -> tuple[int, int, Between]:
    """The frames that keys ``start`` .. ``end`` - 1 shape, ``first`` to ``last``, and for each the two keys it is
    interpolated from and its weight, the keys counted from ``start`` - 1 (held, as is key ``end``)."""
    first = marks[start - 1] + 1 if start else 0
    last = marks[end] - 1 if end < len(marks) else marks[-1]
    at = np.asarray(marks)
    t = np.arange(first, last + 1)
    left = np.searchsorted(at, t, side="right") - 1
    right = np.minimum(left + 1, len(marks) - 1)
    weight = ((t - at[left]) / np.maximum(at[right] - at[left], 1)).astype(np.float32)
    held = max(start - 1, 0)
    return first, last, (left - held, right - held, weight)


def _frame_rate(fps: float | Fraction) -> Fraction:
    """Exact rate; float NTSC rates (29.97, 23.976, ...) become n*1000/1001."""
    value = float(fps)
    rate = Fraction(0)  # NaN and infinity are refused below
    if math.isfinite(value):
        ntsc = round(value * 1.001)
        if not isinstance(fps, Fraction) and abs(value - ntsc * 1000 / 1001) < min(5e-3, abs(value - ntsc)):
            rate = Fraction(ntsc * 1000, 1001)
        else:
            rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0 or rate.numerator > MAX_FPS_TERM:
        raise ValueError(f"frame rate must be positive and at most {MAX_FPS_TERM}, got {fps!r}")
    return rate


def decompress_video(
    blob: bytes,
    interpolation: Interpolation = "linear",
    strict: bool = False,
    progress: Progress | None = None,
    device: str = DEFAULT_DEVICE,
) -> npt.NDArray[Any]:
    """Decode a video .ncz to (T, H, W[, C]) frames of the original size and dtype (``device``: see ``decompress``)."""
    check_device(device)
    f = read_ncz(blob)
    if f.header.video is None:
        raise FormatError("this is an image .ncz; decode it with decompress")
    if f.header.huffman and not f.payload_ok:
        raise IntegrityError("payload CRC mismatch in a Huffman-coded video: the stream cannot be trusted")
    check_payload(f, strict)
    m = manifold_for(f.header)
    latents = interpolate(dequantize(f.indices, f.header.bits), f.header.video, interpolation)
    layout = layout_of(f.header)
    frames: list[npt.NDArray[Any]] = []
    for start in range(0, len(latents), DECODE_CHUNK):
        frames.extend(restore(p, layout) for p in decode_z(m, latents[start : start + DECODE_CHUNK], total=len(latents), device=device))
        if progress is not None:
            progress(min(DECODE_CHUNK, len(latents) - start))
    return np.stack(frames)


def interpolate(keys: npt.NDArray[np.float32], info: VideoInfo, how: Interpolation = "linear") -> npt.NDArray[np.float32]:
    """Latents of all frames from the keyframes' latents (K, M) -> (T, M)."""
    if how not in ("linear", "slerp"):
        raise ValueError(f"interpolation must be 'linear' or 'slerp', got {how!r}")
    marks = info.keyframes()
    out = np.empty((info.frames, keys.shape[1]), np.float32)
    for k, (a, b) in enumerate(itertools.pairwise(marks)):
        t = ((np.arange(a, b + 1) - a) / (b - a)).astype(np.float32)[:, None]
        out[a : b + 1] = (_slerp if how == "slerp" else _lerp)(keys[k], keys[k + 1], t)
    out[marks[-1]] = keys[-1]
    return out


def _lerp(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], t: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    mixed: npt.NDArray[np.float32] = (1 - t) * a + t * b
    return mixed


def _slerp(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], t: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    cos = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-4:
        return _lerp(a, b, t)
    mixed: npt.NDArray[np.float32] = np.clip((np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega), -1.0, 1.0)
    return mixed.astype(np.float32)
