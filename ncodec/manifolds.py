"""Finding and loading manifolds: folders of ``manifold.json`` + safetensors weights.

``resolve(manifold_id)`` is the one seam that maps an id to a local folder. Today it
looks in the package's bundled weights and in ``NCODEC_MANIFOLD_PATH``; the hub cache
and download plug in behind the same function. Weights are read with safetensors,
never unpickled. Loaded networks are cached per process so repeated calls are cheap.
torch is imported lazily: reading configs and fingerprints does not need it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ncodec.errors import ManifoldError, ManifoldNotFoundError
from ncodec.manifold_config import CONFIG_NAME, DECODER_NAME, ENCODER_NAME, ID_PATTERN, ManifoldConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

BUNDLED_DIR = Path(__file__).parent / "weights"
DEFAULT_MANIFOLD = "faces64-z100"
FINGERPRINT_SIZE = 4
PATH_ENV = "NCODEC_MANIFOLD_PATH"


def search_path() -> list[Path]:
    """Folders searched for manifolds, in order: bundled, then ``NCODEC_MANIFOLD_PATH``."""
    extra = [Path(p) for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    return [BUNDLED_DIR, *extra]


def resolve(manifold_id: str) -> Path:
    """Return the local folder of ``manifold_id`` or raise ``ManifoldNotFoundError``."""
    if not ID_PATTERN.match(manifold_id):
        raise ManifoldNotFoundError(f"invalid manifold id {manifold_id!r}")
    for root in search_path():
        folder = root / manifold_id
        if (folder / CONFIG_NAME).is_file():
            return folder
    where = ", ".join(str(p) for p in search_path())
    raise ManifoldNotFoundError(f"manifold {manifold_id!r} not found (searched {where}; add folders with {PATH_ENV})")


def available() -> list[str]:
    """Ids of every manifold found on the search path, first occurrence wins."""
    seen: dict[str, None] = {}
    for root in search_path():
        if root.is_dir():
            for cfg in sorted(root.glob(f"*/{CONFIG_NAME}")):
                seen.setdefault(cfg.parent.name, None)
    return list(seen)


@cache
def _file_sha256(path: Path, size: int, mtime_ns: int) -> bytes:
    """sha256 of a file, memoised on its identity so a process hashes each file once."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


def file_sha256(path: Path) -> bytes:
    try:
        st = path.stat()
    except OSError as exc:
        raise ManifoldError(f"cannot read {path}: {exc}") from exc
    return _file_sha256(path, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class Manifold:
    """A resolved manifold: its config, folder and decoder fingerprint."""

    config: ManifoldConfig
    folder: Path

    @property
    def fingerprint(self) -> bytes:
        """First bytes of the decoder file's sha256, written into every .ncz header."""
        return file_sha256(self.folder / DECODER_NAME)[:FINGERPRINT_SIZE]

    def decoder(self) -> nn.Module:
        return _load_network(self.folder / DECODER_NAME, self.config, "decoder")

    def encoder(self) -> nn.Module:
        return _load_network(self.folder / ENCODER_NAME, self.config, "encoder")


def open_manifold(manifold_id: str) -> Manifold:
    """Resolve and read a manifold's config (no weights are loaded yet)."""
    folder = resolve(manifold_id)
    config = ManifoldConfig.load(folder)
    if config.id != manifold_id:
        raise ManifoldError(f"{folder / CONFIG_NAME} declares id {config.id!r}, expected {manifold_id!r}")
    return Manifold(config, folder)


def _load_network(path: Path, config: ManifoldConfig, role: str) -> nn.Module:
    st = _stat(path)
    return _load_network_cached(path, st.st_size, st.st_mtime_ns, config, role)


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise ManifoldError(f"manifold file missing: {path}") from exc


@cache
def _load_network_cached(path: Path, size: int, mtime_ns: int, config: ManifoldConfig, role: str) -> nn.Module:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from ncodec.models import build

    net = build(config, role)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ManifoldError(f"cannot read weights {path}: {exc}") from exc
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ManifoldError(f"{path} does not match the architecture in {CONFIG_NAME}: {exc}") from exc
    net.eval()
    net.requires_grad_(False)
    return net


def save_manifold(folder: Path, config: ManifoldConfig, decoder: nn.Module, encoder: nn.Module, half: bool = True) -> None:
    """Write a manifold folder: config JSON plus decoder and encoder safetensors.

    ``half`` stores floating-point weights as fp16 (half the size); they are
    widened back to fp32 on load.
    """
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for name, net in ((DECODER_NAME, decoder), (ENCODER_NAME, encoder)):
        save_file(_state_for_disk(net, half), str(folder / name))
    (folder / CONFIG_NAME).write_text(config.to_json())


def _state_for_disk(net: nn.Module, half: bool) -> dict[str, torch.Tensor]:
    import torch

    out = {}
    for key, value in net.state_dict().items():
        value = value.detach().cpu().contiguous()
        if half and value.dtype == torch.float32:
            value = value.half()
        out[key] = value
    return out
