"""The hyper-parameters of a manifold: enough to rebuild its networks from the file alone."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ncodec.errors import ManifoldError

CONFIG_NAME = "manifold.json"
DECODER_NAME = "decoder.safetensors"
ENCODER_NAME = "encoder.safetensors"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


@dataclass(frozen=True)
class ManifoldConfig:
    """Architecture of one manifold, stored as ``manifold.json`` beside its weights."""

    id: str
    image_size: int
    channels: int
    latent_dim: int
    width: int
    arch: str = "dcgan"
    description: str = ""
    trained: bool = True
    encoder_width: int | None = None
    """The encoder's base width when it differs from the decoder's: the encoder runs only on the sending
    side, so it can grow without changing the decoder (or any file's fingerprint)."""

    def __post_init__(self) -> None:
        if not ID_PATTERN.match(self.id):
            raise ManifoldError(f"invalid manifold id {self.id!r}: 1-32 chars of a-z 0-9 . _ -")
        if self.channels not in (1, 3):
            raise ManifoldError(f"manifold {self.id}: channels must be 1 or 3, got {self.channels}")
        if self.arch != "dcgan":
            raise ManifoldError(f"manifold {self.id}: unknown architecture {self.arch!r}")
        if self.encoder_width is not None and self.encoder_width < 1:
            raise ManifoldError(f"manifold {self.id}: encoder_width must be positive, got {self.encoder_width}")

    @property
    def encoder_base_width(self) -> int:
        return self.width if self.encoder_width is None else self.encoder_width

    def to_json(self) -> str:
        data = asdict(self)
        if self.encoder_width is None:  # configs written before the field existed keep their exact bytes
            del data["encoder_width"]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifoldConfig:
        known = {"id", "image_size", "channels", "latent_dim", "width", "arch", "description", "trained", "encoder_width"}
        unknown = set(data) - known
        if unknown:
            raise ManifoldError(f"unknown keys in manifold config: {sorted(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ManifoldError(f"bad manifold config: {exc}") from exc

    @classmethod
    def load(cls, folder: Path) -> ManifoldConfig:
        path = folder / CONFIG_NAME
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ManifoldError(f"cannot read {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ManifoldError(f"{path}: expected a JSON object")
        return cls.from_dict(data)


def stage_widths(config: ManifoldConfig, base: int) -> list[int]:
    """The generator's feature widths from the 4x4 seed down to its last hidden layer, for base width ``base``.

    One 2x resolution step per width; the discriminator and encoder use the same widths in reverse.
    """
    stages = math.log2(config.image_size / 4)
    if config.image_size < 8 or stages != int(stages):
        raise ValueError(f"image_size must be a power of two >= 8, got {config.image_size}")
    return [base * 2 ** (int(stages) - 1 - i) for i in range(int(stages))]
