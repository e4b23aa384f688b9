"""Shared fixtures: tiny randomly initialised manifolds, so no trained weights are needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ncodec.manifold_config import ManifoldConfig
from ncodec.manifolds import PATH_ENV, save_manifold
from ncodec.models import build

DATA = Path(__file__).parent / "data"
TINY = ManifoldConfig(id="tiny-rgb", image_size=16, channels=3, latent_dim=12, width=8, trained=False)
TINY_GRAY = ManifoldConfig(id="tiny-gray", image_size=8, channels=1, latent_dim=6, width=4, trained=False)


def make_manifold(root: Path, config: ManifoldConfig, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    folder = root / config.id
    save_manifold(folder, config, build(config, "decoder").eval(), build(config, "encoder").eval())
    return folder


@pytest.fixture(scope="session")
def manifold_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("manifolds")
    make_manifold(root, TINY)
    make_manifold(root, TINY_GRAY)
    return root


@pytest.fixture(autouse=True)
def _manifold_path(manifold_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PATH_ENV, str(manifold_root))


@pytest.fixture(autouse=True)
def _isolated_hub(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the user's manifest or hub cache, or reaches a real hub.

    A stray hub request goes to the discard port on 127.0.0.1 and fails at once; tests that
    want a hub start the stand-in (tests/hub_standin.py) and point HF_ENDPOINT at it.
    """
    home = tmp_path_factory.mktemp("hf-home")
    monkeypatch.setenv("HF_HOME", str(home))
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("NCODEC_MANIFEST", str(home / "user-manifest.json"))
    return home


@pytest.fixture
def photo() -> np.ndarray:
    """A smooth 40x24 RGB test image (odd, non-square size on purpose)."""
    y, x = np.mgrid[0:24, 0:40]
    return np.stack([x * 6, y * 10, (x + y) * 4], axis=2).astype(np.uint8)
