"""Training commands on a toy set: a loadable manifold, exact resume, bf16, and 2-process (gloo) training under torchrun."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from ncodec.manifolds import PATH_ENV
from ncodec.train.cli import train

TOY = ["--id", "toy-z12", "--image-size", "16", "--latent-dim", "12", "--width", "8", "--batch-size", "8", "--threads", "1"]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """32 small images: coloured blobs at random places."""
    folder = tmp_path_factory.mktemp("toy-images")
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:20, 0:20]
    for i in range(32):
        cy, cx = rng.uniform(5, 15, 2)
        blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 20)[..., None] * rng.uniform(60, 255, 3)
        Image.fromarray(blob.astype(np.uint8)).save(folder / f"{i}.png")
    return folder


def _run(*args: str | Path) -> None:
    result = CliRunner().invoke(train, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def test_manifold_command_writes_a_loadable_manifold(tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run("manifold", "--data", images, "--out", tmp_path, *TOY, "--epochs", "2", "--encoder-epochs", "2")
    folder = tmp_path / "manifolds" / "toy-z12"
    assert sorted(p.name for p in folder.iterdir()) == ["decoder.safetensors", "encoder.safetensors", "manifold.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o666 & ~umask}  # readable as open() would make them
    assert torch.load(tmp_path / "toy-z12" / "gan_ckpt.pt", weights_only=True)["step"] == 8  # 2 epochs of 32/8 steps
    monkeypatch.setenv("NCODEC_MANIFOLD_PATH", str(tmp_path / "manifolds"))
    import ncodec

    photo = np.asarray(Image.open(next(images.iterdir())))
    assert ncodec.decompress(ncodec.compress(photo, manifold="toy-z12", effort=0)).shape == photo.shape


@pytest.mark.parametrize("zoom", ["1", "1.5"])
def test_resume_continues_exactly_where_it_stopped(tmp_path: Path, images: Path, zoom: str) -> None:
    whole, split = tmp_path / "whole", tmp_path / "split"
    toy = [*TOY, "--zoom", zoom]
    _run("gan", "--data", images, "--out", whole, *toy, "--epochs", "2")
    _run("gan", "--data", images, "--out", split, *toy, "--epochs", "1")
    _run("gan", "--data", images, "--out", split, *toy, "--epochs", "2", "--resume")
    a = torch.load(whole / "toy-z12" / "gan_ckpt.pt", weights_only=True)
    b = torch.load(split / "toy-z12" / "gan_ckpt.pt", weights_only=True)
    assert a["step"] == b["step"] == 8
    for key in ("gen", "disc"):
        for name, tensor in a[key].items():
            assert torch.equal(tensor, b[key][name]), f"{key}.{name}"


def test_zoom_reaches_both_stages_and_one_leaves_the_images_alone(tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ncodec.train import common

    calls: list[float] = []
    real_zoom = common.random_zoom

    def spy(x: torch.Tensor, max_zoom: float, generator: torch.Generator | None = None) -> torch.Tensor:
        calls.append(max_zoom)
        return real_zoom(x, max_zoom, generator)

    monkeypatch.setattr(common, "random_zoom", spy)
    _run("manifold", "--data", images, "--out", tmp_path / "off", *TOY, "--epochs", "1", "--encoder-epochs", "1")
    assert calls == []
    _run("manifold", "--data", images, "--out", tmp_path / "on", *TOY, "--epochs", "1", "--encoder-epochs", "1", "--zoom", "1.5")
    assert calls == [1.5] * 8  # 4 stage-1 steps, then 4 stage-2 steps, of 32 images in batches of 8


def test_random_zoom_enlarges_half_the_images_by_up_to_its_factor_inside_them() -> None:
    from ncodec.train.common import random_zoom

    ramp = torch.linspace(-1 + 1 / 32, 1 - 1 / 32, 32)  # left to right, so zooming scales its slope
    x = ramp.expand(400, 3, 32, 32).clone()
    y = random_zoom(x, 1.5, torch.Generator().manual_seed(0))
    same = (y == x).flatten(1).all(dim=1)
    assert 160 < int(same.sum()) < 240
    zoomed = y[~same][:, :, :, 4:-4]  # away from the border, where the bicubic kernel sees only the crop
    factor = (ramp[1] - ramp[0]) / zoomed.diff(dim=3).mean(dim=(1, 2, 3))
    assert factor.min() > 1.0 and factor.max() < 1.5 + 1e-4 and factor.max() > 1.4
    assert zoomed.diff(dim=3).min() > 0  # still rising left to right: not mirrored, folded or padded
    assert zoomed.min() >= ramp[0] - 1e-4 and zoomed.max() <= ramp[-1] + 1e-4  # a crop inside the image
    assert y.abs().max() <= 1.0


def test_two_processes_under_torchrun_train_in_step(tmp_path: Path, images: Path) -> None:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "ncodec.train.cli"]
    done = subprocess.run(
        [*command, "manifold", "--data", str(images), "--out", str(tmp_path), *TOY, "--epochs", "1", "--encoder-epochs", "1",
         "--device", "cpu"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es) on cpu" in done.stderr
    assert "gan: 4 steps (1.00 epochs)" in done.stdout and "encoder: 4 steps" in done.stdout  # global batch of 8: 32/8 steps
    assert "2 process(es)" in done.stdout
    assert (tmp_path / "manifolds" / "toy-z12" / "decoder.safetensors").is_file()
    state = torch.load(tmp_path / "toy-z12" / "gan_ckpt.pt", weights_only=True)
    assert len(state["rngs"]) == 2 and not torch.equal(state["rngs"][0], state["rngs"][1])


def test_encoder_against_an_existing_decoder_keeps_its_files_decodable(
    tmp_path: Path, images: Path, photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`train encoder --decoder ID` ships a new (here wider) encoder beside the very same decoder bytes."""
    import ncodec
    from ncodec.manifolds import open_manifold

    old = ncodec.compress(photo, manifold="tiny-rgb", effort=0)
    decoded_before = ncodec.decompress(old)
    _run("encoder", "--data", images, "--out", tmp_path, "--id", "tiny-rgb", "--decoder", "tiny-rgb", "--encoder-width", "12",
         "--batch-size", "8", "--threads", "1", "--epochs", "1", "--perceptual-weight", "0")  # fmt: skip
    folder = tmp_path / "manifolds" / "tiny-rgb"
    source = open_manifold("tiny-rgb").folder
    assert (folder / "decoder.safetensors").read_bytes() == (source / "decoder.safetensors").read_bytes()
    config = json.loads((folder / "manifold.json").read_text())
    assert (config["encoder_width"], config["width"], config["latent_dim"]) == (12, 8, 12)  # the decoder's architecture
    assert torch.load(tmp_path / "tiny-rgb" / "encoder_ckpt.pt", weights_only=True)["step"] == 4
    monkeypatch.setenv(PATH_ENV, str(tmp_path / "manifolds"))
    assert open_manifold("tiny-rgb").folder == folder
    encoder = open_manifold("tiny-rgb", need_encoder=True).encoder()
    assert [encoder.trunk.body[i].out_channels for i in (0, 2)] == [12, 24]  # 16x16 -> 8x8 -> 4x4 at base width 12
    assert np.array_equal(ncodec.decompress(old), decoded_before)
    assert ncodec.decompress(ncodec.compress(photo, manifold="tiny-rgb", effort=0)).shape == photo.shape


def test_init_starts_stage_one_from_an_existing_manifold(tmp_path: Path, images: Path) -> None:
    """`--init ID`: that manifold's architecture, its decoder (and encoder, with the term) as the first weights."""
    from ncodec.manifolds import open_manifold

    source = open_manifold("tiny-rgb", need_encoder=True)
    args = ("gan", "--data", images, "--out", tmp_path, "--id", "tiny-more", "--init", "tiny-rgb", "--latent-dim", "50",
            "--batch-size", "8", "--threads", "1", "--recon-weight", "10", "--seed", "3")  # fmt: skip
    _run(*args, "--epochs", "0")
    state = torch.load(tmp_path / "tiny-more" / "gan_ckpt.pt", weights_only=True)
    assert state["step"] == 0 and json.loads(state["config"])["latent_dim"] == 12  # tiny-rgb's, not --latent-dim
    for role, key in (("decoder", "gen"), ("encoder", "enc")):
        assert all(torch.equal(state[key][name], tensor) for name, tensor in source.weights(role).items()), role
    _run(*args, "--epochs", "1", "--resume")  # the checkpoint, not the manifold, is where a resumed run goes on from
    state = torch.load(tmp_path / "tiny-more" / "gan_ckpt.pt", weights_only=True)
    first, trained = source.weights("decoder")["body.0.weight"], state["gen"]["body.0.weight"]
    assert state["step"] == 4 and torch.allclose(first, trained, atol=0.05) and not torch.equal(first, trained)


def test_lr_sets_the_rate_of_every_stage_one_optimiser(tmp_path: Path, images: Path) -> None:
    _run("gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "1", "--recon-weight", "10", "--lr", "5e-5")
    state = torch.load(tmp_path / "toy-z12" / "gan_ckpt.pt", weights_only=True)
    assert [group["lr"] for key in ("opt_g", "opt_d", "opt_e") for group in state[key]["param_groups"]] == [5e-5] * 3


def test_init_with_a_larger_width_widens_the_decoder_and_keeps_the_encoder(tmp_path: Path, images: Path) -> None:
    from ncodec.manifolds import open_manifold
    from ncodec.train.widen import widen_generator

    source = open_manifold("tiny-rgb", need_encoder=True)
    args = ["gan", "--data", images, "--out", tmp_path, "--id", "tiny-w12", "--init", "tiny-rgb", "--width", "12",
            "--batch-size", "8", "--threads", "1", "--recon-weight", "10", "--epochs", "0", "--seed", "5"]  # fmt: skip
    _run(*args)
    state = torch.load(tmp_path / "tiny-w12" / "gan_ckpt.pt", weights_only=True)
    config = json.loads(state["config"])
    assert (config["width"], config["encoder_width"]) == (12, 8)
    wide = widen_generator(source.weights("decoder"), source.config, replace(source.config, width=12), seed=5)
    assert all(torch.equal(state["gen"][name], tensor) for name, tensor in wide.items())
    assert all(torch.equal(state["enc"][name], tensor) for name, tensor in source.weights("encoder").items())
    code, err = _ncodec("train", *map(str, args[:-4]), "--width", "6", "--epochs", "0")
    assert code == 2 and "--width 6 is below tiny-rgb's 8: a decoder can be widened, not narrowed" in err


def test_init_with_a_larger_encoder_width_widens_the_encoder_and_a_smaller_one_starts_it_fresh(tmp_path: Path, images: Path) -> None:
    from ncodec.manifolds import open_manifold
    from ncodec.train.widen import widen_encoder

    source = open_manifold("tiny-rgb", need_encoder=True)
    args = ["gan", "--data", images, "--out", tmp_path, "--id", "tiny-wide", "--init", "tiny-rgb", "--batch-size", "8",
            "--threads", "1", "--recon-weight", "10", "--epochs", "0", "--seed", "4"]  # fmt: skip
    _run(*args, "--encoder-width", "16")
    state = torch.load(tmp_path / "tiny-wide" / "gan_ckpt.pt", weights_only=True)
    assert all(torch.equal(state["gen"][name], tensor) for name, tensor in source.weights("decoder").items())
    wide = widen_encoder(source.weights("encoder"), source.config, 16, seed=4)
    assert all(torch.equal(state["enc"][name], tensor) for name, tensor in wide.items())
    result = CliRunner().invoke(train, [str(a) for a in args] + ["--encoder-width", "4", "--force"])
    assert result.exit_code == 0, result.output
    assert "warning: --encoder-width 4 is below tiny-rgb's 8: the encoder starts from random weights" in result.output
    state = torch.load(tmp_path / "tiny-wide" / "gan_ckpt.pt", weights_only=True)
    assert state["enc"]["head.weight"].shape == (12, 4 * 2 * 16)  # a fresh encoder of base width 4


def test_encoder_init_starts_stage_two_from_a_manifolds_encoder_widened(tmp_path: Path, images: Path) -> None:
    """`train encoder --decoder ID --init ID --encoder-width W`: a wider encoder that starts from what the narrow one learned."""
    from ncodec.manifolds import open_manifold
    from ncodec.train.widen import widen_encoder

    source = open_manifold("tiny-rgb", need_encoder=True)
    args = ["encoder", "--data", images, "--out", tmp_path, "--id", "tiny-enc", "--decoder", "tiny-rgb", "--batch-size", "8",
            "--threads", "1", "--perceptual-weight", "0", "--epochs", "0", "--seed", "2"]  # fmt: skip
    _run(*args, "--init", "tiny-rgb", "--encoder-width", "12")
    state = torch.load(tmp_path / "tiny-enc" / "encoder_ckpt.pt", weights_only=True)["encoder"]
    wide = widen_encoder(source.weights("encoder"), source.config, 12, seed=2)
    assert all(torch.equal(state[name], tensor) for name, tensor in wide.items())
    _run(*args, "--init", "tiny-rgb", "--force")  # without --encoder-width: its width, its very weights
    state = torch.load(tmp_path / "tiny-enc" / "encoder_ckpt.pt", weights_only=True)["encoder"]
    assert all(torch.equal(state[name], tensor) for name, tensor in source.weights("encoder").items())
    code, err = _ncodec("train", *map(str, args), "--init", "tiny-rgb", "--encoder-width", "6", "--force")
    assert code == 2 and "--encoder-width 6 is below tiny-rgb's 8: an encoder can be widened, not narrowed" in err
    code, err = _ncodec("train", *map(str, args), "--init", "tiny-gray", "--force")
    assert code == 2 and "--init tiny-gray codes 8x8x1 images in 6 numbers, the decoder 16x16x3 ones in 12" in err
    without_decoder = [a for a in map(str, args) if a not in ("--decoder", "tiny-rgb")]
    code, err = _ncodec("train", *without_decoder, "--init", "tiny-rgb")
    assert code == 2 and "--init needs --decoder" in err


def test_stage_one_with_a_reconstruction_term_hands_its_encoder_to_stage_two(tmp_path: Path, images: Path) -> None:
    _run("manifold", "--data", images, "--out", tmp_path, *TOY, "--epochs", "5", "--encoder-epochs", "1",
         "--recon-weight", "10", "--perceptual-weight", "0")  # fmt: skip
    gan = torch.load(tmp_path / "toy-z12" / "gan_ckpt.pt", weights_only=True)
    with (tmp_path / "toy-z12" / "gan_log.csv").open() as fh:
        assert [(int(row["step"]), float(row["recon"]) > 0) for row in csv.DictReader(fh)] == [(20, True)]  # a row per 20 steps
    encoder = torch.load(tmp_path / "toy-z12" / "encoder_ckpt.pt", weights_only=True)
    joint, tuned = gan["enc"]["trunk.body.0.weight"], encoder["encoder"]["trunk.body.0.weight"]
    assert torch.allclose(joint, tuned, atol=0.05) and not torch.equal(joint, tuned)  # 4 steps on from the joint encoder
    # A run trained with the term cannot be resumed without it (nor the other way round).
    result = CliRunner().invoke(train, [str(a) for a in ("gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "6", "--resume")])
    assert result.exit_code == 1 and "was trained with --recon-weight" in result.output and "Traceback" not in result.output


def test_a_zero_stage_two_budget_exports_the_stage_one_encoder_unchanged(tmp_path: Path, images: Path) -> None:
    from safetensors.torch import load_file

    _run("manifold", "--data", images, "--out", tmp_path, *TOY, "--epochs", "1", "--encoder-epochs", "0", "--recon-weight", "10")
    joint = torch.load(tmp_path / "toy-z12" / "gan_ckpt.pt", weights_only=True)["enc"]
    exported = load_file(tmp_path / "manifolds" / "toy-z12" / "encoder.safetensors")
    assert torch.load(tmp_path / "toy-z12" / "encoder_ckpt.pt", weights_only=True)["step"] == 0
    assert all(torch.equal(exported[k], v.half() if v.is_floating_point() else v) for k, v in joint.items())


def test_bf16_trains_the_same_networks_in_other_arithmetic_and_warns_on_emulating_cpus(
    tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ncodec.train.cli

    monkeypatch.setattr(ncodec.train.cli, "native_bf16", lambda: False)
    runs = {}
    for precision in ("fp32", "bf16"):
        args = ("manifold", "--data", images, "--out", tmp_path / precision, *TOY, "--epochs", "1", "--recon-weight", "10",
                "--encoder-epochs", "1", "--encoder-lr", "2e-4", "--perceptual-weight", "0")  # fmt: skip
        result = CliRunner().invoke(train, [*map(str, args), "--precision", precision])
        assert result.exit_code == 0, result.output
        assert ("no native bf16" in result.output) == (precision == "bf16")
        runs[precision] = torch.load(tmp_path / precision / "toy-z12" / "gan_ckpt.pt", weights_only=True)
        runs[precision]["stage2"] = torch.load(tmp_path / precision / "toy-z12" / "encoder_ckpt.pt", weights_only=True)["encoder"]
    for key in ("gen", "disc", "enc", "stage2"):
        for name, a in runs["fp32"][key].items():
            b = runs["bf16"][key][name]
            # One init, then 4 Adam steps of 2e-4 per stage, each moving a weight by about the rate at most.
            assert b.dtype == a.dtype and torch.allclose(a.float(), b.float(), atol=4e-3), f"{key}.{name}"
    weight = "trunk.body.0.weight"
    for key in ("enc", "stage2"):
        assert not torch.equal(runs["fp32"][key][weight], runs["bf16"][key][weight]), key  # bf16 did round differently


def test_native_bf16_reads_the_cpu_flags(tmp_path: Path) -> None:
    from ncodec.train.common import native_bf16

    info = tmp_path / "cpuinfo"
    info.write_text("flags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n")
    assert native_bf16(info) is True
    info.write_text("flags\t\t: fpu sse2 avx2 fma\n")
    assert native_bf16(info) is False
    assert native_bf16(tmp_path / "missing") is None


def _ncodec(*args: str | Path) -> tuple[int, str]:
    """Through the `ncodec` command, whose lazy `train`/`eval` groups report the errors."""
    from ncodec.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"--data": "EMPTY"}, 1, "no image files"),
        ({"--latent-dim": "0"}, 2, "--latent-dim"),
        ({"--epochs": "nan"}, 2, "nan is not a number"),
        ({"--epochs": "-1"}, 2, "--epochs"),
        ({"--batch-size": "64"}, 2, "32 training images are fewer than one batch of 64"),
        ({"--image-size": "24"}, 1, "power of two"),
        ({"--threads": "0"}, 2, "--threads"),
        ({"--zoom": "0.5"}, 2, "--zoom"),
        ({"--lr": "0"}, 2, "--lr"),
        ({"--init": "nowhere-z100"}, 3, "manifold 'nowhere-z100' not found"),
    ],
)
def test_bad_training_input_is_one_line_with_its_exit_status(
    tmp_path: Path, images: Path, change: dict[str, str], status: int, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    options = dict(zip(TOY[::2], TOY[1::2], strict=True)) | {"--data": str(images), "--epochs": "1", "--out": str(tmp_path)}
    options |= {k: str(tmp_path / "empty") if v == "EMPTY" else v for k, v in change.items()}
    code, err = _ncodec("train", "gan", *[x for pair in options.items() for x in pair])
    assert code == status and message in err and "Traceback" not in err, err
    assert not (tmp_path / "toy-z12" / "gan_ckpt.pt").exists()


def test_eval_of_an_unknown_manifold_is_one_line_and_exit_3(tmp_path: Path) -> None:
    code, err = _ncodec("eval", "samples", "-m", "nowhere-z100", "-o", tmp_path / "s.png")
    assert code == 3 and err.count("\n") == 1 and "nowhere-z100" in err and "Traceback" not in err


def test_a_run_folder_is_started_over_only_with_force_and_resumed_only_as_it_was_built(tmp_path: Path, images: Path) -> None:
    _run("gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "1")
    first = (tmp_path / "toy-z12" / "gan_ckpt.pt").read_bytes()
    code, err = _ncodec("train", "gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "1", "--seed", "1")
    assert code == 1 and "already holds a run" in err and (tmp_path / "toy-z12" / "gan_ckpt.pt").read_bytes() == first
    code, err = _ncodec("train", "gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "2", "--width", "16", "--resume")
    assert code == 1 and "was trained with width 8 (now 16)" in err and "Traceback" not in err
    _run("gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "1", "--seed", "1", "--force")
    assert (tmp_path / "toy-z12" / "gan_ckpt.pt").read_bytes() != first
    code, err = _ncodec("train", "gan", "--data", images, "--out", tmp_path / "typo", *TOY, "--epochs", "1", "--resume")
    assert code == 0 and "no checkpoint" in err and "starting a fresh run" in err


def test_an_interrupt_saves_a_checkpoint_to_resume_from(tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ncodec.train.gan

    calls = []
    real_update = ncodec.train.gan.update_ema

    def interrupted_third_step(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_update(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ncodec.train.gan, "update_ema", interrupted_third_step)
    code, err = _ncodec("train", "gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "1")
    assert code == 130 and "checkpoint saved" in err and "interrupted" in err
    assert torch.load(tmp_path / "toy-z12" / "gan_ckpt.pt", weights_only=True)["step"] == 2  # mid-epoch: steps 1-2 done
    monkeypatch.setattr(ncodec.train.gan, "update_ema", real_update)
    _run("gan", "--data", images, "--out", tmp_path, *TOY, "--epochs", "1", "--resume")
    assert torch.load(tmp_path / "toy-z12" / "gan_ckpt.pt", weights_only=True)["step"] == 4


def test_files_that_are_not_npz_archives_are_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "garbage.npz").write_bytes(bytes(range(256)))
    np.save(tmp_path / "single.npy", np.zeros(3))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    for name, message in [("garbage.npz", "not an .npz archive"), ("single.npz", "a single array, not an .npz archive")]:
        code, err = _ncodec("train", "gan", "--data", tmp_path / name, "--out", tmp_path, *TOY, "--epochs", "1")
        assert code == 1 and f"{name}: {message}" in err and "pickle" not in err, err


def test_training_under_a_packaged_id_says_what_that_means(tmp_path: Path, images: Path) -> None:
    from ncodec.manifolds import DEFAULT_MANIFOLD

    code, err = _ncodec("train", "gan", "--data", images, "--out", tmp_path, *TOY[2:], "--id", DEFAULT_MANIFOLD, "--epochs", "1")
    assert code == 0 and f"note: {DEFAULT_MANIFOLD} is a packaged manifold id" in err


def test_ncodec_debug_adds_the_traceback_to_a_training_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    args = ("train", "gan", "--data", tmp_path / "empty", "--out", tmp_path, *TOY, "--epochs", "1")
    assert "Traceback" not in _ncodec(*args)[1]
    monkeypatch.setenv("NCODEC_DEBUG", "1")
    code, err = _ncodec(*args)
    assert code == 1 and "Traceback" in err and err.rstrip().endswith("no image files")


def test_images_smaller_than_the_training_size_are_counted_for_a_warning(tmp_path: Path, images: Path) -> None:
    from ncodec.train.data import load_images

    rng = np.random.default_rng(1)
    np.savez(tmp_path / "mixed.npz", images=rng.integers(0, 256, (3, 12, 12, 3), dtype=np.uint8))
    said: list[str] = []
    loaded = load_images([images, tmp_path / "mixed.npz"], 16, warn=said.append)
    assert loaded.shape == (35, 16, 16, 3)
    assert said == ["3 of 35 images are smaller than 16x16 and were upscaled to it: a manifold trained on them learns their blur"]
    said.clear()
    assert load_images([images], 16, warn=said.append).shape == (32, 16, 16, 3) and said == []  # 20x20 images: cropped down only
