"""The ``ncodec`` command line: encode, decode and inspect .ncz files.

Exit statuses are in :mod:`ncodec.exitcodes` (1 bad input, 2 usage, 3 manifold unavailable,
4 limit exceeded, 130 interrupted); a failure is one line on stderr, the traceback only with
--debug. Outputs are written atomically and never over an input; an existing output is only
replaced with -f/--force.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ncodec import cli_io, exitcodes
from ncodec.atomic import OutputExistsError
from ncodec.errors import NczError
from ncodec.format.header import MAX_FPS_TERM

if TYPE_CHECKING:
    from ncodec.video import Interpolation


F = TypeVar("F", bound=Callable[..., Any])

ENCODE_BATCH = 32
"""Images one `ncodec encode` of several files codes together: latent refinement batches across them
(effort 1 on faces64-z100, AVX2 VM: 261 ms an image one at a time, 71 in 16s, 55 in 32s)."""
ENCODE_BATCH_PIXELS = 1 << 25
"""Fewer when the images are large: a batch holds its decoded photos whole (32 Mpixel, ~100 MB of RGB)."""


def _warn(message: str) -> None:
    """One warning line on stderr; shown with -q too, since it says the result differs from what was asked."""
    click.echo(f"ncodec: warning: {message}", err=True)


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
            _fail(f"error: {cli_io.error_text(exc)}", exc, debug)
        except KeyboardInterrupt as exc:
            _fail("interrupted; no partial output was left", exc, debug)

    return wrapper  # type: ignore[return-value]


class NumberRange(click.FloatRange):
    """click's FloatRange that also refuses NaN, which passes every range check (all its comparisons are false)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail("nan is not a number", param, ctx)
        return number


def _device_option(func: F) -> F:
    """``--device``: where the networks run. A GPU name is checked against torch (imported only then)."""

    def check(ctx: click.Context, param: click.Parameter, value: str) -> str:
        from ncodec.device import check_device, torch_device

        try:
            if check_device(value) != "cpu":
                torch_device(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        return value

    option = click.option("--device", metavar="DEVICE", default="cpu", show_default=True, callback=check,
                          help="Where the networks run: cpu, cuda, cuda:N, or auto (CUDA when torch sees one). "
                               "Files and pixels can differ from the CPU's by float rounding.")  # fmt: skip
    return option(func)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so temporary files are removed on the way out."""
    raise KeyboardInterrupt


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


class _Main(click.Group):
    """The top-level group; `manifolds` (its hub and manifest code: ~50 ms of imports) loads only when named."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "manifolds"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "manifolds":
            from ncodec.cli_manifolds import manifolds

            return manifolds
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ncodec")
def main() -> None:
    """Generative image and video compression: a tiny latent code decoded by a cached GAN manifold.

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
@click.option(
    "-m",
    "--manifold",
    metavar="ID",
    default=None,
    help="Manifold id, or 'auto': try every local manifold, keep the closest per image. Default: the bundled default "
    "(video: the video manifold).",
)
@click.option(
    "-e",
    "--effort",
    type=click.IntRange(0, 3),
    default=1,
    show_default=True,
    help="0 = encoder only (fastest); 1-3 = more latent refinement steps (slower, lower distortion); "
    "clips: keyframes refined against every frame, so encoding is no faster than with -k 1.",
)
@click.option(
    "--video",
    is_flag=True,
    help="Code IN as a clip (implied for video files, .npy and folders; an animated GIF is otherwise its first frame).",
)
@click.option(
    "-k",
    "--keyframe-interval",
    type=click.IntRange(1),
    help="Video: code every N-th frame (and the last), interpolate the rest. [default: 4]",
)
@click.option("--huffman", is_flag=True, help="Video: Huffman-code the keyframe index differences (smaller; a damaged file is refused).")
@click.option(
    "--fps",
    type=NumberRange(min=1 / 1000, max=MAX_FPS_TERM),
    help="Video: frame rate to record (default: the clip's, else 25).",
)
@click.option("--offline", is_flag=True, help="Never download a manifold (same as HF_HUB_OFFLINE=1).")
@click.option("--robust", is_flag=True, help="Protect the header with Reed-Solomon (+25 bytes at 64x64) for noisy channels.")
@click.option("-f", "--force", is_flag=True, help="Overwrite existing output files.")
@_device_option
@reporting
def encode(
    inputs: tuple[str, ...],
    output: str | None,
    bits: int,
    manifold: str | None,
    effort: int,
    video: bool,
    keyframe_interval: int | None,
    huffman: bool,
    fps: float | None,
    offline: bool,
    robust: bool,
    force: bool,
    device: str,
    quiet: bool,
) -> None:
    """Compress images or clips IN... ('-' = stdin) to .ncz files.

    Any image size and mode (gray, RGBA, palette, 16-bit) is accepted; the original size and
    channel count are restored on decode. Alpha is not coded (decoded as opaque).
    Clips: video files (.mp4, .mkv, .mov, .avi, .webm; the [video] extra), animated GIF/WebP/PNG
    with --video, folders of frames, .npy arrays (T, H, W[, C]).
    With several inputs, a bad one is reported and skipped; the exit status is the first failure's.
    """
    from ncodec.cli_manifolds import announce_fetches
    from ncodec.clips import is_clip_path, read_clip
    from ncodec.codec import compress_batch
    from ncodec.format import read_ncz
    from ncodec.manifolds import DEFAULT_MANIFOLD
    from ncodec.video import DEFAULT_KEYFRAME_INTERVAL, DEFAULT_VIDEO_MANIFOLD, compress_video

    into_folder = cli_io.into_folder(inputs, output)
    claimed: dict[Path, str] = {}
    as_clip = video or keyframe_interval is not None or huffman

    def is_clip(source: str) -> bool:
        return as_clip or (source != cli_io.STDIO and is_clip_path(source))

    def prepare(source: str) -> tuple[str, Any]:
        """An image's output checked and its pixels read: all of coding it but the networks."""
        target = cli_io.target(source, output, into_folder, ".ncz")
        cli_io.check_target(source, target, force, claimed)
        if fps is not None:
            _warn(f"{source} is coded as an image: --fps applies to clips only")
        image = cli_io.open_image(cli_io.read_input(source), source)
        if getattr(image, "n_frames", 1) > 1:
            _warn(f"{source} has {image.n_frames} frames: its first is coded (--video codes them all)")
        return target, image

    def code(items: list[tuple[str, tuple[str, Any]]]) -> list[str]:
        """Prepared images through the networks together (refinement batches across them), then written."""
        with announce_fetches(quiet):
            images = [image for _, (_, image) in items]
            blobs = compress_batch(images, manifold=manifold or DEFAULT_MANIFOLD, bits=bits, effort=effort, robust=robust, device=device)
        summaries = []
        for (_, (target, _)), blob in zip(items, blobs, strict=True):
            cli_io.write_output(target, blob, make_folder=into_folder)
            parsed = read_ncz(blob)
            summaries.append(cli_io.summary(target, parsed.header, len(blob), parsed.payload_bits))
        return summaries

    def pixels(prepared: tuple[str, Any]) -> int:
        return int(prepared[1].width * prepared[1].height)

    def job(source: str) -> str:
        if not is_clip(source):
            return code([(source, prepare(source))])[0]
        target = cli_io.target(source, output, into_folder, ".ncz")
        cli_io.check_target(source, target, force, claimed)
        folder = source != cli_io.STDIO and Path(source).is_dir()
        clip = read_clip(Path(source), None if folder else cli_io.read_input(source))
        with announce_fetches(quiet), cli_io.progress(f"encoding {source}", len(clip.frames), quiet) as update:
            blob = compress_video(
                clip.frames,
                manifold=manifold or DEFAULT_VIDEO_MANIFOLD,
                keyframe_interval=keyframe_interval or DEFAULT_KEYFRAME_INTERVAL,
                bits=bits,
                huffman=huffman,
                fps=fps or clip.fps,
                effort=effort,
                robust=robust,
                progress=update,
                device=device,
            )
        cli_io.write_output(target, blob, make_folder=into_folder)
        parsed = read_ncz(blob)
        return cli_io.summary(target, parsed.header, len(blob), parsed.payload_bits)

    with _offline(offline):
        if len(inputs) > 1 and not any(map(is_clip, inputs)):
            cli_io.run_batched(inputs, quiet, prepare, code, ENCODE_BATCH, pixels, ENCODE_BATCH_PIXELS)
        else:
            cli_io.run_each(inputs, quiet, job)


@main.command()
@click.argument("inputs", metavar="IN...", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    metavar="OUT",
    help="Output image or clip, '-' for stdout (PNG, or GIF for a clip), or a folder (several inputs; one clip: its frames). "
    "Default: IN with suffix .png (a clip: .mp4).",
)
@click.option("-f", "--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--strict", is_flag=True, help="Refuse a file whose payload CRC fails instead of decoding it.")
@click.option(
    "--interpolation",
    type=click.Choice(["linear", "slerp"]),
    default="linear",
    show_default=True,
    help="Video: how frames between keyframes are made from the keyframes' latents.",
)
@click.option("--offline", is_flag=True, help="Never download a manifold (same as HF_HUB_OFFLINE=1).")
@_device_option
@reporting
def decode(
    inputs: tuple[str, ...],
    output: str | None,
    force: bool,
    strict: bool,
    interpolation: Interpolation,
    offline: bool,
    device: str,
    quiet: bool,
) -> None:
    """Decompress .ncz files IN... ('-' = stdin) to images or clips of the original size.

    Images take the output's format from its suffix (PNG, JPEG, WebP, ... as Pillow knows them);
    one that cannot hold alpha or 16 bits (JPEG) gets 8 bits without alpha (alpha is never coded).
    Clips: .mp4/.mkv/.mov (H.264, the [video] extra), .npy, a folder of PNG frames, or .gif, .webp,
    .png (animated). Video files keep the exact frame count and rate; .npy and folders keep the frames
    (25 fps on re-encoding unless --fps); GIF merges identical consecutive frames and rounds their
    timing to 10 ms, WebP/APNG to 1 ms (limits of those formats).
    """
    import warnings

    from ncodec.cli_manifolds import announce_fetches
    from ncodec.clips import CLIP_OUTPUT_SUFFIXES, clip_bytes, write_frames
    from ncodec.codec import PayloadDamagedWarning, decompress
    from ncodec.format import read_ncz
    from ncodec.video import decompress_video

    into_folder = cli_io.into_folder(inputs, output)
    claimed: dict[Path, str] = {}

    def job(source: str) -> str:
        data = cli_io.read_input(source)
        header = read_ncz(data).header
        clip = header.video is not None
        # One clip with -o DIR/ (or a name without suffix) becomes a folder of frames.
        one_clip_folder = clip and len(inputs) == 1 and output not in (None, cli_io.STDIO)
        frames_folder = one_clip_folder and (into_folder or not Path(str(output)).suffix)
        target = str(output) if frames_folder else cli_io.target(source, output, into_folder, ".mp4" if clip else ".png")
        if clip and not frames_folder and target != cli_io.STDIO and Path(target).suffix.lower() not in CLIP_OUTPUT_SUFFIXES:
            raise click.UsageError(f"cannot write a clip as {target!r}: use .gif, .webp, .png, .mp4, .mkv, .mov, .npy or a folder")
        fmt = None if clip else cli_io.image_format(target)
        cli_io.check_target(source, target, force, claimed)
        with announce_fetches(quiet), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PayloadDamagedWarning)
            if header.video is not None:
                with cli_io.progress(f"decoding {source}", header.video.frames, quiet) as update:
                    pixels = decompress_video(data, interpolation=interpolation, strict=strict, progress=update, device=device)
                fps = Fraction(header.video.fps_num, header.video.fps_den)
            else:
                if click.get_current_context().get_parameter_source("interpolation") != click.core.ParameterSource.DEFAULT:
                    _warn(f"{source} is an image: --interpolation applies to clips only")
                pixels = decompress(data, strict=strict, device=device)
        for w in caught:
            _warn(f"{source}: {w.message}")
        if fmt is not None:
            cli_io.write_output(target, cli_io.image_bytes(pixels, fmt), make_folder=into_folder)
            return f"{target}: {pixels.shape[1]}x{pixels.shape[0]} {fmt}"
        if frames_folder:
            write_frames(Path(target), pixels)
        else:
            suffix = ".gif" if target == cli_io.STDIO else Path(target).suffix.lower()
            cli_io.write_output(target, clip_bytes(suffix, pixels, fps), make_folder=into_folder)
        return f"{target}: {len(pixels)} frames of {pixels.shape[2]}x{pixels.shape[1]} at {float(fps):g} fps"

    with _offline(offline):
        cli_io.run_each(inputs, quiet, job)


@main.command()
@click.argument("input", metavar="IN")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as one JSON object.")
@reporting
def info(input: str, as_json: bool, quiet: bool) -> None:
    """Print the header fields of the .ncz file IN, payload bits and file size."""
    from ncodec.format import read_ncz

    with cli_io.about(input):
        f = read_ncz(cli_io.read_input(input))
    fields = f.header.fields() | {"payload_bits": f.payload_bits, "payload_ok": f.payload_ok, "file_bytes": f.file_bytes}
    if as_json:
        click.echo(json.dumps(fields))
    else:
        for key, value in fields.items():
            click.echo(f"{key:18} {value}")


class OneLineErrorGroup(click.Group):
    """A group whose commands end bad input (NczError, ValueError, OSError) as one line and its exit status.

    The train and eval commands raise plain ValueErrors for wrong data or options; Ctrl-C ends with 130.
    NCODEC_DEBUG=1 adds the traceback (these groups have no --debug option of their own).
    """

    def invoke(self, ctx: click.Context) -> Any:
        import os

        debug = bool(os.environ.get("NCODEC_DEBUG"))
        try:
            return super().invoke(ctx)
        except (NczError, ValueError, OSError) as exc:
            _fail(f"error: {cli_io.error_text(exc)}", exc, debug)
        except KeyboardInterrupt as exc:
            _fail("interrupted", exc, debug)


class _LazyGroup(OneLineErrorGroup):
    """A command group whose subcommands load from ``module`` only when used (torch, optional extras).

    Click runs the loaded subcommand through this group, so its errors are reported here.
    """

    module = ""
    attr = ""
    extra = ""

    def _real(self) -> click.Group:
        import importlib

        try:
            group: click.Group = getattr(importlib.import_module(self.module), self.attr)
        except ImportError as exc:
            raise click.ClickException(
                f"`ncodec {self.name}` needs the [{self.extra}] extra: pip install 'ncodec[{self.extra}]' ({exc})"
            ) from None
        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


class _TrainGroup(_LazyGroup):
    module, attr, extra = "ncodec.train.cli", "train", "train"


class _EvalGroup(_LazyGroup):
    module, attr, extra = "ncodec.eval.cli", "eval_group", "eval"


@main.group(cls=_TrainGroup)
def train() -> None:
    """Train your own manifold: a GAN decoder, then an encoder (needs the [train] extra)."""


@main.group(cls=_EvalGroup, name="eval")
def eval_() -> None:
    """Reproduce the evaluation tables: rate-distortion, classifier accuracy, bit errors, degradation (needs the [eval] extra)."""
