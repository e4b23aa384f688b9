"""A decoder or encoder made wider without changing its function (Net2WiderNet, Chen, Goodfellow and Shlens 2016).

``train --init MANIFOLD --width W`` starts a generator of base width W from a trained one of a smaller
width, so that the extra capacity starts from everything the narrow decoder learned instead of from
scratch. Each hidden channel of the wide network copies one of the narrow one's (every old channel
keeps its place, the new ones copy channels drawn at random), and the layer that reads those channels
gives each copy a random share of the weight it gave the old channel, the shares of the copies summing
to one: the same function, batch statistics included, with the copies free to drift apart from the
first step. ``train encoder --init MANIFOLD --encoder-width W`` does the same for an encoder, whose
output is the latent and so has no channels to copy.
"""

from __future__ import annotations

import torch

from ncodec.manifold_config import ManifoldConfig, stage_widths

_SHARE_SPREAD = 0.1
"""How far a copy's share of its channel's outgoing weight strays from an even split."""


def widen_generator(state: dict[str, torch.Tensor], narrow: ManifoldConfig, wide: ManifoldConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """``narrow``'s generator weights (``models.dcgan.Generator``, BatchNorm unfolded) as a generator of ``wide``'s width."""
    if (narrow.image_size, narrow.channels, narrow.latent_dim) != (wide.image_size, wide.channels, wide.latent_dim):
        raise ValueError("only the width may change when a decoder is widened")
    if wide.width < narrow.width:
        raise ValueError(f"cannot narrow a decoder: width {wide.width} is below its {narrow.width}")
    rng = torch.Generator().manual_seed(seed)
    old, new = stage_widths(narrow, narrow.width), stage_widths(wide, wide.width)
    maps = [_channel_map(a, b, rng) for a, b in zip(old, new, strict=True)]
    out = dict(state)
    # The 4x4 seed: the linear layer's features are (channel, position) pairs, 16 positions per channel.
    seed_features = (maps[0][:, None] * 16 + torch.arange(16)).flatten()
    out["project.0.weight"] = state["project.0.weight"][seed_features]
    _copy_norm(out, state, "project.1", seed_features)
    convs = [f"body.{3 * i}" for i in range(len(new))]  # ConvTranspose2d weights are (in, out, kH, kW)
    for i, (conv, mapping) in enumerate(zip(convs, maps, strict=True)):
        weight = state[f"{conv}.weight"][mapping] * _shares(mapping, rng)[:, None, None, None]
        if i + 1 < len(maps):
            weight = weight[:, maps[i + 1]]
            _copy_norm(out, state, f"body.{3 * i + 1}", maps[i + 1])
        out[f"{conv}.weight"] = weight
    return out


def widen_encoder(state: dict[str, torch.Tensor], narrow: ManifoldConfig, width: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """``narrow``'s encoder weights (``models.dcgan.Encoder``, BatchNorm unfolded) at encoder base width ``width``."""
    if width < narrow.encoder_base_width:
        raise ValueError(f"cannot narrow an encoder: width {width} is below its {narrow.encoder_base_width}")
    rng = torch.Generator().manual_seed(seed)
    old, new = stage_widths(narrow, narrow.encoder_base_width)[::-1], stage_widths(narrow, width)[::-1]
    maps = [_channel_map(a, b, rng) for a, b in zip(old, new, strict=True)]
    out = dict(state)
    # Conv2d weights are (out, in, kH, kW); trunk.body is conv, LeakyReLU, then (conv, BatchNorm, LeakyReLU) per stage.
    convs = ["trunk.body.0"] + [f"trunk.body.{3 * i + 2}" for i in range(len(maps) - 1)]
    for i, (conv, mapping) in enumerate(zip(convs, maps, strict=True)):
        weight = state[f"{conv}.weight"][mapping]
        if i > 0:
            weight = weight[:, maps[i - 1]] * _shares(maps[i - 1], rng)[None, :, None, None]
            _copy_norm(out, state, f"trunk.body.{3 * i}", mapping)
        else:
            out[f"{conv}.bias"] = state[f"{conv}.bias"][mapping]
        out[f"{conv}.weight"] = weight
    # The head reads (channel, position) features, 16 positions per channel of the 4x4 map.
    features = (maps[-1][:, None] * 16 + torch.arange(16)).flatten()
    shares = _shares(maps[-1], rng).repeat_interleave(16)
    out["head.weight"] = state["head.weight"][:, features] * shares
    return out


def _channel_map(old: int, new: int, rng: torch.Generator) -> torch.Tensor:
    """Which old channel each new one copies: the old ones in place, then random picks."""
    return torch.cat([torch.arange(old), torch.randint(old, (new - old,), generator=rng)])


def _shares(mapping: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """Per new channel, its share of its old channel's outgoing weight: random, summing to one over the copies."""
    counts = torch.bincount(mapping)[mapping].float()
    jitter = (torch.rand(len(mapping), generator=rng) - 0.5) * 2 * _SHARE_SPREAD
    group_mean = torch.zeros(int(mapping.max()) + 1).index_add_(0, mapping, jitter) / torch.bincount(mapping)
    return 1.0 / counts + (jitter - group_mean[mapping]) / counts


def _copy_norm(out: dict[str, torch.Tensor], state: dict[str, torch.Tensor], prefix: str, index: torch.Tensor) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        out[f"{prefix}.{name}"] = state[f"{prefix}.{name}"][index]
