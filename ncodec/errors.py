"""One error family: everything ncodec raises for bad data is an ``NczError``.

Callers catch ``NczError`` for "this input cannot be coded"; the subclasses say why.
Errors about caller-supplied images are also ``ValueError`` so generic code that
already handles ``ValueError`` keeps working.
"""

from __future__ import annotations


class NczError(Exception):
    """Base class of every error ncodec raises for bad input data or files."""

    source: str | None = None
    """The input file the error is about, where the caller knows it (the command line sets it): the message then names it."""

    def __str__(self) -> str:
        text = super().__str__()
        named = self.source is None or text.startswith(f"{self.source}:")
        return text if named else f"{self.source}: {text}"


class FormatError(NczError):
    """The bytes are not a valid .ncz file (wrong magic, bad field, trailing bytes)."""


class TruncatedError(FormatError):
    """The file ends before its header or payload does."""


class UnsupportedVersionError(FormatError):
    """The file was written by a newer major version of the format."""


class IntegrityError(FormatError):
    """A CRC does not match: the bytes were damaged."""


class LimitExceededError(FormatError):
    """A declared size is beyond the documented limits; nothing was allocated."""


class ManifoldError(NczError):
    """A manifold cannot be found, read or used."""


class ManifoldNotFoundError(ManifoldError):
    """No manifold with this id is available locally."""


class ManifoldMismatchError(ManifoldError):
    """The file was coded with different decoder weights than the local manifold."""


class InvalidImageError(NczError, ValueError):
    """The input is not an image ncodec can encode."""


class ImageTooLargeError(InvalidImageError):
    """The input image is beyond the pixel limits (or Pillow's decompression-bomb guard)."""


class MissingExtraError(NczError, ImportError):
    """This input or output needs an optional dependency (an extra such as [video]) that is not installed."""
