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
