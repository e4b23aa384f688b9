"""The image pipeline on tiny random manifolds: shapes, modes, exact indices, effort."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ncodec
from ncodec.format import read_ncz, write_ncz
from ncodec.images import normalize, restore, to_native

TINY = "tiny-rgb"


def roundtrip(image: object, **kw: object) -> tuple[bytes, np.ndarray]:
    blob = ncodec.compress(image, manifold=TINY, **kw)
    return blob, ncodec.decompress(blob)


@pytest.mark.parametrize("bits", [1, 2, 4, 5, 8])
def test_file_size_is_header_plus_packed_payload(photo: np.ndarray, bits: int) -> None:
    blob = ncodec.compress(photo, manifold=TINY, bits=bits, effort=0)
    parsed = read_ncz(blob)
    assert len(blob) == parsed.header.fields()["header_bytes"] + (12 * bits + 7) // 8
    assert parsed.payload_bits == 12 * bits


def test_indices_survive_the_file_bit_exactly(photo: np.ndarray) -> None:
    from ncodec.latent import encode_latents
    from ncodec.manifolds import open_manifold

    m = open_manifold(TINY)
    native = to_native(normalize(photo)[0], 16, 3)[None]
    expected = encode_latents(m, native, 5, 0)[0]
    assert read_ncz(ncodec.compress(photo, manifold=TINY, effort=0)).indices[0].tolist() == expected.tolist()


def test_decode_is_deterministic_and_matches_its_latent(photo: np.ndarray) -> None:
    blob, out = roundtrip(photo, effort=0)
    assert np.array_equal(ncodec.decompress(blob), out)
    parsed = read_ncz(blob)
    other = write_ncz(parsed.header, (parsed.indices + 1) % 32)
    assert not np.array_equal(ncodec.decompress(other), out)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((24, 40, 3), np.uint8),
        ((24, 40), np.uint8),
        ((24, 40, 1), np.uint8),
        ((24, 40, 2), np.uint8),
        ((24, 40, 4), np.uint8),
        ((9, 7), np.uint16),
        ((5, 6, 3), np.uint16),
        ((1, 1, 3), np.uint8),
        ((1, 300), np.uint8),
    ],
)
def test_output_shape_and_dtype_equal_input(shape: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
    _, out = roundtrip(image, effort=0)
    assert out.shape == image.shape and out.dtype == image.dtype


def test_alpha_comes_back_opaque(photo: np.ndarray) -> None:
    rgba = np.concatenate([photo, np.zeros((*photo.shape[:2], 1), np.uint8)], axis=2)
    _, out = roundtrip(rgba, effort=0)
    assert (out[:, :, 3] == 255).all()


@pytest.mark.parametrize("mode", ["RGB", "L", "LA", "RGBA", "P", "CMYK", "I;16", "1"])
def test_pil_modes_round_trip_to_their_array_shape(photo: np.ndarray, mode: str) -> None:
    image = Image.fromarray(photo).convert("L" if mode == "I;16" else mode)
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image).astype(np.uint16) * 257)
    expected = {"RGB": 3, "L": None, "LA": 2, "RGBA": 4, "P": 3, "CMYK": 3, "I;16": None, "1": None}[mode]
    _, out = roundtrip(image, effort=0)
    assert out.shape == ((24, 40) if expected is None else (24, 40, expected))


def test_exif_rotation_is_applied() -> None:
    image = Image.new("RGB", (30, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif)
    _, out = roundtrip(Image.open(buf), effort=0)
    assert out.shape == (30, 10, 3)


def test_gray_manifold_codes_color_input(photo: np.ndarray) -> None:
    blob = ncodec.compress(photo, manifold="tiny-gray", bits=3, effort=0)
    out = ncodec.decompress(blob)
    assert out.shape == photo.shape
    assert np.array_equal(out[..., 0], out[..., 1])


def test_higher_effort_lowers_distortion() -> None:
    from ncodec.decoding import decode_latents
    from ncodec.manifolds import open_manifold

    # images the decoder can produce exactly, so the gap is the encoder's error, which refinement closes
    rng = np.random.default_rng(0)
    images = decode_latents(open_manifold(TINY), rng.integers(0, 256, (6, 12)).astype(np.uint8), 8)
    mse = {}
    for effort in (0, 2):
        out = ncodec.decompress_batch(ncodec.compress_batch(list(images), manifold=TINY, bits=5, effort=effort))
        mse[effort] = np.mean([(o.astype(float) - i.astype(float)) ** 2 for o, i in zip(out, images, strict=True)])
    assert mse[2] < 0.8 * mse[0]


def test_batch_equals_single(photo: np.ndarray) -> None:
    images = [photo, photo[::-1].copy(), photo[:, :17].copy()]
    blobs = ncodec.compress_batch(images, manifold=TINY, effort=1)
    assert blobs == [ncodec.compress(i, manifold=TINY, effort=1) for i in images]
    assert all(np.array_equal(a, ncodec.decompress(b)) for a, b in zip(ncodec.decompress_batch(blobs), blobs, strict=True))


def test_unknown_manifold_id(photo: np.ndarray) -> None:
    with pytest.raises(ncodec.ManifoldNotFoundError, match="no-such-manifold"):
        ncodec.compress(photo, manifold="no-such-manifold")
    blob = ncodec.compress(photo, manifold=TINY, effort=0)
    parsed = read_ncz(blob)
    renamed = write_ncz(dataclasses.replace(parsed.header, manifold_id="gone-z9"), parsed.indices)
    with pytest.raises(ncodec.ManifoldNotFoundError, match="gone-z9"):
        ncodec.decompress(renamed)


def test_fingerprint_mismatch_is_refused(photo: np.ndarray) -> None:
    parsed = read_ncz(ncodec.compress(photo, manifold=TINY, effort=0))
    other = write_ncz(dataclasses.replace(parsed.header, fingerprint=b"\xde\xad\xbe\xef"), parsed.indices)
    with pytest.raises(ncodec.ManifoldMismatchError, match="fingerprint"):
        ncodec.decompress(other)


def test_damaged_payload_decodes_with_a_warning_or_fails_when_strict(photo: np.ndarray) -> None:
    blob = bytearray(ncodec.compress(photo, manifold=TINY, effort=0))
    blob[-1] ^= 0x80
    with pytest.warns(ncodec.PayloadDamagedWarning):
        out = ncodec.decompress(bytes(blob))
    assert out.shape == photo.shape
    with pytest.raises(ncodec.IntegrityError, match="payload CRC"):
        ncodec.decompress(bytes(blob), strict=True)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((4, 4, 5), np.uint8), "shape"),
        (np.zeros((2, 3, 4, 4), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), r"empty image \(4x0\)"),
        (np.full((4, 4), np.nan), "NaN"),
        (np.full((4, 4), 2.0), r"\[0, 1\]"),
        (np.zeros((4, 4), np.int64), "pixel type"),
        ("not an image", "cannot encode"),
    ],
)
def test_bad_arrays_are_invalid_image_errors(bad: object, message: str) -> None:
    with pytest.raises(ncodec.InvalidImageError, match=message):
        ncodec.compress(bad, manifold=TINY)


def test_decoding_a_path_or_a_single_blob_as_a_batch_is_a_type_error(photo: np.ndarray) -> None:
    blob = ncodec.compress(photo, manifold=TINY, effort=0)
    with pytest.raises(TypeError, match="read_bytes"):
        ncodec.decompress("photo.ncz")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decompress"):
        ncodec.decompress_batch(blob)


def test_one_colour_image_given_as_a_batch_is_refused_not_coded_row_by_row(photo: np.ndarray) -> None:
    import torch

    with pytest.raises(ncodec.InvalidImageError, match=r"one \(H, W, C\) array of shape \(24, 40, 3\).*compress\(\)"):
        ncodec.compress_batch(photo, manifold=TINY)
    with pytest.raises(ncodec.InvalidImageError, match=r"one \(C, H, W\) tensor of shape \(3, 24, 40\)"):
        ncodec.compress_batch(torch.from_numpy(photo).permute(2, 0, 1), manifold=TINY)
    for one in (photo[..., :1], photo[..., :2], torch.zeros(2, 16, 16), Image.fromarray(photo)):
        with pytest.raises(ncodec.InvalidImageError, match="compress_batch got one"):
            ncodec.compress_batch(one, manifold=TINY)
    gray_batch = np.stack([photo[..., 0], photo[..., 1]])  # (N, H, W): a batch of gray images, as documented
    assert len(ncodec.compress_batch(gray_batch, manifold=TINY, effort=0)) == 2
    assert len(ncodec.compress_batch(photo[None], manifold=TINY, effort=0)) == 1


def test_bad_parameters(photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="bits"):
        ncodec.compress(photo, manifold=TINY, bits=0)
    with pytest.raises(ValueError, match="effort"):
        ncodec.compress(photo, manifold=TINY, effort=9)


def test_float_input_in_unit_range(photo: np.ndarray) -> None:
    _, out = roundtrip(photo / 255.0, effort=0)
    assert out.shape == photo.shape and out.dtype == np.uint8


def test_restore_inverts_normalize_for_exact_sizes() -> None:
    image = np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3)
    pixels, layout = normalize(image)
    assert np.array_equal(restore(to_native(pixels, 16, 3), layout), image)


def test_importing_ncodec_imports_neither_torch_nor_numpy_until_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ncodec, PIL.Image\n"
        "print('torch' in sys.modules, 'numpy' in sys.modules, PIL.Image.EXTENSION['.ncz'])\n"
        "ncodec.compress\n"
        "print('numpy' in sys.modules, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["False False NCZ", "True False"]


def test_ncodec_info_reads_a_fixed_width_file_without_numpy() -> None:
    import subprocess
    import sys

    golden = Path(__file__).parent / "data" / "image_rgb64.ncz"
    code = (f"import sys; from ncodec.cli import main\ntry: main([{'info'!r}, {str(golden)!r}])\n"
            "finally: print('numpy' in sys.modules, 'ncodec.cli_manifolds' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "payload_bits       500" in out and out.strip().endswith("False False")  # nor the manifolds CLI (~50 ms)


def test_a_file_of_other_decoder_weights_is_refused_before_torch_is_imported() -> None:
    import subprocess
    import sys

    golden = Path(__file__).parent / "data" / "image_rgb64.ncz"  # fingerprint 0badf00d: no local decoder has it
    code = (
        "import sys, ncodec\n"
        "try:\n"
        f"    ncodec.decompress(open({str(golden)!r}, 'rb').read())\n"
        "except ncodec.ManifoldMismatchError:\n"
        "    print('torch' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_refinement_never_imports_torch_dynamo() -> None:
    """torch.optim's first step imports torch._dynamo (seconds): refinement must not go through it."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, ncodec\n"
        f"ncodec.compress(np.full((8, 8, 3), 90, np.uint8), manifold={TINY!r}, effort=2)\n"
        "print('torch' in sys.modules, 'torch._dynamo' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True False"


def test_refinement_adam_takes_torch_adams_steps_exactly() -> None:
    import torch

    from ncodec.latent import _Adam

    target = torch.randn(5, 12, generator=torch.Generator().manual_seed(0))
    ours, theirs = torch.zeros(5, 12, requires_grad=True), torch.zeros(5, 12, requires_grad=True)
    adam, reference = _Adam(ours), torch.optim.Adam([theirs], lr=0.04)
    for step in range(20):
        lr = 0.04 * (1 - step / 20)
        for z in (ours, theirs):
            z.grad = None
            (z - target).pow(3).abs().sum().backward()
        adam.step(lr)
        reference.param_groups[0]["lr"] = lr
        reference.step()
        assert torch.equal(ours, theirs), step


def test_auto_keeps_the_closest_local_manifold_per_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import TINY, make_manifold

    from ncodec.codec import auto_candidates
    from ncodec.manifolds import PATH_ENV

    for seed, name in enumerate(("auto-a", "auto-b")):
        make_manifold(tmp_path, dataclasses.replace(TINY, id=name, trained=True), seed=seed)
    make_manifold(tmp_path, dataclasses.replace(TINY, id="auto-untrained"))  # never a candidate
    monkeypatch.setenv(PATH_ENV, str(tmp_path))
    candidates = auto_candidates()
    assert {"auto-a", "auto-b"} <= set(candidates) and "auto-untrained" not in candidates
    rng = np.random.default_rng(0)
    # Images each tiny manifold can make (its own decodings) are the ones it should win.
    seeds = [(rng.random((16, 16, 3)) * 255).astype(np.uint8) for _ in range(2)]
    images = [ncodec.decompress(ncodec.compress(x, manifold=m, effort=0)) for m in ("auto-a", "auto-b") for x in seeds]

    def error(blob: bytes, image: np.ndarray) -> float:
        return float(np.mean((ncodec.decompress(blob).astype(float) - image) ** 2))

    chosen = ncodec.compress_batch(images, manifold="auto", effort=0)
    for image, blob in zip(images, chosen, strict=True):
        each = {m: error(ncodec.compress(image, manifold=m, effort=0), image) for m in candidates}
        assert read_ncz(blob).header.manifold_id == min(each, key=each.__getitem__)
        assert error(blob, image) == min(each.values())
    assert len({read_ncz(b).header.manifold_id for b in chosen}) > 1  # the images do not all pick the same one
