"""The NumPy generator computes what the torch one does, and small decodes never import torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, TINY_GRAY

import ncodec
from ncodec.decoding import NUMPY_BELOW
from ncodec.errors import ManifoldError
from ncodec.latent import generate
from ncodec.manifold_config import ManifoldConfig
from ncodec.manifolds import open_manifold, save_manifold
from ncodec.models import build
from ncodec.numpy_decoder import load


@pytest.mark.parametrize("manifold_id", ["faces64-z100", "cifar32-z100", TINY.id, TINY_GRAY.id])
def test_numpy_generator_decodes_the_pixels_torch_does(manifold_id: str) -> None:
    m = open_manifold(manifold_id)
    z = np.random.default_rng(3).uniform(-1, 1, (64, m.config.latent_dim)).astype(np.float32)
    got, expected = m.numpy_decoder()(z), generate(m, z)
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


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_small_decodes_do_not_import_torch_and_batches_do(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    blobs = ncodec.compress_batch(list(rng.integers(0, 256, (NUMPY_BELOW, 16, 16, 3), dtype=np.uint8)), manifold=TINY.id, effort=0)
    expected = ncodec.decompress_batch(blobs[:2])
    for i, blob in enumerate(blobs):
        (tmp_path / f"{i:02}.ncz").write_bytes(blob)
    load_files = (
        "import sys, pathlib, numpy as np, ncodec\n"
        f"blobs = [p.read_bytes() for p in sorted(pathlib.Path({str(tmp_path)!r}).glob('*.ncz'))]\n"
    )
    small = _run(
        load_files + "print(ncodec.decompress(blobs[0]).tobytes().hex())\n"
        "ncodec.decompress_batch(blobs[:-1]); print('torch' in sys.modules)\n"
        "from ncodec.decoding import decode_z; from ncodec.manifolds import open_manifold\n"
        f"decode_z(open_manifold({TINY.id!r}), np.zeros((2, 12), np.float32), total=len(blobs)); print('torch' in sys.modules)"
    ).split("\n")
    assert small[0] == expected[0].tobytes().hex()  # the same image as the parent's decode of two files
    assert small[1:] == ["False", "True"]  # NUMPY_BELOW - 1 files without torch; a chunk of a larger job (a clip) with it
    assert _run(load_files + "ncodec.decompress_batch(blobs); print('torch' in sys.modules)") == "True"
