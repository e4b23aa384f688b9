"""Writing output files so that a failure never leaves a partial or damaged file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
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
    with _named_after(output):
        _write_and_replace(output, data)


def _write_and_replace(output: Path, data: bytes) -> None:
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


@contextlib.contextmanager
def atomic_directory(output: Path) -> Iterator[Path]:
    """Fill a temp folder beside ``output``, then swap it in; on any error the temp folder goes.

    An existing ``output`` (the caller has checked ``--force``) is replaced as a whole, so
    frames of an older, longer clip never linger beside the new ones.
    """
    with _named_after(output):
        tmp = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp"))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if output.exists():
            old = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".old"))
            os.replace(output, old / output.name)
            os.replace(tmp, output)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def _named_after(output: Path) -> Iterator[None]:
    """Report a failed write as the output's, not as the hidden temp file's that the user never named."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, f"cannot write: {exc.strerror}", str(output)) from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
