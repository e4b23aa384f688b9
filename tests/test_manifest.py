"""weights_manifest.json: the shipped one against its JSON Schema and against the files it names;
the run-time checks agreeing with the schema; the maintainer's update script."""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import TINY, make_manifold

from ncodec import locate, manifest
from ncodec.digest import sha256_now
from ncodec.errors import ManifoldError
from ncodec.manifest import FILENAMES
from ncodec.manifold_config import ManifoldConfig
from ncodec.manifolds import DEFAULT_MANIFOLD

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads((ROOT / "docs" / "weights_manifest.schema.json").read_text())
sys.path.insert(0, str(ROOT / "tools"))
import update_manifest  # noqa: E402


def shipped() -> Any:
    return json.loads(manifest.PACKAGED.read_text())


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_shipped_manifest_matches_the_schema_and_the_runtime_checks() -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(shipped())
    entries = manifest.parse(shipped(), "shipped")
    assert DEFAULT_MANIFOLD in entries and entries[DEFAULT_MANIFOLD].bundled
    assert manifest.dumps(entries) == manifest.PACKAGED.read_text(), "write it with tools/update_manifest.py (stable formatting)"


def test_the_root_manifest_is_the_packaged_one() -> None:
    assert (ROOT / "weights_manifest.json").read_bytes() == manifest.PACKAGED.read_bytes()


def test_every_bundled_file_is_pinned_and_matches() -> None:
    """What the manifest says is bundled exists and hashes right; what is bundled is in the manifest."""
    pinned = {}
    for entry in manifest.packaged().values():
        if entry.bundled and not entry.planned:
            folder = locate.BUNDLED_DIR / entry.id
            for spec in entry.files.values():
                path = folder / spec.name
                assert path.is_file(), f"{path} is pinned as bundled but missing"
                pinned[path] = spec
    on_disk = {p for p in locate.BUNDLED_DIR.glob("*/*") if p.is_file()} if locate.BUNDLED_DIR.is_dir() else set()
    unpinned = sorted(str(p.relative_to(locate.BUNDLED_DIR)) for p in on_disk - set(pinned))
    assert not unpinned, f"bundled but not pinned: {unpinned}; run python tools/update_manifest.py"
    for path, spec in pinned.items():
        assert (path.stat().st_size, sha256_now(path).hex()) == (spec.size, spec.sha256), f"{path}: run python tools/update_manifest.py"
    for entry in manifest.packaged().values():
        if entry.bundled and not entry.planned:
            config = ManifoldConfig.load(locate.BUNDLED_DIR / entry.id)
            assert config.id == entry.id
            arch = (config.arch, config.image_size, config.channels, config.latent_dim, config.width)
            assert arch == (entry.arch, entry.image_size, entry.channels, entry.latent_dim, entry.width)


def test_every_shipped_manifold_can_be_had() -> None:
    for entry in manifest.packaged().values():
        assert entry.planned or entry.bundled or entry.published, f"{entry.id}: available, but neither bundled nor published"
        assert entry.planned or (entry.license and entry.training_data)
        if entry.published:
            assert entry.repo is not None and entry.repo.split("/")[1] == entry.id


def test_docs_give_each_shipped_manifold_its_command_and_data_terms() -> None:
    """docs/manifolds.md has a section per shipped manifold, with a terms row and a training command."""
    sections = (ROOT / "docs" / "manifolds.md").read_text().split("\n### `")[1:]
    documented = {section.split("`", 1)[0]: section for section in sections}
    for entry in manifest.packaged().values():
        if entry.planned:
            continue
        assert entry.id in documented, f"docs/manifolds.md has no section for {entry.id}"
        assert "\n| terms | " in documented[entry.id], f"docs/manifolds.md: {entry.id} has no terms row"
        assert "ncodec train " in documented[entry.id], f"docs/manifolds.md: {entry.id} has no training command"


def _valid() -> dict[str, Any]:
    entry = manifest.ManifestEntry(
        id="x-z12", status="available", description="", arch="dcgan", image_size=16, channels=3, latent_dim=12, width=8,
        training_data="t", license="l", bundled=False, repo="me/x-z12", revision="a" * 40,
        files={r: manifest.FileSpec(FILENAMES[r], "0" * 64, 10) for r in manifest.ROLES},
    )  # fmt: skip
    return {"schema_version": 1, "manifolds": {"x-z12": entry.to_json()}}


def _edit(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_valid())
    *parents, last = ["manifolds", "x-z12", *path.split(".")]
    node = data
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()
BAD = {
    "branch revision": _edit("hub.revision", "main"),
    "short revision": _edit("hub.revision", "abc123"),
    "revision without repo": _edit("hub.repo", None),
    "planned with files": _edit("status", "planned"),
    "available without encoder": _edit("files.encoder", _DELETE),
    "unknown file": _edit("files.weights", {"name": "w", "sha256": "0" * 64, "size": 1}),
    "wrong file name": _edit("files.decoder.name", "generator.safetensors"),
    "upper-case sha": _edit("files.decoder.sha256", "A" * 64),
    "bool size": _edit("files.decoder.size", True),
    "negative size": _edit("files.decoder.size", -1),
    "image size not a power of two": _edit("architecture.image_size", 48),
    "grey-alpha channels": _edit("architecture.channels", 2),
    "unknown arch": _edit("architecture.arch", "vae"),
    "zero encoder width": _edit("architecture.encoder_width", 0),
    "unknown architecture key": _edit("architecture.depth", 4),
    "unknown key": _edit("homepage", "https://example.org"),
    "missing licence": _edit("license", _DELETE),
    "bundled as string": _edit("bundled", "yes"),
    "bad id": {"schema_version": 1, "manifolds": {"Faces": _valid()["manifolds"]["x-z12"]}},
    "newer schema": {"schema_version": 2, "manifolds": {}},
}


def test_a_valid_manifest_passes_both_checks() -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(_valid())
    assert manifest.parse(_valid(), "test")["x-z12"].revision == "a" * 40
    planned = _edit("status", "planned")
    planned["manifolds"]["x-z12"].update(files={}, hub={"repo": "me/x-z12", "revision": None})
    jsonschema.Draft202012Validator(SCHEMA).validate(planned)
    assert manifest.parse(planned, "test")["x-z12"].planned
    wide = _edit("architecture.encoder_width", 16)  # an encoder wider than the decoder
    jsonschema.Draft202012Validator(SCHEMA).validate(wide)
    entry = manifest.parse(wide, "test")["x-z12"]
    assert (entry.width, entry.encoder_width) == (8, 16) and entry.to_json() == wide["manifolds"]["x-z12"]


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_schema_and_the_runtime_refuse_the_same_mistakes(case: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(BAD[case])
    with pytest.raises(ManifoldError):
        manifest.parse(BAD[case], "test")


def test_the_packaged_entry_wins_over_a_user_entry_of_the_same_id(tmp_path: Path) -> None:
    packaged = manifest.packaged()[DEFAULT_MANIFOLD]
    manifest.save(
        manifest.user_manifest_path(), {DEFAULT_MANIFOLD: replace(packaged, license="mine"), "x-z12": replace(packaged, id="x-z12")}
    )
    assert manifest.lookup(DEFAULT_MANIFOLD) == packaged
    assert manifest.lookup("x-z12") is not None
    assert manifest.lookup("tiny-rgb") is None


def test_update_script_pins_a_folder_and_check_catches_staleness(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_manifold(tmp_path / "runs", TINY)
    target = tmp_path / "manifest.json"
    args = ["tiny-rgb", "--folder", str(folder), "--manifest", str(target)]
    assert update_manifest.main([*args, "--license", "CC0-1.0", "--repo", "me/tiny-rgb", "--revision", "b" * 40]) == 0
    entry = manifest.load(target)["tiny-rgb"]
    assert (entry.status, entry.bundled, entry.license, entry.revision) == ("available", False, "CC0-1.0", "b" * 40)
    assert entry.file("decoder").sha256 == sha256_now(folder / "decoder.safetensors").hex()
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(target.read_text()))
    assert update_manifest.main([*args, "--check"]) == 0

    make_manifold(tmp_path / "runs", TINY, seed=1)  # retrained in place
    assert update_manifest.main([*args, "--check"]) == 1
    assert "stale entries" in capsys.readouterr().out
    assert update_manifest.main(args) == 0
    renewed = manifest.load(target)["tiny-rgb"]
    assert renewed.revision is None and renewed.license == "CC0-1.0"  # the old commit holds other bytes


def test_update_script_fills_a_planned_bundled_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = tmp_path / "weights"
    make_manifold(weights, replace(TINY, id=DEFAULT_MANIFOLD))
    monkeypatch.setattr(update_manifest, "BUNDLED_DIR", weights)
    target = tmp_path / "weights_manifest.json"
    target.write_text(manifest.PACKAGED.read_text())
    assert update_manifest.main(["--manifest", str(target)]) == 0  # every bundled folder
    entry = manifest.load(target)[DEFAULT_MANIFOLD]
    before = manifest.packaged()[DEFAULT_MANIFOLD]
    assert (entry.status, entry.bundled, entry.latent_dim) == ("available", True, TINY.latent_dim)
    assert (entry.license, entry.training_data, entry.repo) == (before.license, before.training_data, before.repo)
    assert list(manifest.load(target)) == list(manifest.packaged())  # order kept
