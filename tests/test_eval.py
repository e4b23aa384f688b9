"""`ncodec eval rd`: the rate-distortion report on a toy set with the tiny manifold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from ncodec.cli import main


def test_rd_report(tmp_path: Path) -> None:
    y, x = np.mgrid[0:24, 0:24]
    images = np.stack([np.stack([x * 10 + k, y * 9, (x + y) * 5 - k], axis=2) for k in range(5)]).astype(np.uint8)
    np.savez(tmp_path / "toy.npz", images=images)
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
    with Image.open(out / "rd.png") as plot, Image.open(out / "grid.png") as grid:
        assert plot.format == grid.format == "PNG"
        assert grid.size[1] == 24 * 4  # originals + one row per codec at its lowest rate


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
