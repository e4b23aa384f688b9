"""--device / device=: names checked before torch loads, GPUs refused clearly where there are none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import TINY

import ncodec
from ncodec import exitcodes
from ncodec.cli import main
from ncodec.device import check_device, torch_device

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")


@pytest.mark.parametrize("name", ["cpu", "auto", "cuda", "cuda:0", "cuda:12"])
def test_device_names_ncodec_takes(name: str) -> None:
    assert check_device(name) == name


@pytest.mark.parametrize("name", ["gpu", "CPU", "cuda:", "cuda:x", "mps", "", "cpu\n", " cuda", 0])
def test_other_device_names_are_value_errors(name: object) -> None:
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda', 'cuda:N' or 'auto'"):
        check_device(name)  # type: ignore[arg-type]


def test_a_bad_device_fails_a_decode_before_torch_is_imported() -> None:
    code = (
        "import sys, ncodec\ntry: ncodec.decompress_batch([], device='gpu')\nexcept ValueError as exc: print(exc, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got 'gpu' False"


@no_cuda
def test_without_a_gpu_auto_is_the_cpu_and_cuda_is_refused(photo: np.ndarray) -> None:
    assert torch_device("auto") == torch.device("cpu")
    for name in ("cuda", "cuda:1"):
        with pytest.raises(ValueError, match=rf"device '{name}': this torch \(.*\) sees no CUDA device"):
            torch_device(name)
    blob = ncodec.compress(photo, manifold=TINY.id, effort=1)
    assert ncodec.compress(photo, manifold=TINY.id, effort=1, device="auto") == blob
    assert np.array_equal(ncodec.decompress(blob, device="auto"), ncodec.decompress(blob))
    with pytest.raises(ValueError, match="sees no CUDA device"):
        ncodec.decompress(blob, device="cuda")
    with pytest.raises(ValueError, match="sees no CUDA device"):
        ncodec.compress(photo, manifold=TINY.id, device="cuda")


def test_every_name_of_one_gpu_is_one_device(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in two-GPU machine whose current device is 1: "cuda", "cuda:1" and "auto" must give
    # the same torch device (networks are cached per device string), "cuda:2" does not exist.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert {str(torch_device(name)) for name in ("cuda", "cuda:1", "auto")} == {"cuda:1"}
    assert str(torch_device("cuda:0")) == "cuda:0"
    with pytest.raises(ValueError, match=r"device 'cuda:2': this machine has 2 CUDA device\(s\)"):
        torch_device("cuda:2")


def test_networks_are_cached_per_device() -> None:
    from ncodec.manifolds import open_manifold

    m = open_manifold(TINY.id)
    assert m.decoder("cpu") is m.decoder() and next(m.decoder().parameters()).device == torch.device("cpu")


@no_cuda
@pytest.mark.parametrize(("name", "message"), [("cuda", "sees no CUDA device"), ("gpu", "device must be")])
def test_cli_device_errors_are_usage_errors(tmp_path: Path, photo: np.ndarray, name: str, message: str) -> None:
    src = tmp_path / "x.ncz"
    src.write_bytes(ncodec.compress(photo, manifold=TINY.id, effort=0))
    for args in (["decode", str(src), "-o", str(tmp_path / "x.png")], ["encode", str(src.with_suffix(".png")), "-m", TINY.id]):
        result = CliRunner().invoke(main, [*args, "--device", name])
        assert result.exit_code == exitcodes.USAGE and message in result.output, result.output
    assert not (tmp_path / "x.png").exists()
