"""A wheel installed in a fresh virtual environment, with HF_HUB_OFFLINE=1, encodes and decodes
with the bundled default manifold, and lists every shipped manifold with its state.

The wheel is built from a copy of the source tree. Until the trained faces64-z100 weights are
in ncodec/weights/, the copy gets a tiny random manifold under that id, pinned with
tools/update_manifest.py as a maintainer would; once they are there, the real ones are used.
Dependencies (torch, ...) come from the running environment through a .pth line, so nothing is
downloaded and only the wheel's own ncodec is importable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, make_manifold
from PIL import Image

from ncodec import manifest
from ncodec.manifolds import DEFAULT_MANIFOLD

ROOT = Path(__file__).parent.parent


def run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def test_fresh_offline_install_codes_with_the_bundled_default(tmp_path: Path, photo: np.ndarray) -> None:
    if int(version("setuptools").split(".")[0]) < 77:  # the [test] extra brings a newer one
        pytest.skip("building the wheel offline needs setuptools >= 77 (PEP 639 licence field)")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copytree(ROOT / "ncodec", src / "ncodec", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tools", src / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    bundled = src / "ncodec" / "weights" / DEFAULT_MANIFOLD
    if not (bundled / "manifold.json").exists():
        make_manifold(bundled.parent, replace(TINY, id=DEFAULT_MANIFOLD))
    run([sys.executable, "tools/update_manifest.py", DEFAULT_MANIFOLD], cwd=src, env=os.environ | {"PYTHONPATH": str(src)})
    assert manifest.load(src / "ncodec" / "weights_manifest.json")[DEFAULT_MANIFOLD].status == "available"

    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", tmp_path / "dist", src])
    (wheel,) = (tmp_path / "dist").glob("ncodec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"ncodec/weights_manifest.json", f"ncodec/weights/{DEFAULT_MANIFOLD}/decoder.safetensors"} <= names

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel])
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    borrowed = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    Path(site, "borrowed_dependencies.pth").write_text("".join(p + "\n" for p in borrowed))

    work, hf_home = tmp_path / "work", tmp_path / "hf-home"
    work.mkdir()
    Image.fromarray(photo).save(work / "photo.png")
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(hf_home),
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "NCODEC_MANIFEST": str(tmp_path / "no-user-manifest.json"),
        "OMP_NUM_THREADS": "1",
    }
    where = run([python, "-c", "import ncodec; print(ncodec.__file__)"], cwd=work, env=env).stdout
    assert where.startswith(str(venv)), where
    run(["ncodec", "encode", "photo.png", "-o", "photo.ncz", "-e", "0"], cwd=work, env=env)
    run(["ncodec", "decode", "photo.ncz", "-o", "back.png"], cwd=work, env=env)
    assert Image.open(work / "back.png").size == (photo.shape[1], photo.shape[0])

    listing = run([python, "-c", "from ncodec.cli_manifolds import manifolds; manifolds(['list', '--json'])"], cwd=work, env=env)
    states = {row["id"]: row["state"] for row in map(json.loads, listing.stdout.splitlines())}
    expected = {k: "bundled" if k == DEFAULT_MANIFOLD else "planned" if e.planned else "bundled" if e.bundled else "remote"
                for k, e in manifest.packaged().items()}  # fmt: skip
    assert states == expected
    assert not (hf_home / "hub").exists()  # nothing was fetched or cached
