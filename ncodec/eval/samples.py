"""Draws from a manifold's prior: decode z ~ U[-1,1]^M, a row per manifold.

The decoder is a GAN generator, so a random latent should decode to a plausible image of
the domain, not only the latents an encoder produces. This picture shows it does (and how
well), which is what makes a manifold generative rather than an autoencoder's decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

LABEL_WIDTH = 120


def sample_grid(manifolds: Sequence[str], count: int, seed: int, path: Path, scale: int = 2) -> None:
    """``count`` prior samples of each manifold, a labelled row each, enlarged (nearest) to ``scale`` x the largest native size."""
    from ncodec.decoding import decode_z
    from ncodec.manifolds import open_manifold

    rng = np.random.default_rng(seed)
    rows = []
    for manifold_id in manifolds:
        m = open_manifold(manifold_id)
        decoded = decode_z(m, rng.uniform(-1, 1, (count, m.config.latent_dim)).astype(np.float32))
        rows.append((manifold_id, np.concatenate(list(decoded), axis=1)))
    size = max(row.shape[0] for _, row in rows) * scale
    picture = Image.new("RGB", (LABEL_WIDTH + count * size, len(rows) * size), "white")
    draw = ImageDraw.Draw(picture)
    for r, (manifold_id, row) in enumerate(rows):
        image = Image.fromarray(row.squeeze()).resize((count * size, size), Image.Resampling.NEAREST)
        picture.paste(image, (LABEL_WIDTH, r * size))
        draw.text((4, r * size + size // 2 - 6), manifold_id, fill="black")
    picture.save(path, optimize=True)
