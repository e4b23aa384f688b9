"""Network definitions. ``build(config, role)`` makes the decoder, encoder or discriminator of a manifold."""

from __future__ import annotations

import torch
from torch import nn

from ncodec.manifold_config import ManifoldConfig
from ncodec.models.dcgan import Discriminator, Encoder, Generator

_ROLES: dict[str, type[nn.Module]] = {"decoder": Generator, "encoder": Encoder, "discriminator": Discriminator}


def channels_last(net: nn.Module) -> nn.Module:
    """NHWC weights, in place: the CPU's convolutions run faster in this layout, computing the same values."""
    net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks memory_format
    return net


def build(config: ManifoldConfig, role: str) -> nn.Module:
    """A freshly initialised network of ``role`` for the architecture in ``config``."""
    try:
        cls = _ROLES[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; expected one of {sorted(_ROLES)}") from None
    return cls(config)


__all__ = ["Discriminator", "Encoder", "Generator", "build", "channels_last"]
