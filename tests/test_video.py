"""MCode video through the API: keyframes, interpolation, fixed-width vs Huffman, bad clips."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import ncodec
from ncodec.format import VideoInfo, read_ncz, write_ncz
from ncodec.video import _between, interpolate

TINY = "tiny-rgb"


@pytest.fixture
def clip() -> np.ndarray:
    """A 11-frame 20x12 clip of a moving gradient."""
    y, x = np.mgrid[0:12, 0:20]
    return np.stack([np.stack([(x + 2 * t) * 10, y * 15, x * y], axis=2) for t in range(11)]).astype(np.uint8)


def test_keyframes_are_every_nth_and_the_last() -> None:
    assert VideoInfo(11, 4, 25).keyframes() == [0, 4, 8, 10]
    assert VideoInfo(9, 4, 25).keyframes() == [0, 4, 8]
    assert VideoInfo(2, 1, 25).keyframes() == [0, 1]


@pytest.mark.parametrize("huffman", [False, True])
def test_round_trip_restores_frame_count_size_and_rate(clip: np.ndarray, huffman: bool) -> None:
    blob = ncodec.compress_video(clip, manifold=TINY, keyframe_interval=4, huffman=huffman, fps=29.97, effort=0)
    header = read_ncz(blob).header
    assert header.video == VideoInfo(11, 4, 30000, 1001)
    out = ncodec.decompress_video(blob)
    assert out.shape == clip.shape and out.dtype == np.uint8


def test_huffman_indices_are_bit_exact_to_fixed_width(clip: np.ndarray) -> None:
    fixed = read_ncz(ncodec.compress_video(clip, manifold=TINY, keyframe_interval=2, effort=0))
    coded = read_ncz(ncodec.compress_video(clip, manifold=TINY, keyframe_interval=2, huffman=True, effort=0))
    assert coded.header.huffman and not fixed.header.huffman
    assert np.array_equal(coded.indices, fixed.indices)
    assert np.array_equal(
        ncodec.decompress_video(write_ncz(coded.header, coded.indices)),
        ncodec.decompress_video(write_ncz(fixed.header, fixed.indices)),
    )


def test_linear_interpolation_is_exact_at_keyframes_and_midway() -> None:
    keys = np.array([[-1.0, 0.0], [1.0, 0.5], [0.0, 0.0]], np.float32)
    z = interpolate(keys, VideoInfo(7, 4, 25))
    assert z.shape == (7, 2)
    assert np.allclose(z[[0, 4, 6]], keys)
    assert np.allclose(z[2], [0.0, 0.25])
    assert np.allclose(z[5], [0.5, 0.25])
    slerp = interpolate(keys, VideoInfo(7, 4, 25), "slerp")
    assert np.allclose(slerp[[0, 4, 6]], keys) and not np.allclose(slerp[2], z[2])


@pytest.mark.parametrize(("frames", "interval", "start", "end"), [(11, 4, 0, 2), (11, 4, 1, 3), (11, 4, 2, 4), (9, 4, 0, 3), (30, 3, 3, 7)])
def test_keys_refined_together_see_the_latents_the_decoder_interpolates(frames: int, interval: int, start: int, end: int) -> None:
    info = VideoInfo(frames, interval, 25)
    marks = info.keyframes()
    keys = np.random.default_rng(0).uniform(-1, 1, (len(marks), 5)).astype(np.float32)
    first, last, (left, right, weight) = _between(marks, start, end)
    held = keys[max(start - 1, 0) :]
    assert first == (marks[start - 1] + 1 if start else 0) and last == (marks[end] - 1 if end < len(marks) else frames - 1)
    assert np.array_equal((1 - weight[:, None]) * held[left] + weight[:, None] * held[right], interpolate(keys, info)[first : last + 1])


def test_keys_refined_together_fit_the_frames_between_better() -> None:
    from ncodec.latent import encode_latents
    from ncodec.manifolds import open_manifold

    y, x = np.mgrid[0:64, 0:64]  # a dark figure crossing a lit wall, the video manifold's kind of scene
    clip = np.stack([np.where(((x - 12 - 5 * t) / 6) ** 2 + ((y - 34) / 18) ** 2 < 1, 60, 170 + y // 4) for t in range(9)])
    clip = np.repeat(clip[..., None], 3, axis=3).astype(np.uint8)
    coded = read_ncz(ncodec.compress_video(clip, keyframe_interval=4))
    alone = encode_latents(open_manifold(ncodec.DEFAULT_VIDEO_MANIFOLD), clip[coded.header.video.keyframes()], 5, 1)

    def error(indices: np.ndarray) -> float:
        return float(np.mean((ncodec.decompress_video(write_ncz(coded.header, indices)).astype(float) - clip) ** 2))

    assert error(coded.indices) < 0.9 * error(alone)


def test_a_flipped_bit_in_fixed_width_moves_one_keyframe_only(clip: np.ndarray) -> None:
    blob = ncodec.compress_video(clip, manifold=TINY, keyframe_interval=4, bits=5, effort=0)
    parsed = read_ncz(blob)
    damaged = bytearray(blob)
    damaged[len(blob) - len(blob) + parsed.header.fields()["header_bytes"] + 9] ^= 0x04  # a bit of keyframe 1
    hit = read_ncz(bytes(damaged))
    changed = np.argwhere(hit.indices != parsed.indices)
    assert len(changed) == 1 and changed[0][0] == 1
    with pytest.warns(ncodec.PayloadDamagedWarning):
        ncodec.decompress_video(bytes(damaged))


def test_huffman_damage_is_detected(clip: np.ndarray) -> None:
    blob = bytearray(ncodec.compress_video(clip, manifold=TINY, keyframe_interval=2, huffman=True, effort=0))
    blob[-2] ^= 0x01
    with pytest.raises(ncodec.FormatError):
        ncodec.decompress_video(bytes(blob))


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((0, 8, 8, 3), np.uint8), "at least 2 frames"),
        (np.zeros((1, 8, 8, 3), np.uint8), "at least 2 frames"),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8)], "frame 1 is 9x8"),
    ],
)
def test_bad_clips(frames: object, message: str) -> None:
    with pytest.raises(ncodec.InvalidImageError, match=message):
        ncodec.compress_video(frames, manifold=TINY)


def test_images_and_videos_are_not_mixed_up(clip: np.ndarray) -> None:
    video = ncodec.compress_video(clip, manifold=TINY, effort=0)
    with pytest.raises(ncodec.FormatError, match="decompress_video"):
        ncodec.decompress(video)
    with pytest.raises(ncodec.FormatError, match="decompress"):
        ncodec.decompress_video(ncodec.compress(clip[0], manifold=TINY, effort=0))


def test_corrupt_huffman_table_in_a_file(clip: np.ndarray) -> None:
    parsed = read_ncz(ncodec.compress_video(clip, manifold=TINY, keyframe_interval=2, huffman=True, effort=0))
    good = write_ncz(parsed.header, parsed.indices)
    table_at = parsed.header.fields()["header_bytes"] + (12 * 5 + 7) // 8
    bad = bytearray(good)
    bad[table_at] = 0  # longest code length 0
    sealed = write_ncz(dataclasses.replace(parsed.header), parsed.indices)
    assert sealed == good
    with pytest.raises(ncodec.FormatError):
        ncodec.decompress_video(bytes(bad))


@pytest.mark.parametrize(("fps", "num", "den"), [(29.97, 30000, 1001), (23.976, 24000, 1001), (25, 25, 1), (1, 1, 1), (12.5, 25, 2)])
def test_frame_rates_are_stored_exactly(fps: float, num: int, den: int) -> None:
    from ncodec.video import _frame_rate

    assert (_frame_rate(fps).numerator, _frame_rate(fps).denominator) == (num, den)


@pytest.mark.parametrize(
    ("repeat", "interval", "effort"), [(1, 4, 0), (30, 1, 0), (30, 3, 0), (30, 3, 1), (1, 300, 1), (30, 300, 1)]
)  # several chunks
def test_progress_reports_every_frame_once(clip: np.ndarray, repeat: int, interval: int, effort: int) -> None:
    frames = np.concatenate([clip] * repeat)
    encoded: list[int] = []
    decoded: list[int] = []
    blob = ncodec.compress_video(frames, manifold=TINY, keyframe_interval=interval, effort=effort, progress=encoded.append)
    assert np.array_equal(
        read_ncz(blob).indices, read_ncz(ncodec.compress_video(frames, manifold=TINY, keyframe_interval=interval, effort=effort)).indices
    )
    assert len(ncodec.decompress_video(blob, progress=decoded.append)) == len(frames)
    assert sum(encoded) == sum(decoded) == len(frames) and all(n > 0 for n in encoded + decoded)


def test_default_video_manifold_is_the_bundled_clip_manifold() -> None:
    from ncodec.manifolds import open_manifold

    manifold = open_manifold(ncodec.DEFAULT_VIDEO_MANIFOLD)
    assert manifold.config.trained and manifold.pin is not None and manifold.pin.bundled
