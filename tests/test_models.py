"""Network definitions: inference-time BatchNorm folding computes what the unfolded network does."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import TINY
from torch import nn

from ncodec.models import build
from ncodec.models.fold import fold_batchnorm


@pytest.mark.parametrize("role", ["decoder", "encoder"])
def test_folded_network_matches_the_unfolded_one(role: str) -> None:
    torch.manual_seed(0)
    net = build(TINY, role)
    for bn in (m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):  # statistics a trained net has
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    net.eval()
    folded = fold_batchnorm(copy.deepcopy(net))
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in folded.modules())
    x = torch.rand(8, TINY.latent_dim) * 2 - 1 if role == "decoder" else torch.rand(8, 3, 16, 16) * 2 - 1
    with torch.inference_mode():
        expected, got = net(x), folded(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
