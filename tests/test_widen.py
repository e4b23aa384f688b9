"""Widening a decoder or an encoder (ncodec.train.widen): the wider network computes what the narrow one did, and its copies can part."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from conftest import TINY

from ncodec.models import build
from ncodec.train.widen import widen_encoder, widen_generator


def _narrow(role: str = "decoder") -> torch.nn.Module:
    """TINY's generator (or encoder) with BatchNorm statistics and affine terms of a trained one's kind (not 0 and 1)."""
    torch.manual_seed(0)
    net = build(TINY, role)
    for name, tensor in net.state_dict().items():
        if name.endswith(("running_mean", "bias")) and tensor.is_floating_point():
            tensor.normal_(0, 0.5)
        elif name.endswith(("running_var", "weight")) and "project.0" not in name and tensor.dim() == 1:
            tensor.uniform_(0.5, 2.0)
    return net


@pytest.mark.parametrize("width", [8, 12, 16, 21])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_widened_generator_computes_the_same_images(width: int, mode: str) -> None:
    narrow, wide_config = _narrow(), replace(TINY, width=width)
    wide = build(wide_config, "decoder")
    wide.load_state_dict(widen_generator(narrow.state_dict(), TINY, wide_config, seed=1))  # strict: every shape fits
    getattr(narrow, mode)()
    getattr(wide, mode)()
    z = torch.rand(32, TINY.latent_dim, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(narrow(z), wide(z), atol=1e-5)  # in train mode BatchNorm's batch statistics too


def test_copies_split_their_channels_outgoing_weight_unevenly() -> None:
    narrow = _narrow().state_dict()
    wide = widen_generator(narrow, TINY, replace(TINY, width=16), seed=1)
    seed_old, seed_new = narrow["project.0.weight"].view(16, 16, -1), wide["project.0.weight"].view(32, 16, -1)  # the 4x4 seed
    copy_of = torch.tensor([next(k for k in range(16) if torch.equal(row, seed_old[k])) for row in seed_new])
    assert torch.equal(copy_of[:16], torch.arange(16)) and len(set(copy_of[16:].tolist())) > 1  # old ones in place, then picks
    old, new = narrow["body.0.weight"], wide["body.0.weight"][:, :8]  # what reads the seed, into the old 8x8 channels
    for k in copy_of[16:].unique():
        copies = new[copy_of == k]
        assert torch.allclose(copies.sum(dim=0), old[k], atol=1e-6)  # the copies' shares sum to one
        assert not torch.allclose(copies[0], copies[1])  # but differ, so training can tell the copies apart


def test_only_the_width_may_change_and_only_upwards() -> None:
    state = _narrow().state_dict()
    with pytest.raises(ValueError, match="cannot narrow"):
        widen_generator(state, TINY, replace(TINY, width=4))
    with pytest.raises(ValueError, match="only the width"):
        widen_generator(state, TINY, replace(TINY, width=16, latent_dim=20))


@pytest.mark.parametrize("width", [8, 12, 16, 21])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_widened_encoder_computes_the_same_latents(width: int, mode: str) -> None:
    narrow, wide = _narrow("encoder"), build(replace(TINY, encoder_width=width), "encoder")
    wide.load_state_dict(widen_encoder(narrow.state_dict(), TINY, width, seed=1))  # strict: every shape fits
    getattr(narrow, mode)()
    getattr(wide, mode)()
    x = torch.rand(32, 3, TINY.image_size, TINY.image_size, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(narrow(x), wide(x), atol=1e-5)


def test_a_widened_encoders_copies_read_unevenly_and_it_only_widens() -> None:
    narrow = _narrow("encoder").state_dict()
    wide = widen_encoder(narrow, TINY, 16, seed=1)
    old, new = narrow["head.weight"].view(TINY.latent_dim, -1, 16), wide["head.weight"].view(TINY.latent_dim, -1, 16)
    last = wide["trunk.body.3.running_mean"]  # TINY has two stages: the last one's channels, each a copy of a narrow one
    copy_of = torch.tensor([int((narrow["trunk.body.3.running_mean"] == m).nonzero()[0]) for m in last])
    for k in copy_of[old.shape[1] :].unique():
        copies = new[:, copy_of == k]
        assert torch.allclose(copies.sum(dim=1), old[:, k], atol=1e-6) and not torch.allclose(copies[:, 0], copies[:, 1])
    with pytest.raises(ValueError, match="cannot narrow an encoder"):
        widen_encoder(narrow, TINY, 4)
