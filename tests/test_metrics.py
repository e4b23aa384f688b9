import numpy as np
import pytest

from ncodec.eval.metrics import psnr, ssim

skimage_metrics = pytest.importorskip("skimage.metrics")


def test_ssim_matches_scikit_image() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 32, 24, 3)).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 25, a.shape), 0, 255).astype(np.uint8)
    ours = ssim(a, b)
    ref = [
        skimage_metrics.structural_similarity(
            x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1
        )
        for x, y in zip(a, b, strict=True)
    ]
    assert np.allclose(ours, ref, atol=1e-4)
    assert ssim(a, a) == pytest.approx(1.0)


def test_psnr_known_value() -> None:
    a = np.zeros((1, 4, 4, 3), np.uint8)
    b = np.full((1, 4, 4, 3), 10, np.uint8)
    assert psnr(a, b)[0] == pytest.approx(10 * np.log10(255**2 / 100))
    assert psnr(a, a)[0] == np.inf
