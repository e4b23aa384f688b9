"""Image sets for training, as one uint8 (N, H, W, 3) array held in memory.

The sets used here are small (tens of thousands of 64x64 images, a few hundred MB),
so decoding everything once up front is simpler and faster than a streaming loader.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image

Fit = Callable[[Image.Image], np.ndarray]
"""Crops and resizes one image to the training size (``fit`` at a fixed size)."""

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


def fit(image: Image.Image, size: int) -> np.ndarray:
    """Centre-crop to a square and resize to ``size``: the one geometry every source goes through."""
    image = image.convert("RGB")
    w, h = image.size
    if (w, h) != (size, size):
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def jpeg_images(blob: np.ndarray, offsets: np.ndarray) -> list[Image.Image]:
    """The images of a ``jpeg`` + ``offsets`` pair (JPEG files back to back, the way the shared face sets are stored)."""
    return [Image.open(io.BytesIO(blob[a:b].tobytes())) for a, b in itertools.pairwise(offsets)]


def _load_npz(path: Path, size: int, fit_one: Fit) -> np.ndarray:
    try:
        archive = np.load(path)  # an .npz of arrays; anything else (a pickle, a .npy, garbage) is refused here
    except ValueError:  # numpy's own words here are about pickles, which would only confuse
        raise ValueError(f"{path}: not an .npz archive") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: a single array, not an .npz archive of named arrays")
    with archive as data:
        key = next((k for k in ("images", "frames") if k in data), None)
        if key is not None:  # "frames": video sets, whose frames train a video manifold as plain images
            images = data[key]
            if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
                raise ValueError(f"{path}: '{key}' must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
            if images.shape[1:3] == (size, size):
                return images
            return np.stack([fit_one(Image.fromarray(im)) for im in images])
        if "jpeg" in data and "offsets" in data:
            return np.stack([fit_one(image) for image in jpeg_images(data["jpeg"], data["offsets"])])
    raise ValueError(f"{path}: expected key 'images', 'frames' or keys 'jpeg' + 'offsets'")


def _load_folder(path: Path, fit_one: Fit) -> np.ndarray:
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{path}: no image files")
    out = []
    for file in files:
        with Image.open(file) as image:
            out.append(fit_one(image))
    return np.stack(out)


def load_images(sources: Iterable[str | Path], size: int, warn: Callable[[str], None] | None = None) -> np.ndarray:
    """All images of ``sources`` (.npz files or folders of images) as uint8 (N, size, size, 3).

    Images smaller than ``size`` are upscaled like the rest are fitted, and ``warn`` is told how many:
    a manifold trained on them learns their blur.
    """
    upscaled = 0

    def fit_one(image: Image.Image) -> np.ndarray:
        nonlocal upscaled
        upscaled += min(image.size) < size
        return fit(image, size)

    parts = []
    for source in map(Path, sources):
        if source.is_dir():
            parts.append(_load_folder(source, fit_one))
        elif source.suffix == ".npz":
            parts.append(_load_npz(source, size, fit_one))
        else:
            raise ValueError(f"{source}: not an .npz file or a folder")
    if not parts:
        raise ValueError("no image sources given")
    images = np.concatenate(parts)
    if upscaled and warn is not None:
        warn(f"{upscaled} of {len(images)} images are smaller than {size}x{size} and were upscaled to it: "
             "a manifold trained on them learns their blur")  # fmt: skip
    return images
