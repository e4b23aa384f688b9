"""Clips through the command line: every input and output kind, bad clips, nothing written on failure."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ncodec import exitcodes
from ncodec.cli import main
from ncodec.clips import read_clip
from ncodec.errors import MissingExtraError
from ncodec.format import read_ncz

TINY = ("-m", "tiny-rgb", "-e", "0")


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stderr


@pytest.fixture
def clip() -> np.ndarray:
    """11 frames of 20x12: a gradient moving right."""
    y, x = np.mgrid[0:12, 0:20]
    return np.stack([np.stack([(x + 2 * t) * 10, y * 15, x * y], axis=2) for t in range(11)]).astype(np.uint8)


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_npy_clip_to_every_output_kind(tmp_path: Path, clip: np.ndarray) -> None:
    np.save(tmp_path / "clip.npy", clip)
    code, err = run("encode", tmp_path / "clip.npy", "-k", "4", "--fps", "12.5", *TINY)
    assert code == 0, err
    assert "11 frames, keyframe every 4" in err
    header = read_ncz((tmp_path / "clip.ncz").read_bytes()).header
    assert header.video is not None and (header.video.frames, header.video.fps) == (11, 12.5)

    assert run("decode", tmp_path / "clip.ncz", "-o", tmp_path / "clip.gif")[0] == 0
    with Image.open(tmp_path / "clip.gif") as gif:
        assert (gif.n_frames, gif.size, gif.info["duration"]) == (11, (20, 12), 80)
    assert run("decode", tmp_path / "clip.ncz", "-o", tmp_path / "out.npy")[0] == 0
    assert np.load(tmp_path / "out.npy").shape == clip.shape
    assert run("decode", tmp_path / "clip.ncz", "-o", tmp_path / "frames")[0] == 0
    assert sorted(files(tmp_path / "frames")) == [f"frame_{i:06d}.png" for i in range(11)]


def test_folder_of_frames_in_and_out(tmp_path: Path, clip: np.ndarray) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i, frame in enumerate(clip):  # natural order: 2 before 10
        Image.fromarray(frame).save(src / f"f{i}.png")
    code, err = run("encode", src, "-o", tmp_path / "c.ncz", "-k", "8", *TINY)
    assert code == 0, err
    assert read_ncz((tmp_path / "c.ncz").read_bytes()).header.video.keyframes() == [0, 8, 10]  # type: ignore[union-attr]
    (tmp_path / "out").mkdir()  # an empty folder may be filled without --force
    assert run("decode", tmp_path / "c.ncz", "-o", f"{tmp_path / 'out'}/")[0] == 0
    assert len(files(tmp_path / "out")) == 11


def test_animated_gif_is_its_first_frame_unless_video(tmp_path: Path, clip: np.ndarray) -> None:
    frames = [Image.fromarray(f) for f in clip]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=40)
    assert run("encode", tmp_path / "a.gif", "-o", tmp_path / "still.ncz", *TINY)[0] == 0
    assert read_ncz((tmp_path / "still.ncz").read_bytes()).header.video is None
    assert run("encode", tmp_path / "a.gif", "-o", tmp_path / "moving.ncz", "--video", *TINY)[0] == 0
    video = read_ncz((tmp_path / "moving.ncz").read_bytes()).header.video
    assert video is not None and (video.frames, video.fps) == (11, 25.0)


def test_mp4_round_trip_through_pyav(tmp_path: Path, clip: np.ndarray) -> None:
    pytest.importorskip("av")
    np.save(tmp_path / "clip.npy", clip)
    assert run("encode", tmp_path / "clip.npy", "--fps", "29.97", *TINY)[0] == 0
    code, err = run("decode", tmp_path / "clip.ncz")  # default: .mp4 beside the input
    assert code == 0, err
    again = read_clip(tmp_path / "clip.mp4")
    assert len(again.frames) == 11 and again.frames[0].shape == (12, 20, 3)
    assert again.fps == pytest.approx(30000 / 1001)
    assert run("encode", tmp_path / "clip.mp4", "-o", tmp_path / "again.ncz", *TINY)[0] == 0


def test_huffman_flag_makes_a_smaller_file_with_the_same_frames(tmp_path: Path, clip: np.ndarray) -> None:
    np.save(tmp_path / "clip.npy", np.concatenate([clip, clip[::-1], clip]))
    assert run("encode", tmp_path / "clip.npy", "-o", tmp_path / "fixed.ncz", "-k", "1", *TINY)[0] == 0
    assert run("encode", tmp_path / "clip.npy", "-o", tmp_path / "huff.ncz", "-k", "1", "--huffman", *TINY)[0] == 0
    fixed, huff = (read_ncz((tmp_path / n).read_bytes()) for n in ("fixed.ncz", "huff.ncz"))
    assert huff.header.huffman and np.array_equal(fixed.indices, huff.indices)


def _write_bad(tmp_path: Path, case: str, clip: np.ndarray) -> Path:
    if case == "zero frames":
        np.save(tmp_path / "bad.npy", clip[:0])
        return tmp_path / "bad.npy"
    if case == "one frame":
        np.save(tmp_path / "bad.npy", clip[:1])
        return tmp_path / "bad.npy"
    if case == "frames of different sizes":
        folder = tmp_path / "bad"
        folder.mkdir()
        Image.fromarray(clip[0]).save(folder / "0.png")
        Image.fromarray(clip[1, :8]).save(folder / "1.png")
        return folder
    if case == "not a clip array":
        np.save(tmp_path / "bad.npy", np.zeros(5))
        return tmp_path / "bad.npy"
    (tmp_path / "bad.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + bytes(40))
    return tmp_path / "bad.mp4"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("zero frames", "at least 2 frames, got 0"),
        ("one frame", "at least 2 frames, got 1"),
        ("frames of different sizes", "all frames must match"),
        ("not a clip array", "(T, H, W) or (T, H, W, C)"),
        ("broken video file", "not a readable video"),
    ],
)
def test_bad_clips_are_one_line_errors_and_nothing_is_written(tmp_path: Path, clip: np.ndarray, case: str, message: str) -> None:
    if case == "broken video file":
        pytest.importorskip("av")
    src = _write_bad(tmp_path, case, clip)
    before = files(tmp_path)
    code, err = run("encode", src, "-o", tmp_path / "out.ncz", *TINY)
    assert code == exitcodes.BAD_INPUT and message in err and err.count("\n") == 1
    assert files(tmp_path) == before


def test_corrupt_huffman_table_is_refused_and_nothing_is_written(tmp_path: Path, clip: np.ndarray) -> None:
    np.save(tmp_path / "clip.npy", clip)
    assert run("encode", tmp_path / "clip.npy", "-o", tmp_path / "h.ncz", "--huffman", *TINY)[0] == 0
    blob = bytearray((tmp_path / "h.ncz").read_bytes())
    first_payload_byte = len(blob) - (read_ncz(bytes(blob)).payload_bits + 7) // 8
    blob[first_payload_byte + 1] ^= 0xFF  # inside the code-length table
    (tmp_path / "h.ncz").write_bytes(bytes(blob))
    code, err = run("decode", tmp_path / "h.ncz", "-o", tmp_path / "out.gif")
    assert code == exitcodes.BAD_INPUT and err.count("\n") == 1
    assert not (tmp_path / "out.gif").exists()


def test_a_clip_cannot_be_written_as_a_still_image_format(tmp_path: Path, clip: np.ndarray) -> None:
    np.save(tmp_path / "clip.npy", clip)
    assert run("encode", tmp_path / "clip.npy", *TINY)[0] == 0
    code, err = run("decode", tmp_path / "clip.ncz", "-o", tmp_path / "out.jpg")
    assert code == exitcodes.USAGE and "cannot write a clip" in err
    assert not (tmp_path / "out.jpg").exists()


def test_frames_folder_is_replaced_whole_with_force(tmp_path: Path, clip: np.ndarray) -> None:
    np.save(tmp_path / "long.npy", clip)
    np.save(tmp_path / "short.npy", clip[:3])
    for name in ("long", "short"):
        assert run("encode", tmp_path / f"{name}.npy", *TINY)[0] == 0
    assert run("decode", tmp_path / "long.ncz", "-o", tmp_path / "frames")[0] == 0
    code, err = run("decode", tmp_path / "short.ncz", "-o", tmp_path / "frames")
    assert code == exitcodes.BAD_INPUT and "--force" in err and len(files(tmp_path / "frames")) == 11
    assert run("decode", tmp_path / "short.ncz", "-o", tmp_path / "frames", "-f")[0] == 0
    assert len(files(tmp_path / "frames")) == 3  # no frames of the longer clip linger
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_video_files_without_the_extra_say_which_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    (tmp_path / "x.mp4").write_bytes(b"whatever")
    with pytest.raises(MissingExtraError, match=r"ncodec\[video\]"):
        read_clip(tmp_path / "x.mp4")


def test_gif_on_stdout_for_a_clip(tmp_path: Path, clip: np.ndarray) -> None:
    np.save(tmp_path / "clip.npy", clip)
    assert run("encode", tmp_path / "clip.npy", *TINY)[0] == 0
    result = CliRunner().invoke(main, ["decode", str(tmp_path / "clip.ncz"), "-o", "-", "-q"])
    assert result.exit_code == 0
    with Image.open(io.BytesIO(result.stdout_bytes)) as gif:
        assert gif.format == "GIF" and gif.n_frames == 11
