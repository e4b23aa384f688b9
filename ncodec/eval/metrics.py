"""Image quality metrics on uint8 batches, numpy only.

SSIM is the Gaussian-window SSIM of Wang et al. (sigma 1.5, window 11, K1 0.01,
K2 0.03), computed exactly as scikit-image's ``structural_similarity(...,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255,
channel_axis=-1)``: symmetric padding, borders of the SSIM map cropped, channels
averaged. tests/test_metrics.py checks it against scikit-image to 1e-4.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_SIGMA = 1.5
_TRUNCATE = 3.5
_RADIUS = int(_TRUNCATE * _SIGMA + 0.5)


def psnr(a: npt.ArrayLike, b: npt.ArrayLike, data_range: float = 255.0) -> npt.NDArray[np.float64]:
    """Per-image PSNR in dB of (N, H, W[, C]) batches (or single images)."""
    x, y = _batch(a), _batch(b)
    mse = ((x - y) ** 2).reshape(len(x), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        out: npt.NDArray[np.float64] = 10.0 * np.log10(data_range**2 / mse)
    return out


def ssim(a: npt.ArrayLike, b: npt.ArrayLike, data_range: float = 255.0) -> npt.NDArray[np.float64]:
    """Per-image mean SSIM of (N, H, W, C) batches (or single (H, W, C) images)."""
    x, y = _batch(a), _batch(b)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ux, uy = _blur(x), _blur(y)
    vx = _blur(x * x) - ux * ux
    vy = _blur(y * y) - uy * uy
    vxy = _blur(x * y) - ux * uy
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    r = _RADIUS
    out: npt.NDArray[np.float64] = s[:, r:-r, r:-r].reshape(len(x), -1, x.shape[3]).mean(axis=1).mean(axis=1)
    return out


def _batch(a: npt.ArrayLike) -> npt.NDArray[np.float64]:
    x = np.asarray(a, dtype=np.float64)
    if x.ndim == 2:
        x = x[None, :, :, None]
    elif x.ndim == 3:
        x = x[None]
    return x


def _kernel() -> npt.NDArray[np.float64]:
    t = np.arange(-_RADIUS, _RADIUS + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / _SIGMA) ** 2)
    out: npt.NDArray[np.float64] = k / k.sum()
    return out


def _blur(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Separable Gaussian over H and W of (N, H, W, C), mirrored borders like scipy's 'reflect'."""
    k, r = _kernel(), _RADIUS
    p = np.pad(x, ((0, 0), (r, r), (r, r), (0, 0)), mode="symmetric")
    h = sum(k[i] * p[:, i : i + x.shape[1], :, :] for i in range(2 * r + 1))
    out: npt.NDArray[np.float64] = sum(k[i] * h[:, :, i : i + x.shape[2], :] for i in range(2 * r + 1))
    return out
