"""Finding and loading manifolds: folders of ``manifold.json`` + safetensors weights.

``resolve(manifold_id)`` is the one seam that maps an id to a local folder. Behind it,
``ncodec.locate`` walks the chain: bundled package data, ``NCODEC_MANIFOLD_PATH`` folders, the
huggingface-hub cache, a download at the pinned commit; every file that weights_manifest.json
pins is checked against its sha256 before it is loaded. Decoding needs only the decoder, so the
encoder of a hub manifold is fetched the first time ``Manifold.encoder()`` asks for it.
Weights are read with safetensors, never unpickled. Loaded networks are cached per process so
repeated calls are cheap. torch is imported lazily: reading configs and fingerprints does not need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ncodec import locate, manifest
from ncodec.digest import file_sha256
from ncodec.errors import ManifoldError
from ncodec.format.header import FINGERPRINT_SIZE
from ncodec.locate import BUNDLED_DIR, PATH_ENV, search_path
from ncodec.manifest import FILENAMES, ManifestEntry, Role
from ncodec.manifold_config import CONFIG_NAME, DECODER_NAME, ENCODER_NAME, ManifoldConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ncodec.numpy_decoder import NumpyGenerator

DEFAULT_MANIFOLD = "faces64-z100"

__all__ = [
    "BUNDLED_DIR",
    "DEFAULT_MANIFOLD",
    "PATH_ENV",
    "Manifold",
    "available",
    "file_sha256",
    "open_manifold",
    "resolve",
    "save_encoder",
    "save_manifold",
    "search_path",
]


def resolve(manifold_id: str, need_encoder: bool = False) -> Path:
    """Return the local folder of ``manifold_id`` (fetching it if needed) or raise ``ManifoldNotFoundError``.

    The folder holds a verified manifold.json and decoder, and the encoder too with ``need_encoder``.
    """
    return locate.find(manifold_id, ("decoder", "encoder") if need_encoder else ("decoder",))


def available() -> list[str]:
    """Ids of every manifold found in the local folders, first occurrence wins (no hub look-up)."""
    seen: dict[str, None] = {}
    for root in search_path():
        if root.is_dir():
            for cfg in sorted(root.glob(f"*/{CONFIG_NAME}")):
                seen.setdefault(cfg.parent.name, None)
    return list(seen)


@dataclass(frozen=True)
class Manifold:
    """A resolved manifold: its config, folder and decoder fingerprint.

    ``pin`` is its manifest entry: then every file is verified before use, and one missing from
    ``folder`` (the encoder, when only decoding fetched the rest) is fetched through the chain.
    Without a pin (a folder given directly, or a user-local manifold) files load as they are.
    """

    config: ManifoldConfig
    folder: Path
    pin: ManifestEntry | None = None

    def path(self, role: Role) -> Path:
        """Local path of one of the manifold's files, verified against the pin if there is one."""
        path = self.folder / FILENAMES[role]
        if self.pin is None:
            return path
        if path.is_file():
            locate.check(path, self.pin, role)
            return path
        return locate.find(self.config.id, (role,)) / FILENAMES[role]

    @property
    def fingerprint(self) -> bytes:
        """First bytes of the decoder file's sha256, written into every .ncz header."""
        return file_sha256(self.path("decoder"))[:FINGERPRINT_SIZE]

    def decoder(self, device: str = "cpu") -> nn.Module:
        """The torch decoder on ``device`` (a torch device string, e.g. "cuda:0")."""
        return _load_network(self.path("decoder"), self.config, "decoder", device)

    def encoder(self, device: str = "cpu") -> nn.Module:
        """The torch encoder on ``device``."""
        return _load_network(self.path("encoder"), self.config, "encoder", device)

    def weights(self, role: Role) -> dict[str, torch.Tensor]:
        """A network's weights as stored (BatchNorm not folded, fp32): where training continues from (``train --init``)."""
        return _read_state(self.path(role))

    def numpy_decoder(self) -> NumpyGenerator:
        """The decoder computed with NumPy, which decodes in processes that have not imported torch (``ncodec.decoding``)."""
        path = self.path("decoder")
        st = _stat(path)
        return _load_numpy_cached(path, st.st_size, st.st_mtime_ns, self.config)


_LOCATION_ENV = (PATH_ENV, manifest.USER_ENV, "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME")


def open_manifold(manifold_id: str, need_encoder: bool = False) -> Manifold:
    """Resolve and read a manifold's config (no weights are loaded yet).

    Memoised on everything that decides where the manifold is found (the environment and the
    user manifest's mtime), so coding many images does not re-walk the chain each time; the
    files themselves are still verified on use.
    """
    from ncodec import hub

    user = manifest.user_manifest_path()
    user_mtime = user.stat().st_mtime_ns if user.is_file() else None
    where = (tuple(os.environ.get(k) for k in _LOCATION_ENV), hub.is_offline(), user_mtime)
    return _open_manifold_cached(manifold_id, need_encoder, where)


@cache
def _open_manifold_cached(manifold_id: str, need_encoder: bool, where: object) -> Manifold:
    folder = resolve(manifold_id, need_encoder)
    config = ManifoldConfig.load(folder)
    if config.id != manifold_id:
        raise ManifoldError(f"{folder / CONFIG_NAME} declares id {config.id!r}, expected {manifold_id!r}")
    entry = manifest.lookup(manifold_id)
    return Manifold(config, folder, entry if entry is not None and not entry.planned else None)


def _load_network(path: Path, config: ManifoldConfig, role: str, device: str) -> nn.Module:
    st = _stat(path)
    return _load_network_cached(path, st.st_size, st.st_mtime_ns, config, role, device)


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise ManifoldError(f"manifold file missing: {path}") from exc


@cache
def _load_network_cached(path: Path, size: int, mtime_ns: int, config: ManifoldConfig, role: str, device: str) -> nn.Module:
    from ncodec.models import build, channels_last
    from ncodec.models.fold import fold_batchnorm

    net = build(config, role)
    state = _read_state(path)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ManifoldError(f"{path} does not match the architecture in {CONFIG_NAME}: {exc}") from exc
    net.eval()
    fold_batchnorm(net)
    net.requires_grad_(False)
    # NHWC: the CPU's convolutions run up to 1.5x faster in this layout. Decoded pixels and effort-0
    # files are bit-identical to NCHW; refinement's gradients round differently (2 of 64 files differ).
    channels_last(net)
    return net.to(device)


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    """A weight file's tensors, floating point widened to fp32 (the files may hold fp16)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ManifoldError(f"cannot read weights {path}: {exc}") from exc
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


@cache
def _load_numpy_cached(path: Path, size: int, mtime_ns: int, config: ManifoldConfig) -> NumpyGenerator:
    from ncodec import numpy_decoder

    return numpy_decoder.load(path, config)


def save_manifold(folder: Path, config: ManifoldConfig, decoder: nn.Module, encoder: nn.Module, half: bool = True) -> None:
    """Write a manifold folder: config JSON plus decoder and encoder safetensors.

    ``half`` stores floating-point weights as fp16 (half the size); they are
    widened back to fp32 on load.
    """
    from safetensors.torch import save

    from ncodec.atomic import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    for name, net in ((DECODER_NAME, decoder), (ENCODER_NAME, encoder)):
        atomic_write(folder / name, save(_state_for_disk(net, half)))  # safetensors' own save_file makes 0600 files
    atomic_write(folder / CONFIG_NAME, config.to_json().encode())


def save_encoder(folder: Path, config: ManifoldConfig, decoder_file: Path, encoder: nn.Module) -> None:
    """Write a manifold folder around an existing decoder file, copied byte for byte (so its fingerprint is kept)."""
    from safetensors.torch import save

    from ncodec.atomic import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / DECODER_NAME, decoder_file.read_bytes())
    atomic_write(folder / ENCODER_NAME, save(_state_for_disk(encoder, half=True)))
    atomic_write(folder / CONFIG_NAME, config.to_json().encode())


def _state_for_disk(net: nn.Module, half: bool) -> dict[str, torch.Tensor]:
    import torch

    out = {}
    for key, value in net.state_dict().items():
        value = value.detach().cpu().contiguous()
        if half and value.dtype == torch.float32:
            value = value.half()
        out[key] = value
    return out
