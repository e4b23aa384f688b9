"""Writing output files so that a failure never leaves a partial or damaged file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class OutputExistsError(Exception):
    """The output exists and overwriting was not allowed."""


def check_output(output: Path, inputs: list[Path], force: bool) -> None:
    """Refuse to write over an input (also through links) or, without ``force``, any existing file."""
    if not output.exists():
        return
    for source in inputs:
        if source.exists() and os.path.samefile(source, output):
            raise OutputExistsError(f"{output}: refusing to overwrite the input file")
    if not force:
        raise OutputExistsError(f"{output} already exists (use -f/--force to overwrite)")


def atomic_write(output: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``output``, fsync, then rename over it."""
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
