"""The ``ncodec`` command line: encode, decode and inspect .ncz files.

Exit status: 0 success, 1 bad input (one line on stderr; the traceback with -v),
2 usage error. Outputs are written atomically and never over an input; an existing
output is only replaced with -f/--force.
"""

from __future__ import annotations

import functools
import io
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ncodec.atomic import OutputExistsError, atomic_write, check_output
from ncodec.errors import InvalidImageError, NczError

EXIT_BAD_INPUT = 1
STDIO = "-"

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, verbose: bool) -> None:
    if verbose:
        traceback.print_exc()
    click.echo(f"ncodec: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def reporting(func: F) -> F:
    """Options -q/-v, and errors from bad input turned into one line and exit 1."""

    @click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
    @click.option("-v", "--verbose", is_flag=True, help="More detail; full traceback on errors.")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, verbose: bool, **kwargs: Any) -> Any:
        try:
            return func(*args, quiet=quiet, verbose=verbose, **kwargs)
        except (NczError, OutputExistsError, OSError) as exc:
            _fail(str(exc), verbose)

    return wrapper  # type: ignore[return-value]


def _read_input(path: str) -> bytes:
    if path == STDIO:
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _write_output(path: str, data: bytes, source: str, force: bool) -> None:
    if path == STDIO:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    output = Path(path)
    check_output(output, [Path(source)] if source != STDIO else [], force)
    atomic_write(output, data)


def _default_output(source: str, suffix: str) -> str:
    if source == STDIO:
        return STDIO
    return str(Path(source).with_suffix(suffix))


def _open_image(data: bytes, name: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
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


@main.command()
@click.argument("input", metavar="IN")
@click.option("-o", "--output", metavar="OUT", help="Output .ncz ('-' = stdout). Default: IN with suffix .ncz.")
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
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing output file.")
@reporting
def encode(input: str, output: str | None, bits: int, manifold: str | None, effort: int, force: bool, quiet: bool, verbose: bool) -> None:
    """Compress the image IN ('-' = stdin) to an .ncz file.

    Any size and mode (gray, RGBA, palette, 16-bit) is accepted; the original size and
    channel count are restored on decode. Alpha is not coded (decoded as opaque).
    """
    from ncodec.codec import compress
    from ncodec.format import read_ncz
    from ncodec.manifolds import DEFAULT_MANIFOLD

    output = output or _default_output(input, ".ncz")
    if output != STDIO:
        check_output(Path(output), [Path(input)] if input != STDIO else [], force)
    image = _open_image(_read_input(input), input)
    blob = compress(image, manifold=manifold or DEFAULT_MANIFOLD, bits=bits, effort=effort)
    _write_output(output, blob, input, force)
    if not quiet:
        parsed = read_ncz(blob)
        click.echo(_summary(output, parsed.header.fields(), len(blob), parsed.payload_bits), err=True)


def _summary(name: str, fields: dict[str, Any], file_bytes: int, payload_bits: int) -> str:
    pixels = fields["width"] * fields["height"]
    return (
        f"{name}: {fields['width']}x{fields['height']}, {fields['manifold']} M={fields['latent_dim']} b={fields['bits']}: "
        f"payload {payload_bits} bits ({payload_bits / pixels:.4f} bpp), file {file_bytes} bytes ({8 * file_bytes / pixels:.4f} bpp)"
    )


@main.command()
@click.argument("input", metavar="IN")
@click.option("-o", "--output", metavar="OUT", help="Output image ('-' = PNG on stdout). Default: IN with suffix .png.")
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--strict", is_flag=True, help="Refuse a file whose payload CRC fails instead of decoding it.")
@reporting
def decode(input: str, output: str | None, force: bool, strict: bool, quiet: bool, verbose: bool) -> None:
    """Decompress the .ncz file IN ('-' = stdin) to an image of the original size.

    The format follows OUT's suffix (PNG, JPEG, WebP, ... as Pillow knows them).
    """
    import warnings

    from PIL import Image

    from ncodec.codec import PayloadDamagedWarning, decompress
    from ncodec.images import to_pil

    output = output or _default_output(input, ".png")
    if output != STDIO:
        check_output(Path(output), [Path(input)] if input != STDIO else [], force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PayloadDamagedWarning)
        pixels = decompress(_read_input(input), strict=strict)
    for w in caught:
        click.echo(f"ncodec: warning: {w.message}", err=True)
    buffer = io.BytesIO()
    image_format = "PNG" if output == STDIO else Image.registered_extensions().get(Path(output).suffix.lower())
    if image_format is None:
        raise click.UsageError(f"unknown image format for output {output!r}")
    to_pil(pixels).save(buffer, format=image_format)
    _write_output(output, buffer.getvalue(), input, force)
    if not quiet:
        click.echo(f"{output}: {pixels.shape[1]}x{pixels.shape[0]} {image_format}", err=True)


@main.command()
@click.argument("input", metavar="IN")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as one JSON object.")
@reporting
def info(input: str, as_json: bool, quiet: bool, verbose: bool) -> None:
    """Print the header fields of the .ncz file IN, payload bits and file size."""
    from ncodec.format import read_ncz

    f = read_ncz(_read_input(input))
    fields = f.header.fields() | {"payload_bits": f.payload_bits, "payload_ok": f.payload_ok, "file_bytes": f.file_bytes}
    if as_json:
        click.echo(json.dumps(fields))
    else:
        for key, value in fields.items():
            click.echo(f"{key:18} {value}")
