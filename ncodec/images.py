"""Bring any input image to the manifold's format, and the decoded image back to the input's.

Inputs: numpy arrays (H, W) or (H, W, C) with C in 1..4, uint8, uint16 or float in
[0, 1]; PIL images of any common mode. What is coded is always the manifold's
channel count at its native size; what the header records (size, channel count,
whether there was a channel axis, 8 or 16 bit samples) restores the original's
shape and dtype on decode. Alpha is not coded: it comes back fully opaque.
numpy + Pillow only, so this module stays cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from ncodec.errors import ImageTooLargeError, InvalidImageError
from ncodec.format.header import MAX_DIMENSION, MAX_PIXELS

Image8 = npt.NDArray[np.uint8]

_PIL_MODES_TO_ARRAY = {"1": "L", "L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "I;16": "I;16"}


@dataclass(frozen=True)
class Layout:
    """How the original looked: restored on decode."""

    width: int
    height: int
    channels: int
    no_channel_axis: bool
    sixteen_bit: bool


def to_array(image: Any) -> npt.NDArray[Any]:
    """A PIL image, numpy array or torch tensor as a channels-last numpy array.

    PIL images get their EXIF orientation applied; tensors are channels-first
    (C, H, W) or (H, W), uint8 or float in [0, 1], as torchvision has them.
    """
    if isinstance(image, Image.Image):
        return _pil_to_array(image)
    if isinstance(image, np.ndarray):
        return image
    if is_tensor(image):
        if image.ndim not in (2, 3):
            raise InvalidImageError(f"expected a tensor of shape (C, H, W) or (H, W), got {tuple(image.shape)}")
        array: npt.NDArray[Any] = image.detach().cpu().numpy()
        return np.moveaxis(array, 0, -1) if array.ndim == 3 else array
    raise InvalidImageError(f"cannot encode a {type(image).__name__}: expected a numpy array, PIL image or torch tensor")


def is_tensor(obj: Any) -> bool:
    """True for torch tensors, without importing torch."""
    return type(obj).__module__.partition(".")[0] == "torch" and hasattr(obj, "detach")


def to_pil(array: npt.NDArray[Any]) -> Image.Image:
    """A decoded array as a PIL image (Pillow has no 16-bit colour modes: those become 8-bit)."""
    if array.dtype == np.uint16 and array.ndim == 3:
        array = (array >> 8).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(array)


def to_tensor(array: npt.NDArray[Any]) -> Any:
    """A decoded array as a float32 (C, H, W) torch tensor in [0, 1]."""
    import torch

    scale = 65535.0 if array.dtype == np.uint16 else 255.0
    chw = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    return torch.from_numpy(np.ascontiguousarray(chw, dtype=np.float32) / np.float32(scale))


def _pil_to_array(image: Image.Image) -> npt.NDArray[Any]:
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode == "P":
        target = "RGBA" if "transparency" in image.info else "RGB"
    elif mode in ("I;16B", "I;16L", "I;16N", "I"):
        target = "I;16"
    elif mode == "PA":
        target = "RGBA"
    else:
        target = _PIL_MODES_TO_ARRAY.get(mode, "RGB" if mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX") else "")
    if not target:
        raise InvalidImageError(f"unsupported image mode {mode!r}")
    if target == "I;16" and mode == "I":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 65535).astype(np.uint16))
    elif target != mode:
        image = image.convert(target)
    return np.asarray(image)


def check_size(width: int, height: int) -> None:
    """Refuse sizes beyond the format's limits, before anything of that size is allocated (and empty images)."""
    if width < 1 or height < 1:
        raise InvalidImageError(f"empty image ({width}x{height}): nothing to code")
    if not (width <= MAX_DIMENSION and height <= MAX_DIMENSION and width * height <= MAX_PIXELS):
        raise ImageTooLargeError(f"image size {width}x{height} is outside the limits (max side {MAX_DIMENSION}, max {MAX_PIXELS} pixels)")


def normalize(array: npt.NDArray[Any]) -> tuple[Image8, Layout]:
    """Validate an array and return it as uint8 (H, W, C) plus the layout to restore."""
    if array.ndim not in (2, 3) or (array.ndim == 3 and not 1 <= array.shape[2] <= 4):
        raise InvalidImageError(f"expected an image of shape (H, W) or (H, W, C) with C in 1..4, got {array.shape}")
    height, width = array.shape[:2]
    check_size(width, height)
    no_axis = array.ndim == 2
    pixels = array[:, :, None] if no_axis else array
    layout = Layout(width, height, pixels.shape[2], no_axis, array.dtype == np.uint16)
    return _to_uint8(pixels), layout


def _to_uint8(pixels: npt.NDArray[Any]) -> Image8:
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if pixels.dtype == np.bool_:
        return pixels.astype(np.uint8) * 255
    if np.issubdtype(pixels.dtype, np.floating):
        if not np.isfinite(pixels).all():
            raise InvalidImageError("image contains NaN or infinite values")
        if pixels.min() < 0.0 or pixels.max() > 1.0:
            raise InvalidImageError("float images must lie in [0, 1]")
        return np.round(pixels * 255.0).astype(np.uint8)
    raise InvalidImageError(f"unsupported pixel type {pixels.dtype}: use uint8, uint16, bool or float in [0, 1]")


def to_native(pixels: Image8, size: int, channels: int) -> Image8:
    """Resize (H, W, C) uint8 to the manifold's (size, size, channels); alpha is dropped."""
    c = pixels.shape[2]
    color = pixels[:, :, :3] if c >= 3 else pixels[:, :, :1]
    if channels == 3 and color.shape[2] == 1:
        color = np.repeat(color, 3, axis=2)
    elif channels == 1 and color.shape[2] == 3:
        color = np.asarray(Image.fromarray(color).convert("L"))[:, :, None]
    if color.shape[:2] != (size, size):
        color = _resize(color, size, size)
    return np.ascontiguousarray(color)


def restore(decoded: Image8, layout: Layout) -> npt.NDArray[Any]:
    """Decoded (S, S, channels) uint8 -> the original's size, channel count and dtype."""
    pixels = decoded
    if pixels.shape[:2] != (layout.height, layout.width):
        pixels = _resize(pixels, layout.width, layout.height)
    c = layout.channels
    if pixels.shape[2] == 3 and c < 3:
        pixels = np.asarray(Image.fromarray(pixels).convert("L"))[:, :, None]
    elif pixels.shape[2] == 1 and c >= 3:
        pixels = np.repeat(pixels, 3, axis=2)
    if c in (2, 4):
        pixels = np.concatenate([pixels, np.full((*pixels.shape[:2], 1), 255, np.uint8)], axis=2)
    out: npt.NDArray[Any] = pixels
    if layout.sixteen_bit:
        out = pixels.astype(np.uint16) * 257
    return out[:, :, 0] if layout.no_channel_axis else out


def _resize(pixels: Image8, width: int, height: int) -> Image8:
    """Resize each channel with Lanczos (antialiased when shrinking)."""
    planes = [Image.fromarray(pixels[:, :, i]).resize((width, height), Image.Resampling.LANCZOS) for i in range(pixels.shape[2])]
    return np.stack([np.asarray(p) for p in planes], axis=2)
