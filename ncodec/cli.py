"""The ``ncodec`` command line: encode, decode and inspect .ncz files.

Exit statuses are in :mod:`ncodec.exitcodes` (1 bad input, 2 usage, 3 manifold unavailable,
4 limit exceeded, 130 interrupted); a failure is one line on stderr, the traceback only with
--debug. Outputs are written atomically and never over an input; an existing output is only
replaced with -f/--force.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from ncodec import exitcodes
from ncodec.atomic import OutputExistsError, atomic_write, check_output
from ncodec.cli_manifolds import announce_fetches, manifolds
from ncodec.errors import ImageTooLargeError, InvalidImageError, NczError

STDIO = "-"

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, exc: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    click.echo(f"ncodec: {message}", err=True)
    sys.exit(exitcodes.for_error(exc))


def reporting(func: F) -> F:
    """Options -q/--debug; a failure becomes one line on stderr and its exit status (ncodec.exitcodes)."""

    @click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
    @click.option("--debug", is_flag=True, help="Print the full traceback on errors.")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, debug: bool, **kwargs: Any) -> Any:
        try:
            return func(*args, quiet=quiet, **kwargs)
        except (NczError, OutputExistsError, OSError) as exc:
            _fail(f"error: {exc}", exc, debug)
        except KeyboardInterrupt as exc:
            _fail("interrupted; no partial output was left", exc, debug)

    return wrapper  # type: ignore[return-value]


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so temporary files are removed on the way out."""
    raise KeyboardInterrupt


def _read_input(path: str) -> bytes:
    if path == STDIO:
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _write_output(path: str, data: bytes) -> None:
    if path == STDIO:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        atomic_write(Path(path), data)


def _outputs(inputs: tuple[str, ...], output: str | None, suffix: str) -> list[str]:
    """Output name per input: -o as given for one input, else DIR/stem+suffix or beside the input."""
    if STDIO in inputs and len(inputs) > 1:
        raise click.UsageError("'-' (stdin) can only be the single input")
    several = len(inputs) > 1 or (output is not None and (output.endswith("/") or Path(output).is_dir()))
    if not several:
        return [output or (STDIO if inputs[0] == STDIO else str(Path(inputs[0]).with_suffix(suffix)))]
    if output == STDIO:
        raise click.UsageError("several inputs need -o DIR, not stdout")
    if output:
        Path(output).mkdir(parents=True, exist_ok=True)
    return [str((Path(output) if output else Path(src).parent) / (Path(src).stem + suffix)) for src in inputs]


def _run_each(
    inputs: tuple[str, ...], outputs: list[str], force: bool, quiet: bool, work: Callable[[bytes, str, str], tuple[bytes, str]]
) -> None:
    """Convert each input, then report it; a bad file is reported and skipped, and the exit status is the first failure's."""
    failed: list[tuple[str, BaseException]] = []
    for source, output in zip(inputs, outputs, strict=True):
        try:
            if output != STDIO:
                check_output(Path(output), [Path(source)] if source != STDIO else [], force)
            data, summary = work(_read_input(source), source, output)
            _write_output(output, data)
            if not quiet:
                click.echo(summary, err=True)
        except (NczError, OutputExistsError, OSError) as exc:
            if len(inputs) == 1:
                raise
            click.echo(f"ncodec: error: {source}: {exc}", err=True)
            failed.append((source, exc))
    if failed:
        click.echo(f"ncodec: {len(failed)} of {len(inputs)} files failed: {', '.join(name for name, _ in failed)}", err=True)
        sys.exit(exitcodes.for_error(failed[0][1]))


@contextlib.contextmanager
def _offline(offline: bool) -> Iterator[None]:
    """``--offline`` for the length of one command (the CLI may run in-process, as in tests)."""
    from ncodec.hub import set_offline

    if not offline:
        yield
        return
    set_offline(True)
    try:
        yield
    finally:
        set_offline(False)


def _open_image(data: bytes, name: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    from ncodec.images import check_size

    try:
        image = Image.open(io.BytesIO(data))
        check_size(*image.size)  # before any pixel is decoded
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name}: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidImageError):
            raise
        raise InvalidImageError(f"{name}: not a readable image ({exc})") from None
    return image


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ncodec")
def main() -> None:
    """Generative image compression: a tiny latent code decoded by a cached GAN manifold.

    \b
      ncodec encode photo.png              -> photo.ncz
      ncodec decode photo.ncz -o out.png   -> out.png (original size)
      ncodec info photo.ncz
    """
    signal.signal(signal.SIGTERM, _terminate)


@main.command()
@click.argument("inputs", metavar="IN...", nargs=-1, required=True)
@click.option(
    "-o", "--output", metavar="OUT", help="Output file, '-' for stdout, or a folder (DIR/ or several inputs). Default: IN with suffix .ncz."
)
@click.option("-b", "--bits", type=click.IntRange(1, 8), default=5, show_default=True, help="Bits per latent entry.")
@click.option("-m", "--manifold", metavar="ID", default=None, help="Manifold id. Default: the bundled default manifold.")
@click.option(
    "-e",
    "--effort",
    type=click.IntRange(0, 3),
    default=1,
    show_default=True,
    help="0 = encoder only (fastest); 1-3 = more latent refinement steps (slower, lower distortion).",
)
@click.option("--offline", is_flag=True, help="Never download a manifold (same as HF_HUB_OFFLINE=1).")
@click.option("--robust", is_flag=True, help="Protect the header with Reed-Solomon (+25 bytes at 64x64) for noisy channels.")
@click.option("-f", "--force", is_flag=True, help="Overwrite existing output files.")
@reporting
def encode(
    inputs: tuple[str, ...],
    output: str | None,
    bits: int,
    manifold: str | None,
    effort: int,
    offline: bool,
    robust: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Compress images IN... ('-' = stdin) to .ncz files.

    Any size and mode (gray, RGBA, palette, 16-bit) is accepted; the original size and
    channel count are restored on decode. Alpha is not coded (decoded as opaque).
    With several inputs, a bad one is reported and skipped; the exit status is the first failure's.
    """
    from ncodec.codec import compress
    from ncodec.format import read_ncz
    from ncodec.manifolds import DEFAULT_MANIFOLD

    def work(data: bytes, source: str, target: str) -> tuple[bytes, str]:
        with announce_fetches(quiet):
            blob = compress(_open_image(data, source), manifold=manifold or DEFAULT_MANIFOLD, bits=bits, effort=effort, robust=robust)
        parsed = read_ncz(blob)
        return blob, _summary(target, parsed.header.fields(), len(blob), parsed.payload_bits)

    with _offline(offline):
        _run_each(inputs, _outputs(inputs, output, ".ncz"), force, quiet, work)


def _summary(name: str, fields: dict[str, Any], file_bytes: int, payload_bits: int) -> str:
    pixels = fields["width"] * fields["height"]
    return (
        f"{name}: {fields['width']}x{fields['height']}, {fields['manifold']} M={fields['latent_dim']} b={fields['bits']}: "
        f"payload {payload_bits} bits ({payload_bits / pixels:.4f} bpp), file {file_bytes} bytes ({8 * file_bytes / pixels:.4f} bpp)"
    )


@main.command()
@click.argument("inputs", metavar="IN...", nargs=-1, required=True)
@click.option("-o", "--output", metavar="OUT", help="Output image, '-' for PNG on stdout, or a folder. Default: IN with suffix .png.")
@click.option("-f", "--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--strict", is_flag=True, help="Refuse a file whose payload CRC fails instead of decoding it.")
@click.option("--offline", is_flag=True, help="Never download a manifold (same as HF_HUB_OFFLINE=1).")
@reporting
def decode(inputs: tuple[str, ...], output: str | None, force: bool, strict: bool, offline: bool, quiet: bool) -> None:
    """Decompress .ncz files IN... ('-' = stdin) to images of the original size.

    The format follows the output's suffix (PNG, JPEG, WebP, ... as Pillow knows them).
    """
    import warnings

    from PIL import Image

    from ncodec.codec import PayloadDamagedWarning, decompress
    from ncodec.images import to_pil

    outputs = _outputs(inputs, output, ".png")
    formats = {o: "PNG" if o == STDIO else Image.registered_extensions().get(Path(o).suffix.lower()) for o in outputs}
    unknown = [o for o, fmt in formats.items() if fmt is None]
    if unknown:
        raise click.UsageError(f"unknown image format for output {unknown[0]!r}")

    def work(data: bytes, source: str, target: str) -> tuple[bytes, str]:
        with announce_fetches(quiet), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PayloadDamagedWarning)
            pixels = decompress(data, strict=strict)
        for w in caught:
            click.echo(f"ncodec: warning: {source}: {w.message}", err=True)
        buffer = io.BytesIO()
        to_pil(pixels).save(buffer, format=formats[target])
        return buffer.getvalue(), f"{target}: {pixels.shape[1]}x{pixels.shape[0]} {formats[target]}"

    with _offline(offline):
        _run_each(inputs, outputs, force, quiet, work)


@main.command()
@click.argument("input", metavar="IN")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as one JSON object.")
@reporting
def info(input: str, as_json: bool, quiet: bool) -> None:
    """Print the header fields of the .ncz file IN, payload bits and file size."""
    from ncodec.format import read_ncz

    f = read_ncz(_read_input(input))
    fields = f.header.fields() | {"payload_bits": f.payload_bits, "payload_ok": f.payload_ok, "file_bytes": f.file_bytes}
    if as_json:
        click.echo(json.dumps(fields))
    else:
        for key, value in fields.items():
            click.echo(f"{key:18} {value}")


main.add_command(manifolds)


class _TrainGroup(click.Group):
    """``ncodec train ...``: subcommands load from ncodec.train only when used (torch, tqdm)."""

    def _real(self) -> click.Group:
        try:
            from ncodec.train.cli import train
        except ImportError as exc:
            raise click.ClickException(f"training needs the [train] extra: pip install 'ncodec[train]' ({exc})") from None
        return train

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


@main.group(cls=_TrainGroup)
def train() -> None:
    """Train your own manifold: a GAN decoder, then an encoder (needs the [train] extra)."""
