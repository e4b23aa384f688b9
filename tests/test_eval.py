"""`ncodec eval ...`: each report on a toy set with the tiny manifold."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ncodec.cli import main


def _toy_set(path: Path) -> np.ndarray:
    y, x = np.mgrid[0:24, 0:24]
    images = np.stack([np.stack([x * 10 + k, y * 9, (x + y) * 5 - k], axis=2) for k in range(5)]).astype(np.uint8)
    np.savez(path, images=images)
    return images


def test_rd_report(tmp_path: Path) -> None:
    _toy_set(tmp_path / "toy.npz")
    out = tmp_path / "report"
    args = ["eval", "rd", "--data", tmp_path / "toy.npz", "-n", "4", "-m", "tiny-rgb", "--bits", "2", "--bits", "4", "-e", "0"]
    result = CliRunner().invoke(main, [str(a) for a in [*args, "--codecs", "JPEG", "--codecs", "JPEG2000", "-o", out]])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    assert report["images"] == 4
    rows = report["rows"]
    ours = [r for r in rows if r["codec"] == "ncodec tiny-rgb"]
    assert [r["payload_bpp"] for r in ours] == [12 * 2 / 576, 12 * 4 / 576]  # M * b bits over 24x24 pixels
    jpeg = [r for r in rows if r["codec"] == "JPEG"]
    assert len(jpeg) == 5 and all(r["payload_bpp"] < r["file_bpp"] for r in jpeg)  # headerless < whole file
    assert [r["file_bpp"] for r in jpeg] == sorted(r["file_bpp"] for r in jpeg)  # swept from the lowest rate up
    assert jpeg[-1]["psnr"] > jpeg[0]["psnr"]
    j2k = [r for r in rows if r["codec"] == "JPEG2000"]
    assert all(r["payload_bpp"] == r["file_bpp"] for r in j2k)  # a raw codestream is all payload
    assert "| ncodec tiny-rgb | NCode(12,2) effort 0 |" in (out / "results.md").read_text()
    progress = [line.split(None, 2)[2] for line in result.stderr.splitlines() if line.split()[1:2] == ["s"]]
    assert [line.rsplit(":", 1)[0] for line in progress] == [  # one line per point, as each is done
        "ncodec tiny-rgb NCode(12,2) effort 0", "ncodec tiny-rgb NCode(12,4) effort 0",
        *(f"JPEG quality={q}" for q in (1, 5, 10, 20, 40)), *(f"JPEG2000 rate 1:{r}" for r in (100, 50, 30, 15))]  # fmt: skip
    with Image.open(out / "rd.png") as plot, Image.open(out / "grid.png") as grid:
        assert plot.format == grid.format == "PNG"
        assert grid.size == (190 + 6 * 48, 48 * 5)  # originals, NCode at b = 2 and 4, JPEG and JPEG 2000; 24 px at 2x


def test_grid_rows_are_ncode_at_each_b_and_each_classical_codec_at_its_lowest_rate() -> None:
    from ncodec.eval.rd import Point, grid_rows

    def ours(b: int, effort: int) -> Point:
        return Point("ncodec m", f"b{b} e{effort}", b / 10, b / 10 + 0.06, 20.0, 0.5, bits=b, effort=effort)

    j2k = [Point("JPEG2000", f"rate 1:{r}", bpp, bpp, 14.0, 0.2) for r, bpp in ((100, 1.4), (50, 1.4), (15, 1.7))]
    rows = grid_rows([ours(2, 0), ours(2, 1), ours(4, 0), ours(4, 1), *j2k])
    assert [p.setting for p in rows] == ["b2 e1", "b4 e1", "rate 1:100"]  # ties at the floor: the first setting


def test_rd_reads_a_jpeg_offsets_set_and_codec_names_in_any_case(tmp_path: Path) -> None:
    import io

    blobs = []
    for image in _toy_set(tmp_path / "toy.npz"):
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=95)
        blobs.append(buf.getvalue())
    offsets = np.cumsum([0] + [len(b) for b in blobs])
    np.savez(tmp_path / "faces.npz", jpeg=np.frombuffer(b"".join(blobs), np.uint8), offsets=offsets)
    out = tmp_path / "report"
    args = ["eval", "rd", "--data", tmp_path / "faces.npz", "-n", "3", "-m", "tiny-rgb", "--bits", "2", "-e", "0", "--codecs", "webp"]
    result = CliRunner().invoke(main, [str(a) for a in [*args, "-o", out]])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    assert report["images"] == 3
    assert {r["codec"] for r in report["rows"]} == {"ncodec tiny-rgb", "WEBP"}


def test_rd_refuses_a_set_without_images(tmp_path: Path) -> None:
    np.savez(tmp_path / "labels.npz", labels=np.arange(4))
    result = CliRunner().invoke(main, ["eval", "rd", "--data", str(tmp_path / "labels.npz"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "expected an 'images' array, or 'jpeg' + 'offsets'" in result.output


def test_classifier_learns_a_toy_task_and_classify_reports_each_codec(tmp_path: Path) -> None:
    from ncodec.eval.classifier import load_classifier, predict

    rng = np.random.default_rng(0)
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255],
                        [255, 255, 255], [128, 128, 128], [255, 128, 0]])  # fmt: skip
    labels = np.repeat(np.arange(10), 20).astype(np.uint8)
    images = np.clip(palette[labels][:, None, None, :] + rng.normal(0, 12, (200, 32, 32, 3)), 0, 255).astype(np.uint8)
    np.savez(tmp_path / "train.npz", images=images, labels=labels)
    np.savez(tmp_path / "test.npz", images=images[::4], labels=labels[::4])
    weights = tmp_path / "clf.safetensors"
    runner = CliRunner()
    data = ["--data", str(tmp_path / "train.npz"), "--test", str(tmp_path / "test.npz")]
    options = ["--epochs", "20", "--width", "16", "--batch-size", "32", "--device", "cpu", "-o", str(weights)]
    trained = runner.invoke(main, ["eval", "train-classifier", *data, *options])
    assert trained.exit_code == 0, trained.output
    net = load_classifier(weights)
    assert np.mean(predict(net, images[::4]) == labels[::4]) == 1.0  # solid colours: a trained net gets them all
    out = tmp_path / "classify"
    result = runner.invoke(main, ["eval", "classify", "--weights", str(weights), "--data", str(tmp_path / "test.npz"),
                                  "-m", "tiny-rgb", "--bits", "2", "-e", "0", "--codecs", "JPEG", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert rows[0] == {"codec": "uncompressed", "setting": "-", "file_bpp": 24.0, "eta": 1.0, "accuracy": 1.0}
    assert [r["codec"] for r in rows[1:]] == ["ncodec tiny-rgb"] + ["JPEG"] * 5
    assert all(r["eta"] == 24.0 / r["file_bpp"] and 0.0 <= r["accuracy"] <= 1.0 for r in rows)


def test_bit_errors_report_counts_refused_files_and_is_reproducible(tmp_path: Path) -> None:
    _toy_set(tmp_path / "toy.npz")
    args = ["eval", "bit-errors", "--data", tmp_path / "toy.npz", "-n", "3", "-m", "tiny-rgb", "--trials", "2", "--rate", "0.5"]
    reports = []
    for run in ("a", "b"):
        result = CliRunner().invoke(main, [str(a) for a in [*args, "-o", tmp_path / run]])
        assert result.exit_code == 0, result.output
        reports.append(json.loads((tmp_path / run / "results.json").read_text()))
    assert reports[0]["rows"] == reports[1]["rows"]  # the seed fixes every flipped bit
    rows = {(r["codec"], r["ber"]): r for r in reports[0]["rows"]}
    assert len(rows) == 5 * 2  # five codecs at BER 0 and 0.5
    for codec in ("ncodec, payload bits only", "ncodec, whole file", "ncodec --robust, whole file", "JPEG q=50, whole file"):
        assert rows[codec, 0.0]["decoded"] == 1.0
    assert rows["ncodec, payload bits only", 0.5]["decoded"] == 1.0  # flipped payload bits still decode: a fixed-width latent
    assert rows["ncodec, whole file", 0.5]["decoded"] == 0.0  # half the header's bits flipped: refused by its CRC
    assert rows["JPEG q=50, whole file", 0.5]["decoded"] == 0.0
    progress = [line.split(None, 2)[2] for line in result.stderr.splitlines() if line.split()[1:2] == ["s"]]
    assert progress[:2] == ["ncodec, payload bits only at BER 0: 100.0% decoded", "ncodec, payload bits only at BER 0.5: 100.0% decoded"]
    assert len(progress) == 10  # a line per row, as each is measured
    with Image.open(tmp_path / "a" / "bit-errors.png") as plot:
        assert plot.format == "PNG"


def test_degrade_strip_has_a_row_per_codec_and_falls_in_rate(tmp_path: Path) -> None:
    _toy_set(tmp_path / "toy.npz")
    args = ["eval", "degrade", "--data", tmp_path / "toy.npz", "--index", "2", "-m", "tiny-rgb", "--bits", "4", "--bits", "1", "-e", "0"]
    result = CliRunner().invoke(main, [str(a) for a in [*args, "--codecs", "WEBP", "-o", tmp_path / "out"]])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["rows"]
    assert [r["payload_bpp"] for r in rows[:2]] == [12 * 4 / 576, 12 * 1 / 576]
    assert [r["codec"] for r in rows[2:]] == ["WEBP"] * 4
    with Image.open(tmp_path / "out" / "strip.png") as strip:
        assert strip.size == (5 * 48, 2 * (48 + 26))  # original + up to 4 settings, two rows, each panel 2x
    bad = CliRunner().invoke(main, [str(a) for a in [*args, "--index", "9", "-o", tmp_path / "bad"]])
    assert bad.exit_code == 2 and "has 5 images" in bad.output


def test_samples_draws_a_row_of_prior_decodes_per_manifold(tmp_path: Path) -> None:
    from ncodec.decoding import decode_z
    from ncodec.manifolds import open_manifold

    out = tmp_path / "samples.png"
    result = CliRunner().invoke(main, ["eval", "samples", "-m", "tiny-rgb", "-m", "tiny-gray", "-n", "3", "--seed", "7", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with Image.open(out) as picture:
        grid = np.asarray(picture.convert("RGB"))
    assert grid.shape == (2 * 32, 120 + 3 * 32, 3)  # two rows at twice the largest native size (16 px)
    first = decode_z(open_manifold("tiny-rgb"), np.random.default_rng(7).uniform(-1, 1, (3, 12)).astype(np.float32))
    assert np.array_equal(grid[0:32:2, 120 : 120 + 32 : 2], first[0])  # the first sample, enlarged by nearest neighbour


def _peer_args(tmp_path: Path) -> list[str]:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "toy64.npz", images=rng.integers(0, 256, (6, 64, 64, 3), dtype=np.uint8))
    return ["eval", "train-peer", "--data", str(tmp_path / "toy64.npz"), "--quality", "1", "--steps", "2", "--device", "cpu"]


def test_peer_without_compressai_is_a_one_line_error(tmp_path: Path) -> None:
    if importlib.util.find_spec("compressai") is not None:
        pytest.skip("compressai is installed")
    result = CliRunner().invoke(main, [*_peer_args(tmp_path), "-o", str(tmp_path / "peer.safetensors")])
    assert result.exit_code == 1
    assert "pip install 'ncodec[peer]'" in result.output and not (tmp_path / "peer.safetensors").exists()


def test_peer_trains_and_reports_its_real_compressed_size(tmp_path: Path) -> None:
    pytest.importorskip("compressai")
    weights = tmp_path / "peer.safetensors"
    result = CliRunner().invoke(main, [*_peer_args(tmp_path), "-o", str(weights)])
    assert result.exit_code == 0, result.output
    from ncodec.eval.peer import load_peer, peer_points

    assert load_peer(weights)[1]["steps"] == "2"
    images = np.load(tmp_path / "toy64.npz")["images"][:2, :40, :56]  # any size: padded to 64 for the network
    (point,) = peer_points(images, [weights])
    assert point.decoded is not None and point.decoded.shape == images.shape
    assert point.payload_bpp is not None and point.file_bpp == pytest.approx(point.payload_bpp + 16 / (40 * 56))
    assert point.payload_bpp * 40 * 56 % 8 == pytest.approx(0)  # whole bytes: the entropy coder's real strings


CIFAR_TEST = Path(__file__).parents[2] / "shared" / "data" / "cifar10" / "test.npz"
INSTRUMENT = Path(__file__).parents[1] / "benchmarks" / "weights" / "cifar10-resnet9.safetensors"


def test_committed_classifier_is_the_documented_instrument() -> None:
    from ncodec.eval.classifier import load_classifier, predict

    net = load_classifier(INSTRUMENT)
    assert net.width == 32 and sum(p.numel() for p in net.parameters()) == 1_646_122
    if not CIFAR_TEST.is_file():
        pytest.skip("accuracy needs the shared CIFAR-10 test split")
    with np.load(CIFAR_TEST) as npz:
        images, labels = npz["images"][:500], npz["labels"][:500]
    assert np.mean(predict(net, images) == labels) > 0.8  # 85.70% on all 3,000 (docs/results.md)


def test_rd_auto_rows_say_which_manifolds_were_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import re

    from conftest import TINY, make_manifold

    import ncodec
    from ncodec.eval.rd import ncode_points
    from ncodec.manifolds import PATH_ENV

    for seed, name in enumerate(("auto-a", "auto-b")):
        make_manifold(tmp_path, dataclasses.replace(TINY, id=name, trained=True), seed=seed)
    monkeypatch.setenv(PATH_ENV, str(tmp_path))
    rng = np.random.default_rng(0)
    images = np.stack([ncodec.decompress(ncodec.compress(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), manifold=m, effort=0))
                       for m in ("auto-a", "auto-b")])  # fmt: skip
    (point,) = ncode_points(images, "auto", [2], [0])
    counts = {name: int(n) for name, n in re.findall(r", (\S+) x (\d+)", point.setting)}
    assert sum(counts.values()) == len(images)
    blobs = ncodec.compress_batch(images, manifold="auto", effort=0)
    assert counts == {i: [ncodec.read_ncz(b).header.manifold_id for b in blobs].count(i) for i in counts}
