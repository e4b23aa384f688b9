"""Pillow plugin, torch tensors in and out, and the output= choices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ncodec

DATA = Path(__file__).parent / "data"
TINY = "tiny-rgb"


@pytest.mark.parametrize(("name", "size", "mode"), [("image_rgb64", (64, 64), "RGB"), ("image_gray16", (17, 5), "I;16")])
def test_image_open_on_golden_files_reads_header_lazily(name: str, size: tuple[int, int], mode: str) -> None:
    expected = json.loads((DATA / f"{name}.json").read_text())["fields"]
    with Image.open(DATA / f"{name}.ncz") as im:
        assert im.format == "NCZ" and im.size == size and im.mode == mode
        assert im.info["manifold"] == expected["manifold"]
        assert (im.info["latent_dim"], im.info["bits"], im.info["payload_bits"]) == (
            expected["latent_dim"],
            expected["bits"],
            expected["payload_bits"],
        )


def test_golden_video_opens_as_multi_frame() -> None:
    with Image.open(DATA / "video_fixed.ncz") as im:
        assert im.n_frames == 10 and im.is_animated
        im.seek(9)
        assert im.tell() == 9
        with pytest.raises(EOFError):
            im.seek(10)


def test_save_then_open_round_trip(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "x.ncz"
    Image.fromarray(photo).save(path, bits=4, manifold=TINY, effort=0)
    assert path.read_bytes() == ncodec.compress(photo, manifold=TINY, bits=4, effort=0)
    with Image.open(path) as im:
        assert im.info["bits"] == 4 and im.size == (40, 24)
        pixels = np.asarray(im)
    assert np.array_equal(pixels, ncodec.decompress(path.read_bytes()))


def test_save_all_writes_a_video_that_opens_frame_by_frame(tmp_path: Path, photo: np.ndarray) -> None:
    frames = [Image.fromarray(np.roll(photo, 3 * t, axis=1)) for t in range(5)]
    path = tmp_path / "clip.ncz"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=40, manifold=TINY, effort=0, keyframe_interval=2)
    expected = ncodec.decompress_video(path.read_bytes())
    with Image.open(path) as im:
        assert im.n_frames == 5 and im.info["duration"] == 40
        im.seek(3)
        assert np.array_equal(np.asarray(im), expected[3])


def test_gray_and_alpha_modes_open_as_l_and_rgba(tmp_path: Path, photo: np.ndarray) -> None:
    for mode in ("L", "RGBA"):
        path = tmp_path / f"{mode}.ncz"
        Image.fromarray(photo).convert(mode).save(path, manifold=TINY, effort=0)
        with Image.open(path) as im:
            assert im.mode == mode
            im.load()


def test_tensors_in_and_out(photo: np.ndarray) -> None:
    chw = torch.from_numpy(photo).permute(2, 0, 1)
    as_float = ncodec.compress(chw.float() / 255, manifold=TINY, effort=0)
    assert as_float == ncodec.compress(chw, manifold=TINY, effort=0) == ncodec.compress(photo, manifold=TINY, effort=0)
    out = ncodec.decompress(as_float, output="torch")
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == (3, 24, 40)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert torch.equal((out * 255).round().to(torch.uint8).permute(1, 2, 0), torch.from_numpy(ncodec.decompress(as_float)))
    gray = ncodec.decompress(ncodec.compress(chw[0], manifold=TINY, effort=0), output="torch")
    assert gray.shape == (1, 24, 40)


def test_batches_of_arrays_and_tensors(photo: np.ndarray) -> None:
    stack = np.stack([photo, photo[::-1]])
    blobs = ncodec.compress_batch(stack, manifold=TINY, effort=0)
    assert blobs == ncodec.compress_batch(torch.from_numpy(stack).permute(0, 3, 1, 2), manifold=TINY, effort=0)
    pils = ncodec.decompress_batch(blobs, output="pil")
    assert [p.size for p in pils] == [(40, 24)] * 2 and pils[0].mode == "RGB"
    with pytest.raises(ncodec.InvalidImageError, match="tensor of shape"):
        ncodec.compress(torch.zeros(1, 3, 8, 8), manifold=TINY)
    with pytest.raises(ValueError, match="output"):
        ncodec.decompress(blobs[0], output="tiff")  # type: ignore[arg-type]
