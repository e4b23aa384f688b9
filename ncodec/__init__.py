"""ncodec: generative compression of images with a cached GAN decoder ("manifold").

    >>> import ncodec
    >>> blob = ncodec.compress(array)      # .ncz bytes
    >>> image = ncodec.decompress(blob)    # same size, channels and dtype as ``array``
    >>> PIL.Image.open("photo.ncz")         # .ncz is a Pillow format after ``import ncodec``

Importing ncodec does not import torch; the networks load on first use.
"""

from ncodec import pillow as _pillow_plugin  # noqa: F401  (registers .ncz with Pillow)
from ncodec.codec import (
    DEFAULT_BITS,
    DEFAULT_EFFORT,
    PayloadDamagedWarning,
    compress,
    compress_batch,
    decompress,
    decompress_batch,
)
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
from ncodec.format import read_ncz
from ncodec.manifolds import DEFAULT_MANIFOLD
from ncodec.video import DEFAULT_VIDEO_MANIFOLD, compress_video, decompress_video

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
