"""The image pipeline: array or PIL image <-> .ncz bytes, one at a time or batched."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import PIL.Image

from ncodec.decoding import decode_latents
from ncodec.device import DEFAULT_DEVICE, check_device
from ncodec.errors import FormatError, IntegrityError, InvalidImageError, ManifoldMismatchError, ManifoldNotFoundError
from ncodec.format import Header, NczFile, read_ncz, write_ncz
from ncodec.images import Layout, is_tensor, normalize, restore, to_array, to_native, to_pil, to_tensor
from ncodec.manifest import FILENAMES
from ncodec.manifolds import DEFAULT_MANIFOLD, Manifold, available, open_manifold
from ncodec.quantize import check_bits

DEFAULT_BITS = 5
DEFAULT_EFFORT = 1
AUTO = "auto"
"""Manifold choice that tries every trained manifold present locally and keeps, per image, the closest."""

Output = Literal["numpy", "pil", "torch"]
_CONVERTERS: dict[str, Callable[[npt.NDArray[Any]], Any]] = {"numpy": lambda a: a, "pil": to_pil, "torch": to_tensor}


class PayloadDamagedWarning(UserWarning):
    """The payload CRC failed: the image decodes, but some latent entries were changed."""


def compress(
    image: Any,
    manifold: str = DEFAULT_MANIFOLD,
    bits: int = DEFAULT_BITS,
    effort: int = DEFAULT_EFFORT,
    robust: bool = False,
    device: str = DEFAULT_DEVICE,
) -> bytes:
    """Encode one image (numpy array, PIL image or tensor; any size and mode) to .ncz bytes.

    ``robust`` protects the header with Reed-Solomon (+25 bytes for a 64x64 image) so
    the file survives bit errors across the whole file, not only in the payload.
    ``device``: where the networks run, "cpu" (default), "cuda", "cuda:N" or "auto".
    """
    return compress_batch([image], manifold=manifold, bits=bits, effort=effort, robust=robust, device=device)[0]


def compress_batch(
    images: Iterable[Any],
    manifold: str = DEFAULT_MANIFOLD,
    bits: int = DEFAULT_BITS,
    effort: int = DEFAULT_EFFORT,
    robust: bool = False,
    device: str = DEFAULT_DEVICE,
) -> list[bytes]:
    """Encode many images in one batched pass through the networks.

    ``images``: any iterable of images, including an (N, H, W[, C]) array or an
    (N, C, H, W) tensor. ``manifold="auto"`` encodes with every trained manifold found
    locally (bundled, cached, NCODEC_MANIFOLD_PATH; nothing is downloaded) and keeps, for
    each image, the one whose reconstruction has the lowest mean squared error.
    """
    from ncodec.latent import check_effort

    check_bits(bits)
    check_effort(effort)
    check_device(device)
    _refuse_single_image(images)
    prepared = [normalize(to_array(image)) for image in images]
    if not prepared:
        return []
    candidates = auto_candidates() if manifold == AUTO else [manifold]
    best: list[tuple[float, bytes]] = [(np.inf, b"")] * len(prepared)
    for manifold_id in candidates:
        m = open_manifold(manifold_id)
        for i, (error, blob) in enumerate(_encode(m, prepared, bits, effort, robust, device, measure=len(candidates) > 1)):
            if error < best[i][0] or not best[i][1]:
                best[i] = (error, blob)
    return [blob for _, blob in best]


def _refuse_single_image(images: Iterable[Any]) -> None:
    """One image given as the batch would be coded row by row as gray images (or not at all): refuse it instead.

    A PIL image, an (N, H, W) array whose last axis is at most 4 long, or an (N, H, W) tensor whose
    first is, is one image far more often than N images a few pixels wide.
    """
    shape: tuple[int, ...] = tuple(getattr(images, "shape", ()))
    if isinstance(images, PIL.Image.Image):
        one = "PIL image"
    elif len(shape) == 3 and isinstance(images, np.ndarray) and shape[2] <= 4:
        one = f"(H, W, C) array of shape {shape}"
    elif len(shape) == 3 and is_tensor(images) and shape[0] <= 4:
        one = f"(C, H, W) tensor of shape {shape}"
    else:
        return
    raise InvalidImageError(
        f"compress_batch got one {one}: it takes a list of images, an (N, H, W, C) array "
        "or an (N, C, H, W) tensor; code one image with compress()"
    )


def auto_candidates() -> list[str]:
    """The manifolds ``manifold="auto"`` tries: trained ones present locally with their encoder, default first."""
    ids = [i for i in available() if (m := open_manifold(i)).config.trained and (m.folder / FILENAMES["encoder"]).is_file()]
    if not ids:
        raise ManifoldNotFoundError("manifold 'auto': no trained manifold is present locally")
    return sorted(ids, key=lambda i: i != DEFAULT_MANIFOLD)


def _encode(
    m: Manifold, prepared: list[tuple[npt.NDArray[np.uint8], Layout]], bits: int, effort: int, robust: bool, device: str, measure: bool
) -> list[tuple[float, bytes]]:
    """.ncz bytes per image, with its reconstruction's squared error at the original size when ``measure``."""
    from ncodec.latent import encode_latents

    cfg = m.config
    native = np.stack([to_native(pixels, cfg.image_size, cfg.channels) for pixels, _ in prepared])
    indices = encode_latents(m, native, bits, effort, device)
    errors = [0.0] * len(prepared)
    if measure:
        for i, (decoded, (pixels, layout)) in enumerate(zip(decode_latents(m, indices, bits, device), prepared, strict=True)):
            errors[i] = _squared_error(decoded, pixels, layout)
    blobs = [write_ncz(_header(m, layout, bits, robust), idx) for (_, layout), idx in zip(prepared, indices, strict=True)]
    return list(zip(errors, blobs, strict=True))


def _squared_error(decoded: npt.NDArray[np.uint8], pixels: npt.NDArray[np.uint8], layout: Layout) -> float:
    """MSE of the colour channels, compared as 8-bit (H, W, C) at the original size."""
    restored = restore(decoded, dataclasses.replace(layout, sixteen_bit=False, no_channel_axis=False))
    colour = 3 if layout.channels >= 3 else 1
    diff = restored[:, :, :colour].astype(np.float64) - pixels[:, :, :colour]
    return float(np.mean(diff * diff))


def _header(m: Manifold, layout: Layout, bits: int, robust: bool) -> Header:
    return Header(
        robust=robust,
        bits=bits,
        latent_dim=m.config.latent_dim,
        width=layout.width,
        height=layout.height,
        channels=layout.channels,
        manifold_id=m.config.id,
        fingerprint=m.fingerprint,
        no_channel_axis=layout.no_channel_axis,
        sixteen_bit=layout.sixteen_bit,
    )


def decompress(blob: bytes, strict: bool = False, output: Output = "numpy", device: str = DEFAULT_DEVICE) -> Any:
    """Decode .ncz bytes to an image of the original size and channel count.

    ``output``: "numpy" (the original's shape and dtype), "pil", or "torch" (float32
    (C, H, W) in [0, 1]). A damaged payload still decodes, with a
    ``PayloadDamagedWarning``, unless ``strict``. ``device``: as for ``compress``; on the
    CPU a process without torch decodes with NumPy (``ncodec.decoding``).
    """
    return decompress_batch([blob], strict=strict, output=output, device=device)[0]


def decompress_batch(blobs: Sequence[bytes], strict: bool = False, output: Output = "numpy", device: str = DEFAULT_DEVICE) -> list[Any]:
    """Decode many files; files sharing a manifold go through the decoder together."""
    check_device(device)
    if output not in _CONVERTERS:
        raise ValueError(f"output must be one of {sorted(_CONVERTERS)}, got {output!r}")
    if isinstance(blobs, (bytes, bytearray, memoryview)):
        raise TypeError("decompress_batch takes a list of .ncz files' bytes; decode one file with decompress()")
    files = [_parse_image(blob, strict) for blob in blobs]
    out: list[npt.NDArray[Any] | None] = [None] * len(files)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, f in enumerate(files):
        groups.setdefault((f.header.manifold_id, f.header.bits), []).append(i)
    manifolds = {key: manifold_for(files[members[0]].header) for key, members in groups.items()}
    for (manifold_id, bits), members in groups.items():
        m = manifolds[manifold_id, bits]
        decoded = decode_latents(m, np.concatenate([files[i].indices for i in members]), bits, device)
        for i, pixels in zip(members, decoded, strict=True):
            out[i] = restore(pixels, layout_of(files[i].header))
    return [_CONVERTERS[output](o) for o in out if o is not None]


def _parse_image(blob: bytes, strict: bool) -> NczFile:
    if isinstance(blob, (str, Path)):
        raise TypeError(f"expected the .ncz file's bytes, got a {type(blob).__name__}: pass Path(...).read_bytes()")
    f = read_ncz(blob)
    if f.header.video:
        raise FormatError("this is a video .ncz; decode it with decompress_video")
    check_payload(f, strict)
    return f


def check_payload(f: NczFile, strict: bool) -> None:
    """Warn (or, when ``strict``, raise) if the payload CRC failed."""
    if f.payload_ok:
        return
    message = "payload CRC mismatch: the file was damaged; some latent entries may be wrong"
    if strict:
        raise IntegrityError(message)
    warnings.warn(message, PayloadDamagedWarning, stacklevel=3)


def manifold_for(header: Header) -> Manifold:
    """The local manifold a file names, refusing one whose decoder weights differ."""
    m = open_manifold(header.manifold_id)
    if m.fingerprint != header.fingerprint:
        raise ManifoldMismatchError(
            f"file was coded with manifold {header.manifold_id!r} fingerprint {header.fingerprint.hex()}, "
            f"but the local {header.manifold_id!r} has fingerprint {m.fingerprint.hex()}"
        )
    if m.config.latent_dim != header.latent_dim:
        raise ManifoldMismatchError(f"file has M={header.latent_dim}, manifold {m.config.id!r} has M={m.config.latent_dim}")
    return m


def layout_of(header: Header) -> Layout:
    return Layout(header.width, header.height, header.channels, header.no_channel_axis, header.sixteen_bit)
