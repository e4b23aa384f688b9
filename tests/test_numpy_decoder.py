"""The NumPy generator computes what the torch one does, and decodes while torch is not imported."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, TINY_GRAY

import ncodec
from ncodec.decoding import numpy_decode
from ncodec.errors import ManifoldError
from ncodec.format import read_ncz
from ncodec.latent import generate
from ncodec.manifold_config import ManifoldConfig
from ncodec.manifolds import PATH_ENV, Manifold, open_manifold, save_manifold
from ncodec.models import build
from ncodec.numpy_decoder import load
from ncodec.quantize import dequantize


@pytest.mark.parametrize("manifold_id", ["faces64-z100", "cifar32-z100", TINY.id, TINY_GRAY.id])
def test_numpy_generator_decodes_the_pixels_torch_does(manifold_id: str) -> None:
    m = open_manifold(manifold_id)
    z = np.random.default_rng(3).uniform(-1, 1, (64, m.config.latent_dim)).astype(np.float32)
    got, expected = numpy_decode(m, z), generate(m, z)
    assert got.shape == expected.shape == (64, m.config.image_size, m.config.image_size, m.config.channels)
    assert got.dtype == np.uint8
    differ = got != expected
    # float rounding only: a sample on a rounding boundary may land one level away (as between torch's batch sizes)
    assert np.abs(got.astype(int) - expected).max() <= 1
    assert differ.mean() < 1e-3, f"{differ.sum()} of {differ.size} samples differ"


def test_weights_of_another_shape_are_refused_by_name(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(0)
    folder = tmp_path / "wide"
    save_manifold(folder, TINY, build(TINY, "decoder").eval(), build(TINY, "encoder").eval())
    wider = ManifoldConfig(id="wide", image_size=16, channels=3, latent_dim=12, width=16)
    with pytest.raises(ManifoldError, match=r"project.0.weight has shape \(256, 12\), expected \(512, 12\)") as info:
        load(folder / "decoder.safetensors", wider)
    assert "do not match the architecture of 'wide'" in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update({"project.0.bias": np.zeros(256, np.float32)}), "unexpected project.0.bias"),
        (lambda s: s.update({"body.1.weight": s["body.1.weight"][:1]}), r"body.1.weight has shape \(1,\), expected \(8,\)"),
        (lambda s: s.pop("body.1.running_var"), "body.1.running_var"),
    ],
)
def test_weights_torch_would_refuse_are_refused(tmp_path: Path, change: Callable[[dict[str, np.ndarray]], object], message: str) -> None:
    from safetensors.numpy import load_file, save_file

    state = load_file(str(open_manifold(TINY.id).path("decoder")))
    change(state)
    save_file(state, str(tmp_path / "decoder.safetensors"))
    with pytest.raises(ManifoldError, match=message):
        load(tmp_path / "decoder.safetensors", TINY)


def test_bf16_weights_numpy_cannot_hold_decode_through_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    from ncodec.numpy_decoder import NumpyUnsupportedError

    source, folder = open_manifold(TINY.id).folder, tmp_path / "bf16" / "tiny-bf16"
    folder.mkdir(parents=True)
    state = load_file(str(source / "decoder.safetensors"))
    save_file({k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in state.items()}, str(folder / "decoder.safetensors"))
    (folder / "encoder.safetensors").write_bytes((source / "encoder.safetensors").read_bytes())
    (folder / "manifold.json").write_text((source / "manifold.json").read_text().replace(TINY.id, "tiny-bf16"))
    with pytest.raises(NumpyUnsupportedError, match="bfloat16"):
        load(folder / "decoder.safetensors", TINY)
    monkeypatch.setenv(PATH_ENV, f"{folder.parent}{os.pathsep}{os.environ[PATH_ENV]}")
    file = tmp_path / "x.ncz"
    file.write_bytes(ncodec.compress(np.zeros((16, 16, 3), np.uint8), manifold="tiny-bf16", effort=0))
    code = f"import sys, ncodec; print(ncodec.decompress(open({str(file)!r}, 'rb').read()).shape, 'torch' in sys.modules)"
    assert _run(code) == "(16, 16, 3) True"  # decoded, by torch


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_without_torch_imported_small_jobs_decode_with_numpy(tmp_path: Path) -> None:
    blobs = ncodec.compress_batch(
        list(np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)), manifold=TINY.id, effort=0
    )
    expected = numpy_decode(open_manifold(TINY.id), dequantize(read_ncz(blobs[0]).indices, 5))[0]
    for i, blob in enumerate(blobs):
        (tmp_path / f"{i}.ncz").write_bytes(blob)
    start = (
        "import sys, pathlib, numpy as np, ncodec, ncodec.decoding\n"
        "ncodec.decoding.NUMPY_BELOW = 3\n"
        f"blobs = [p.read_bytes() for p in sorted(pathlib.Path({str(tmp_path)!r}).glob('*.ncz'))]\n"
    )
    small = _run(
        start + "print(ncodec.decompress(blobs[0]).tobytes().hex())\n"
        "ncodec.decompress_batch(blobs[:2]); print('torch' in sys.modules)\n"
        "from ncodec.manifolds import open_manifold\n"
        f"ncodec.decoding.decode_z(open_manifold({TINY.id!r}), np.zeros((2, 12), np.float32), total=3); print('torch' in sys.modules)"
    ).split("\n")
    assert small[0] == expected.tobytes().hex()
    assert small[1:] == ["False", "True"]  # 2 files without torch; a 2-frame chunk of a 3-frame job (a clip) with it
    assert _run(start + "ncodec.decompress_batch(blobs); print('torch' in sys.modules)") == "True"  # 3 files: NUMPY_BELOW


def test_once_torch_is_imported_torch_decodes_even_one_image(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = ncodec.compress(np.zeros((16, 16, 3), np.uint8), manifold=TINY.id, effort=0)

    def refuse(self: Manifold) -> None:
        raise AssertionError("the NumPy decoder ran in a process with torch")

    monkeypatch.setattr(Manifold, "numpy_decoder", refuse)
    assert ncodec.decompress(blob).shape == (16, 16, 3)


def test_a_fresh_process_decodes_gray_images_and_clips_as_torch_does(tmp_path: Path, photo: np.ndarray) -> None:
    gray = ncodec.compress(photo[..., 0], manifold=TINY_GRAY.id, effort=0)
    clip = ncodec.compress_video(np.stack([photo, photo[::-1], photo[:, ::-1]] * 3), manifold=TINY.id, keyframe_interval=4, effort=0)
    (tmp_path / "gray.ncz").write_bytes(gray)
    (tmp_path / "clip.ncz").write_bytes(clip)
    code = (
        "import sys, pathlib, numpy as np, ncodec\n"
        f"d = pathlib.Path({str(tmp_path)!r})\n"
        "np.save(d / 'gray.npy', ncodec.decompress((d / 'gray.ncz').read_bytes()))\n"
        "np.save(d / 'clip.npy', ncodec.decompress_video((d / 'clip.ncz').read_bytes(), interpolation='slerp'))\n"
        "print('torch' in sys.modules)"
    )
    assert _run(code) == "False"
    for fresh, with_torch in ((np.load(tmp_path / "gray.npy"), ncodec.decompress(gray)),
                              (np.load(tmp_path / "clip.npy"), ncodec.decompress_video(clip, interpolation="slerp"))):  # fmt: skip
        assert fresh.shape == with_torch.shape and fresh.dtype == with_torch.dtype
        assert np.abs(fresh.astype(int) - with_torch).max() <= 1
