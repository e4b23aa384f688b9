"""The command line: round trips, exit codes, one-line errors, and no stray output files."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ncodec import exitcodes
from ncodec.cli import main
from ncodec.format import read_ncz, write_ncz

DATA = Path(__file__).parent / "data"


def run(*args: str | Path, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    return result.exit_code, result.stdout_bytes, result.stderr


@pytest.fixture
def png(tmp_path: Path, photo: np.ndarray) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    return path


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_encode_decode_round_trip_with_default_names(png: Path) -> None:
    code, _, err = run("encode", png, "-m", "tiny-rgb", "-e", "0")
    assert code == 0, err
    ncz = png.with_suffix(".ncz")
    assert "payload 60 bits" in err and f"file {ncz.stat().st_size} bytes" in err
    out = png.parent / "restored.png"
    code, _, err = run("decode", ncz, "-o", out)
    assert code == 0, err
    assert Image.open(out).size == (40, 24) and Image.open(out).mode == "RGB"


def test_stdin_to_stdout(png: Path) -> None:
    code, blob, _ = run("encode", "-", "-o", "-", "-m", "tiny-rgb", "-e", "0", "-q", input=png.read_bytes())
    assert code == 0 and blob[:3] == b"NCZ"
    code, image, _ = run("decode", "-", "-q", input=blob)
    assert code == 0 and image[:8] == b"\x89PNG\r\n\x1a\n"


def test_refuses_to_overwrite_without_force(png: Path) -> None:
    ncz = png.with_suffix(".ncz")
    ncz.write_bytes(b"keep me")
    code, _, err = run("encode", png, "-m", "tiny-rgb")
    assert code == 1 and "already exists" in err and "--force" in err
    assert ncz.read_bytes() == b"keep me"
    code, _, _ = run("encode", png, "-m", "tiny-rgb", "-e", "0", "-f")
    assert code == 0 and ncz.read_bytes()[:3] == b"NCZ"


def test_never_overwrites_its_input_even_with_force(png: Path) -> None:
    before = hashlib.sha256(png.read_bytes()).hexdigest()
    link = png.parent / "link.ncz"
    link.symlink_to(png)
    code, _, err = run("encode", png, "-o", link, "-m", "tiny-rgb", "-f")
    assert code == 1 and "input" in err
    assert hashlib.sha256(png.read_bytes()).hexdigest() == before


def bad_ncz_cases() -> dict[str, bytes]:
    good = (DATA / "image_rgb64.ncz").read_bytes()
    newer = bytearray(good)
    newer[3] = 0x20
    crc = bytearray(good)
    crc[8] ^= 1
    return {
        "empty": b"",
        "magic": b"GIF89a" + bytes(90),
        "truncated header": good[:12],
        "truncated payload": good[:-3],
        "header CRC": bytes(crc),
        "newer version": bytes(newer),
        "absurd dimensions": _sealed(b"NCZ\x10\x00\x05d" + b"\x80\x80\x04" + b"\x40\x03\x0cfaces64-z100\0\1\2\3\0\0"),
    }


def _sealed(head: bytes) -> bytes:
    from ncodec.format.header import crc16

    return head + crc16(head).to_bytes(2, "big") + bytes(63)


@pytest.mark.parametrize("case", sorted(bad_ncz_cases()))
def test_bad_files_exit_with_their_code_one_line_and_no_output(tmp_path: Path, case: str) -> None:
    src = tmp_path / "bad.ncz"
    src.write_bytes(bad_ncz_cases()[case])
    code, _, err = run("decode", src, "-o", tmp_path / "out.png")
    assert code == (exitcodes.LIMIT_EXCEEDED if case == "absurd dimensions" else exitcodes.BAD_INPUT)
    assert err.count("\n") == 1 and err.startswith(f"ncodec: error: {src}: ")
    assert "Traceback" not in err
    assert files(tmp_path) == {"bad.ncz"}


def test_info_names_a_bad_file_but_stdin_has_no_name(tmp_path: Path) -> None:
    src = tmp_path / "cut.ncz"
    src.write_bytes(bad_ncz_cases()["magic"])
    assert run("info", src)[2] == f"ncodec: error: {src}: not an .ncz file (bad magic)\n"
    code, _, err = run("decode", "-", "-o", tmp_path / "out.png", input=src.read_bytes())
    assert (code, err) == (exitcodes.BAD_INPUT, "ncodec: error: not an .ncz file (bad magic)\n")


@pytest.mark.parametrize(
    ("change", "message"),
    [({"manifold_id": "nowhere-z100"}, "'nowhere-z100' not found"), ({"fingerprint": b"\0\0\0\0"}, "fingerprint")],
)
def test_unknown_manifold_and_fingerprint_mismatch(tmp_path: Path, png: Path, change: dict, message: str) -> None:
    parsed = read_ncz(run("encode", png, "-o", "-", "-m", "tiny-rgb", "-e", "0", "-q")[1])
    src = tmp_path / "x.ncz"
    src.write_bytes(write_ncz(dataclasses.replace(parsed.header, **change), parsed.indices))
    code, _, err = run("decode", src, "-o", tmp_path / "out.png")
    assert code == exitcodes.MANIFOLD_UNAVAILABLE and message in err and err.count("\n") == 1
    assert not (tmp_path / "out.png").exists()


def test_non_image_input_to_encode(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    code, _, err = run("encode", src, "-m", "tiny-rgb")
    assert code == 1 and "not a readable image (truncated, or in no format" in err and err.count("\n") == 1
    assert files(tmp_path) == {"notes.txt"}


def test_empty_and_truncated_images_say_which(tmp_path: Path, png: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "cut.png").write_bytes(png.read_bytes()[:40])
    for name, why in [("empty.png", "(an empty file)"), ("cut.png", "(truncated, or in no format Pillow knows)")]:
        code, _, err = run("encode", tmp_path / name, "-m", "tiny-rgb", "-e", "0")
        assert (code, err) == (exitcodes.BAD_INPUT, f"ncodec: error: {tmp_path / name}: not a readable image {why}\n")
    assert files(tmp_path) == {"empty.png", "cut.png", "photo.png"}


def test_debug_shows_traceback(tmp_path: Path) -> None:
    src = tmp_path / "bad.ncz"
    src.write_bytes(b"nope")
    code, _, err = run("decode", src, "--debug")
    assert code == 1 and "Traceback" in err


def test_usage_errors_exit_2(png: Path) -> None:
    assert run("encode", png, "--bits", "9")[0] == 2
    assert run("frobnicate")[0] == 2
    assert run("decode")[0] == 2


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.ncz")))
def test_info_prints_the_spec_fields_of_golden_files(name: str) -> None:
    expected = json.loads((DATA / f"{name}.json").read_text())["fields"]
    code, out, _ = run("info", DATA / f"{name}.ncz", "--json")
    assert code == 0 and json.loads(out) == expected
    code, out, _ = run("info", DATA / f"{name}.ncz")
    lines = out.decode().splitlines()
    assert [line.split()[0] for line in lines] == list(expected)
    assert [line.split(None, 1)[1] for line in lines] == [str(v) for v in expected.values()]


def test_console_script_and_python_m(png: Path) -> None:
    help_text = subprocess.run([sys.executable, "-m", "ncodec", "--help"], capture_output=True, text=True, check=True).stdout
    assert "encode" in help_text and "decode" in help_text and "info" in help_text
    script = Path(sys.executable).parent / "ncodec"
    out = subprocess.run([str(script), "info", str(DATA / "image_rgb64.ncz")], capture_output=True, text=True, check=True).stdout
    assert "faces64-z100" in out


def test_batch_encode_goes_on_past_a_bad_file_and_names_it(tmp_path: Path, png: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    second = tmp_path / "second.png"
    second.write_bytes(png.read_bytes())
    out = tmp_path / "out"
    code, _, err = run("encode", png, bad, second, "-o", f"{out}/", "-m", "tiny-rgb", "-e", "0", "-q")
    assert code == 1
    assert "broken.png" in err and "1 of 3 files failed" in err
    assert files(out) == {"photo.ncz", "second.ncz"}
    code, _, err = run("decode", out / "photo.ncz", out / "second.ncz", "-o", tmp_path / "png", "-q")
    assert code == 0, err
    assert files(tmp_path / "png") == {"photo.png", "second.png"}


def test_stdin_cannot_be_mixed_with_files(png: Path) -> None:
    assert run("encode", "-", png)[0] == 2


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_interrupt_leaves_no_partial_output_and_no_temp_file(tmp_path: Path, manifold_root: Path, png: Path, signame: str) -> None:
    import os
    import signal

    before = hashlib.sha256(png.read_bytes()).hexdigest()
    sources = []
    for i in range(40):
        sources.append(tmp_path / f"in{i:02d}.png")
        sources[-1].symlink_to(png)
    out = tmp_path / "out"
    env = os.environ | {"NCODEC_MANIFOLD_PATH": str(manifold_root)}
    args = [sys.executable, "-m", "ncodec", "encode", *map(str, sources), "-o", f"{out}/", "-m", "tiny-rgb", "-e", "3"]
    # A runner started in the background (bash without job control) ignores SIGINT, and children inherit that:
    # restore the default so the child behaves as a command run from a terminal.
    restore = (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if signame == "SIGINT" else None
    proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=restore)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first file is done: the run is surely mid-way now
    assert "in00.ncz" in first
    proc.send_signal(getattr(signal, signame))
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, err
    assert "interrupted" in err
    written = sorted(out.iterdir())
    assert not [p for p in written if p.name.endswith(".tmp")]
    assert 1 <= len(written) < 40
    assert all(read_ncz(p.read_bytes()).header.manifold_id == "tiny-rgb" for p in written)
    assert hashlib.sha256(png.read_bytes()).hexdigest() == before


def _png_claiming(width: int, height: int) -> bytes:
    """A small valid PNG whose header claims another size (IHDR CRC fixed up)."""
    import struct
    import zlib

    buf = io.BytesIO()
    Image.new("L", (4, 4)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize(("width", "height"), [(20000, 10), (9000, 9000), (30000, 30000)])
def test_huge_images_are_refused_before_decoding(tmp_path: Path, width: int, height: int) -> None:
    src = tmp_path / "huge.png"
    src.write_bytes(_png_claiming(width, height))
    code, _, err = run("encode", src, "-m", "tiny-rgb")
    assert code == exitcodes.LIMIT_EXCEEDED and err.count("\n") == 1
    assert "outside the limits" in err or "decompression bomb" in err
    assert files(tmp_path) == {"huge.png"}


def test_animated_gif_encodes_its_first_frame(tmp_path: Path, photo: np.ndarray) -> None:
    frames = [Image.fromarray(photo), Image.fromarray(255 - photo)]
    src = tmp_path / "anim.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=100)
    code, _, err = run("encode", src, "-m", "tiny-rgb", "-e", "0")
    assert code == 0, err
    assert f"{src} has 2 frames: its first is coded (--video codes them all)" in err
    import ncodec

    with Image.open(src) as first_frame:
        expected = ncodec.compress(first_frame, manifold="tiny-rgb", effort=0)
    assert (tmp_path / "anim.ncz").read_bytes() == expected
    assert ncodec.decompress(expected).shape == (24, 40, 3)


def test_outputs_get_ordinary_permissions(png: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        assert run("encode", png, "-m", "tiny-rgb", "-e", "0", "-q")[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(png.with_suffix(".ncz").stat().st_mode) == 0o644


def test_readme_documents_every_exit_status() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    codes = {v for k, v in vars(exitcodes).items() if k.isupper()}
    documented = {int(line.split("|")[1]) for line in readme.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()}
    assert documented == codes


def test_batch_exit_status_is_the_first_failures(tmp_path: Path, png: Path) -> None:
    missing = tmp_path / "elsewhere.ncz"
    parsed = read_ncz(run("encode", png, "-o", "-", "-m", "tiny-rgb", "-e", "0", "-q")[1])
    missing.write_bytes(write_ncz(dataclasses.replace(parsed.header, manifold_id="nowhere-z100"), parsed.indices))
    corrupt = tmp_path / "corrupt.ncz"
    corrupt.write_bytes(b"NCZ")
    assert run("decode", missing, corrupt, "-o", f"{tmp_path}/out/", "-q")[0] == exitcodes.MANIFOLD_UNAVAILABLE
    assert run("decode", corrupt, missing, "-o", f"{tmp_path}/out/", "-q")[0] == exitcodes.BAD_INPUT


def test_inputs_with_one_name_cannot_overwrite_each_other_even_with_force(tmp_path: Path, png: Path, photo: np.ndarray) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.fromarray(photo).save(tmp_path / "a" / "x.png")
    Image.fromarray(photo[::-1]).save(tmp_path / "b" / "x.png")
    out = tmp_path / "same"
    code, _, err = run("encode", tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", "-o", f"{out}/", "-f", "-m", "tiny-rgb", "-e", "0")
    assert code == exitcodes.BAD_INPUT and "also the output of" in err and str(tmp_path / "a" / "x.png") in err
    assert files(out) == {"x.ncz"}
    first = run("encode", tmp_path / "a" / "x.png", "-o", "-", "-m", "tiny-rgb", "-e", "0", "-q")[1]
    assert (out / "x.ncz").read_bytes() == first  # the first input's file, not overwritten by the second


@pytest.mark.parametrize(("mode", "pixels", "decoded_mode"), [("RGBA", (24, 40, 4), "RGB"), ("I;16", (24, 40), "L")])
def test_decoding_to_jpeg_drops_alpha_and_16_bits(tmp_path: Path, mode: str, pixels: tuple[int, ...], decoded_mode: str) -> None:
    rng = np.random.default_rng(0)
    array = rng.integers(0, 65536 if mode == "I;16" else 256, pixels).astype(np.uint16 if mode == "I;16" else np.uint8)
    src = tmp_path / "in.png"
    Image.fromarray(array).save(src)
    assert run("encode", src, "-m", "tiny-rgb", "-e", "0", "-q")[0] == 0
    code, _, err = run("decode", tmp_path / "in.ncz", "-o", tmp_path / "out.jpg")
    assert code == 0, err
    with Image.open(tmp_path / "out.jpg") as jpeg:
        assert (jpeg.format, jpeg.mode, jpeg.size) == ("JPEG", decoded_mode, (40, 24))


def test_a_failed_run_leaves_no_new_folder_and_names_a_missing_one(tmp_path: Path, png: Path) -> None:
    code, _, err = run("encode", tmp_path / "missing.png", "-o", f"{tmp_path}/new/", "-m", "tiny-rgb")
    assert code == exitcodes.BAD_INPUT and not (tmp_path / "new").exists()
    code, _, err = run("encode", png, "-o", tmp_path / "nowhere" / "x.ncz", "-m", "tiny-rgb", "-e", "0")
    assert code == exitcodes.BAD_INPUT and f"output folder {tmp_path / 'nowhere'} does not exist" in err and ".tmp" not in err


def test_os_errors_read_file_then_reason_and_name_the_output_not_its_temp_file(
    tmp_path: Path, png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    code, _, err = run("decode", tmp_path / "missing.ncz", "-o", tmp_path / "x.png")
    assert code == exitcodes.BAD_INPUT and err == f"ncodec: error: {tmp_path / 'missing.ncz'}: No such file or directory\n"

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    code, _, err = run("encode", png, "-o", tmp_path / "x.ncz", "-m", "tiny-rgb", "-e", "0")
    assert code == exitcodes.BAD_INPUT and err == f"ncodec: error: {tmp_path / 'x.ncz'}: cannot write: No space left on device\n"
    assert files(tmp_path) == {"photo.png"}  # nor is the temp file left behind


def test_a_file_where_an_output_folder_is_wanted_is_a_usage_error(tmp_path: Path, png: Path) -> None:
    (tmp_path / "out").write_bytes(b"")
    code, _, err = run("encode", png, png.with_name("photo.png"), "-o", tmp_path / "out", "-m", "tiny-rgb", "-e", "0")
    assert code == exitcodes.USAGE and f"-o {tmp_path / 'out'}: several inputs need a folder, and this is a file" in err
    code, _, err = run("encode", png, "-o", f"{tmp_path / 'out'}/", "-m", "tiny-rgb", "-e", "0")
    assert code == exitcodes.USAGE and "a name ending in / is a folder, and this is a file" in err
    assert files(tmp_path) == {"photo.png", "out"} and (tmp_path / "out").read_bytes() == b""


@pytest.mark.parametrize("fps", ["1e9", "1e-9", "nan"])
def test_frame_rates_the_format_cannot_carry_are_usage_errors(tmp_path: Path, fps: str) -> None:
    clip = tmp_path / "clip.npy"
    np.save(clip, np.zeros((3, 8, 8, 3), np.uint8))
    code, _, err = run("encode", clip, "--fps", fps, "-m", "tiny-rgb", "-e", "0")
    assert code == exitcodes.USAGE and "--fps" in err and "Traceback" not in err
    assert files(tmp_path) == {"clip.npy"}


def test_unreadable_image_errors_name_the_file_once(tmp_path: Path, png: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    code, _, err = run("encode", tmp_path / "empty.png", png, "-o", f"{tmp_path}/out/", "-m", "tiny-rgb", "-e", "0")
    line = next(line for line in err.splitlines() if "empty.png" in line and "not a readable image" in line)
    assert code == exitcodes.BAD_INPUT and line.count("empty.png") == 1 and "object at" not in line


def test_a_closed_stdout_stops_quietly(png: Path, manifold_root: Path) -> None:
    import os

    env = os.environ | {"NCODEC_MANIFOLD_PATH": str(manifold_root)}
    args = [sys.executable, "-m", "ncodec", "encode", str(png), "-o", "-", "-m", "tiny-rgb", "-e", "0"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before anything is written (`| head -c 0`)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == exitcodes.BROKEN_PIPE and "error" not in err, err


def test_binary_output_is_refused_on_a_terminal(png: Path, manifold_root: Path) -> None:
    import os
    import pty

    env = os.environ | {"NCODEC_MANIFOLD_PATH": str(manifold_root)}
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "ncodec", "encode", str(png), "-o", "-", "-m", "tiny-rgb"], env=env,
                              stdout=follower, stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == exitcodes.USAGE and "refusing to write binary data to a terminal" in done.stderr


def test_a_folder_without_frames_says_so_and_fps_on_an_image_is_flagged(tmp_path: Path, png: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run("encode", tmp_path / "empty", "-o", tmp_path / "x.ncz", "-m", "tiny-rgb", "-e", "0")
    assert code == exitcodes.BAD_INPUT and "no image frames in this folder" in err
    code, _, err = run("encode", png, "--fps", "30", "-m", "tiny-rgb", "-e", "0", "-q")
    assert code == 0 and "--fps applies to clips only" in err and "its first is coded" not in err
    assert "--interpolation" not in run("decode", png.with_suffix(".ncz"), "-o", tmp_path / "a.png", "-q")[2]
    code, _, err = run("decode", png.with_suffix(".ncz"), "-o", tmp_path / "b.png", "--interpolation", "slerp", "-q")
    assert code == 0 and "--interpolation applies to clips only" in err


def test_several_images_are_coded_as_one_batch_and_a_failure_still_names_its_file(
    tmp_path: Path, photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ncodec
    import ncodec.codec

    sources = []
    for i in range(3):
        sources.append(tmp_path / f"in{i}.png")
        Image.fromarray(np.roll(photo, 7 * i, axis=1)).save(sources[-1])
    batches = []
    real_batch = ncodec.codec.compress_batch
    monkeypatch.setattr(ncodec.codec, "compress_batch", lambda images, **kw: batches.append(len(images)) or real_batch(images, **kw))
    pixels = [np.asarray(Image.open(s)) for s in sources]
    assert run("encode", *sources, "-o", f"{tmp_path}/ok/", "-m", "tiny-rgb", "-e", "1")[0] == 0
    assert batches == [3]
    assert [(tmp_path / "ok" / f"in{i}.ncz").read_bytes() for i in range(3)] == real_batch(pixels, manifold="tiny-rgb", effort=1)
    out = tmp_path / "out"
    (out / "in1.ncz").mkdir(parents=True)  # an empty folder may be replaced, but not by a file: in1 fails when written
    code, _, err = run("encode", *sources, "-o", f"{out}/", "-m", "tiny-rgb", "-e", "1")
    assert code == exitcodes.BAD_INPUT and "in1.png" in err and "1 of 3 files failed" in err
    assert batches == [3, 3, 1, 1, 1]  # that batch failed on in1, so each again alone
    assert (out / "in0.ncz").read_bytes() == ncodec.compress(pixels[0], manifold="tiny-rgb", effort=1)
    assert (out / "in2.ncz").is_file() and (out / "in1.ncz").is_dir()


def test_large_images_go_through_in_smaller_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ncodec.cli
    import ncodec.codec

    monkeypatch.setattr(ncodec.cli, "ENCODE_BATCH_PIXELS", 3 * 40 * 24)  # three photo-sized images per batch
    batches = []
    real_batch = ncodec.codec.compress_batch
    monkeypatch.setattr(ncodec.codec, "compress_batch", lambda images, **kw: batches.append(len(images)) or real_batch(images, **kw))
    sources = []
    for i in range(7):
        sources.append(tmp_path / f"in{i}.png")
        Image.new("RGB", (40, 24), (30 * i, 90, 60)).save(sources[-1])
    assert run("encode", *sources, "-o", f"{tmp_path}/out/", "-m", "tiny-rgb", "-e", "0")[0] == 0
    assert batches == [3, 3, 1] and len(files(tmp_path / "out")) == 7
