"""ncodec: generative compression of images with a cached GAN decoder ("manifold").

    >>> import ncodec
    >>> blob = ncodec.compress(array)      # .ncz bytes
    >>> image = ncodec.decompress(blob)    # same size, channels and dtype as ``array``
    >>> PIL.Image.open("photo.ncz")         # .ncz is a Pillow format after ``import ncodec``

Importing ncodec does not import torch; the networks load on first use.
"""

from typing import TYPE_CHECKING, Any

from ncodec import pillow as _pillow_plugin  # noqa: F401  (registers .ncz with Pillow; imports neither numpy nor torch)
from ncodec.errors import (
    FormatError,
    ImageTooLargeError,
    IntegrityError,
    InvalidImageError,
    LimitExceededError,
    ManifoldError,
    ManifoldMismatchError,
    ManifoldNotFoundError,
    NczError,
    TruncatedError,
    UnsupportedVersionError,
)

if TYPE_CHECKING:
    from ncodec.codec import (
        DEFAULT_BITS,
        DEFAULT_EFFORT,
        PayloadDamagedWarning,
        compress,
        compress_batch,
        decompress,
        decompress_batch,
    )
    from ncodec.format import read_ncz
    from ncodec.manifolds import DEFAULT_MANIFOLD
    from ncodec.video import DEFAULT_VIDEO_MANIFOLD, compress_video, decompress_video

# The codec pulls in numpy (~0.1 s): it loads on first use, so `ncodec info` and `--help` start quickly.
_LAZY = {
    "ncodec.codec": ("DEFAULT_BITS", "DEFAULT_EFFORT", "PayloadDamagedWarning", "compress", "compress_batch", "decompress",
                     "decompress_batch"),
    "ncodec.format": ("read_ncz",),
    "ncodec.manifolds": ("DEFAULT_MANIFOLD",),
    "ncodec.video": ("DEFAULT_VIDEO_MANIFOLD", "compress_video", "decompress_video"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'ncodec' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BITS",
    "DEFAULT_EFFORT",
    "DEFAULT_MANIFOLD",
    "DEFAULT_VIDEO_MANIFOLD",
    "FormatError",
    "ImageTooLargeError",
    "IntegrityError",
    "InvalidImageError",
    "LimitExceededError",
    "ManifoldError",
    "ManifoldMismatchError",
    "ManifoldNotFoundError",
    "NczError",
    "PayloadDamagedWarning",
    "TruncatedError",
    "UnsupportedVersionError",
    "__version__",
    "compress",
    "compress_batch",
    "compress_video",
    "decompress",
    "decompress_batch",
    "decompress_video",
    "read_ncz",
]
