"""DCGAN-style generator, discriminator and encoder, sized by one config.

The generator is the codec's decoder g: [-1,1]^M -> image; the encoder f has the
discriminator's shape with an M-vector tanh head (Santurkar et al. 2017). All three
are parameterised by image size (a power of two >= 8: 32, 64, 128, ...), channels,
latent length M and base width, so one file covers every manifold.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from ncodec.manifold_config import ManifoldConfig, stage_widths


class Generator(nn.Module):
    """z (N, M) in [-1, 1] -> image (N, C, S, S) in [-1, 1]."""

    def __init__(self, cfg: ManifoldConfig) -> None:
        super().__init__()
        widths = stage_widths(cfg, cfg.width)
        self.seed_channels = widths[0]
        self.project = nn.Sequential(
            nn.Linear(cfg.latent_dim, widths[0] * 16, bias=False),
            nn.BatchNorm1d(widths[0] * 16),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for cin, cout in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], cfg.channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z).view(z.shape[0], self.seed_channels, 4, 4)
        image: torch.Tensor = self.body(x)
        return image


class _Trunk(nn.Module):
    """Strided-conv feature extractor shared by discriminator and encoder."""

    def __init__(self, cfg: ManifoldConfig, base: int, norm: bool) -> None:
        super().__init__()
        widths = list(reversed(stage_widths(cfg, base)))
        layers: list[nn.Module] = [nn.Conv2d(cfg.channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for cin, cout in itertools.pairwise(widths):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
            if norm:
                layers += [nn.BatchNorm2d(cout)]
            layers += [nn.LeakyReLU(0.2, inplace=True)]
        self.body = nn.Sequential(*layers)
        self.out_features = widths[-1] * 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.body(x)
        return features.flatten(1)


class Discriminator(nn.Module):
    """image -> one real/fake logit per image."""

    def __init__(self, cfg: ManifoldConfig) -> None:
        super().__init__()
        self.trunk = _Trunk(cfg, cfg.width, norm=False)
        self.head = nn.Linear(self.trunk.out_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.trunk(x))
        return logits.squeeze(1)


class Encoder(nn.Module):
    """image (N, C, S, S) in [-1, 1] -> z (N, M) in (-1, 1)."""

    def __init__(self, cfg: ManifoldConfig) -> None:
        super().__init__()
        self.trunk = _Trunk(cfg, cfg.encoder_base_width, norm=True)
        self.head = nn.Linear(self.trunk.out_features, cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z: torch.Tensor = self.head(self.trunk(x))
        return torch.tanh(z)
