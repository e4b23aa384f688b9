"""The perceptual network is a real ImageNet classifier before its features are trusted as a loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ncodec.train.perceptual import PerceptualLoss, load_lite0

KODAK = Path(__file__).parents[2] / "shared" / "data" / "kodak"
# Kodak photo -> ImageNet classes that name what is in it (top-1 must be one of them).
EXPECTED = {23: {88}, 13: {979}, 5: {665, 670}, 19: {437}, 20: {404, 895}, 10: {871, 484, 914}}


def _centre_224(path: Path) -> torch.Tensor:
    image = Image.open(path).convert("RGB")
    w, h = image.size
    side = min(w, h)
    image = image.crop(((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2)).resize((224, 224), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 127.5 - 1


@pytest.mark.skipif(not KODAK.is_dir(), reason="needs the shared Kodak photos")
def test_lite0_classifies_kodak_photos() -> None:
    images = torch.stack([_centre_224(KODAK / f"kodim{i:02d}.png") for i in EXPECTED])
    with torch.no_grad():
        top1 = load_lite0()(images).argmax(dim=1).tolist()
    assert [c in classes for c, classes in zip(top1, EXPECTED.values(), strict=True)] == [True] * len(EXPECTED), top1


def test_perceptual_loss_is_mse_plus_weighted_features() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    noisy = (x + 0.1 * torch.randn_like(x)).clamp(-1, 1)
    loss = PerceptualLoss(weight=0.002)
    assert loss(x, x).item() == 0.0
    mse = torch.nn.functional.mse_loss(noisy, x).item()
    assert loss(noisy, x).item() > mse
    assert PerceptualLoss(weight=0.0)(noisy, x).item() == pytest.approx(mse)
