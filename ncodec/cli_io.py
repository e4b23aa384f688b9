"""The command line's file handling: where each output goes, reading and writing safely, batches, progress."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ncodec import exitcodes
from ncodec.atomic import OutputExistsError, atomic_write, check_output
from ncodec.errors import ImageTooLargeError, InvalidImageError, NczError
from ncodec.format import Header

if TYPE_CHECKING:
    import numpy.typing as npt

STDIO = "-"


def read_input(path: str) -> bytes:
    if path == STDIO:
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def write_output(path: str, data: bytes, make_folder: bool = False) -> None:
    """Write ``data`` to stdout or, atomically, to ``path``; ``make_folder``: create its folder (-o DIR/) first.

    The folder is made only now, so a run that fails before it has output leaves no empty folder behind.
    """
    if path == STDIO:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's own flush cannot fail again
            sys.exit(exitcodes.BROKEN_PIPE)
        return
    folder = Path(path).parent
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"output folder {folder} does not exist")
    atomic_write(Path(path), data)


def into_folder(inputs: tuple[str, ...], output: str | None) -> bool:
    """Whether outputs go into a folder: several inputs, or -o DIR/ or an existing folder."""
    if STDIO in inputs and len(inputs) > 1:
        raise click.UsageError("'-' (stdin) can only be the single input")
    folder = len(inputs) > 1 or (output is not None and output != STDIO and (output.endswith("/") or Path(output).is_dir()))
    if folder and output == STDIO:
        raise click.UsageError("several inputs need -o DIR, not stdout")
    if folder and output is not None and Path(output).exists() and not Path(output).is_dir():
        why = "several inputs need a folder" if len(inputs) > 1 else "a name ending in / is a folder"
        raise click.UsageError(f"-o {output}: {why}, and this is a file")
    return folder


def target(source: str, output: str | None, folder: bool, suffix: str) -> str:
    """The output for ``source``: -o as given, else DIR/stem+suffix (DIR made when written), else beside the input.

    From stdin without -o, stdout.
    """
    if not folder:
        return output or (STDIO if source == STDIO else str(Path(source).with_suffix(suffix)))
    return str((Path(output) if output else Path(source).parent) / (Path(source).stem + suffix))


def check_target(source: str, output: str, force: bool, claimed: dict[Path, str]) -> None:
    """Refuse, before any work, what the output must not be.

    Not the input, not an existing file without --force (an empty folder is free), not an output an
    earlier input of this run already claimed (a/x.png and b/x.png into one folder: even --force
    would lose one), and not binary data on a terminal.
    """
    if output == STDIO:
        if sys.stdout.isatty():
            raise click.UsageError("refusing to write binary data to a terminal: give -o FILE or redirect stdout")
        return
    key = Path(output).resolve()
    if key in claimed:
        raise OutputExistsError(f"{output} is also the output of {claimed[key]} in this run: inputs with the same name need separate runs")
    if not (Path(output).is_dir() and not any(Path(output).iterdir())):
        check_output(Path(output), [Path(source)] if source != STDIO else [], force)
    claimed[key] = source


FileError = (NczError, OutputExistsError, OSError)
"""What one bad input raises: reported and skipped when there are several."""


def error_text(exc: BaseException) -> str:
    """An error as its line: an OSError as "FILE: reason", the way other Unix tools put it, not "[Errno 2] reason: 'FILE'"."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if exc.filename is None else f"{exc.filename}: {exc.strerror}"
    return str(exc)


@contextlib.contextmanager
def about(source: str) -> Iterator[None]:
    """An ``NczError`` raised inside names ``source`` (stdin excepted), so "payload truncated" says which file."""
    try:
        yield
    except NczError as exc:
        if exc.source is None and source != STDIO:
            exc.source = source
        raise


Prepared = TypeVar("Prepared")


class _Failures:
    """The bad inputs of a run: each reported as it happens, then a total and the first one's exit status."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.failed: list[tuple[str, BaseException]] = []

    def add(self, source: str, exc: BaseException) -> None:
        message = error_text(exc)
        click.echo(f"ncodec: error: {message if message.startswith(f'{source}:') else f'{source}: {message}'}", err=True)
        self.failed.append((source, exc))

    def exit_if_any(self) -> None:
        if self.failed:
            names = ", ".join(name for name, _ in self.failed)
            click.echo(f"ncodec: {len(self.failed)} of {self.total} files failed: {names}", err=True)
            sys.exit(exitcodes.for_error(self.failed[0][1]))


def run_each(inputs: tuple[str, ...], quiet: bool, job: Callable[[str], str]) -> None:
    """Run ``job`` on each input and print its summary; a bad file is reported and skipped.

    The exit status is the first failure's. With a single input its error propagates, to be
    reported by the command's error handler.
    """
    failures = _Failures(len(inputs))
    for source in inputs:
        try:
            with about(source):
                summary = job(source)
            if not quiet:
                click.echo(summary, err=True)
        except FileError as exc:
            if len(inputs) == 1:
                raise
            failures.add(source, exc)
    failures.exit_if_any()


def run_batched(
    inputs: tuple[str, ...],
    quiet: bool,
    prepare: Callable[[str], Prepared],
    code: Callable[[list[tuple[str, Prepared]]], list[str]],
    size: int,
    weight: Callable[[Prepared], int],
    max_weight: int,
) -> None:
    """``run_each`` for work that is cheaper together (latent refinement batches across images).

    Each input is prepared alone (read, checked: a bad one is reported and skipped), then ``code``
    handles up to ``size`` of them, or fewer once their ``weight`` reaches ``max_weight`` (memory:
    prepared photos are held whole), at once and returns their summaries. Should a batch fail, its
    inputs are coded one by one, so the error names the file it belongs to.
    """
    failures = _Failures(len(inputs))
    pending: list[tuple[str, Prepared]] = []
    pending_weight = 0

    def flush() -> None:
        nonlocal pending_weight
        try:
            summaries = code(pending) if pending else []
        except FileError:
            summaries = []
            for item in pending:
                try:
                    with about(item[0]):
                        summaries += code([item])
                except FileError as exc:
                    failures.add(item[0], exc)
        if not quiet:
            for line in summaries:
                click.echo(line, err=True)
        pending.clear()
        pending_weight = 0

    for source in inputs:
        try:
            with about(source):
                prepared = prepare(source)
        except FileError as exc:
            failures.add(source, exc)
            continue
        pending.append((source, prepared))
        pending_weight += weight(prepared)
        if len(pending) == size or pending_weight >= max_weight:
            flush()
    flush()
    failures.exit_if_any()


@contextlib.contextmanager
def progress(label: str, total: int, quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long clips (none when quiet or stderr is not a terminal)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def summary(name: str, header: Header, file_bytes: int, payload_bits: int) -> str:
    """One line per coded file: size, manifold, rate."""
    fields = header.fields()
    pixels = header.width * header.height
    coded = f"{name}: {header.width}x{header.height}, {fields['manifold']} M={header.latent_dim} b={header.bits}"
    if header.video is None:
        rate = f"{payload_bits / pixels:.4f} bpp), file {file_bytes} bytes ({8 * file_bytes / pixels:.4f} bpp)"
        return f"{coded}: payload {payload_bits} bits ({rate}"
    v = header.video
    seconds = v.frames * v.fps_den / v.fps_num
    return (
        f"{coded}, {v.frames} frames, keyframe every {v.keyframe_interval}{', huffman' if header.huffman else ''}: "
        f"payload {payload_bits} bits ({payload_bits / seconds / 1000:.2f} kbit/s), file {file_bytes} bytes "
        f"({8 * file_bytes / seconds / 1000:.2f} kbit/s)"
    )


def open_image(data: bytes, name: str) -> Any:
    """Pillow image from file bytes, refused before decoding if beyond the pixel limits."""
    from PIL import Image, UnidentifiedImageError

    from ncodec.images import check_size

    try:
        image = Image.open(io.BytesIO(data))
        check_size(*image.size)  # before any pixel is decoded
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name}: {exc}") from None
    except UnidentifiedImageError:
        why = "an empty file" if not data else "truncated, or in no format Pillow knows"
        raise InvalidImageError(f"{name}: not a readable image ({why})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidImageError):
            raise
        raise InvalidImageError(f"{name}: not a readable image ({exc})") from None
    return image


def image_format(output: str) -> str:
    """Pillow's format name for an output image (PNG for stdout)."""
    from PIL import Image

    if output == STDIO:
        return "PNG"
    fmt = Image.registered_extensions().get(Path(output).suffix.lower())
    if fmt is None:
        raise click.UsageError(f"unknown image format for output {output!r}")
    return fmt


def image_bytes(pixels: npt.NDArray[Any], fmt: str) -> bytes:
    """The decoded image in ``fmt``; where the format cannot hold it (JPEG: alpha, 16 bits), 8-bit without alpha.

    Alpha is never coded (it decodes opaque), so dropping it loses nothing.
    """
    import numpy as np

    from ncodec.images import to_pil

    buffer = io.BytesIO()
    try:
        to_pil(pixels).save(buffer, format=fmt)
    except OSError:  # Pillow: "cannot write mode RGBA as JPEG"
        if pixels.ndim == 3 and pixels.shape[2] in (2, 4):
            pixels = pixels[:, :, :-1]
        if pixels.dtype == np.uint16:
            pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
        buffer = io.BytesIO()
        to_pil(pixels).save(buffer, format=fmt)
    return buffer.getvalue()
