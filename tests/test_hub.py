"""The resolve chain against a stand-in hub on 127.0.0.1: download, cache hit, hash mismatch,
revision pinning, offline mode, repair, push, and what ``ncodec manifolds`` shows.

huggingface_hub's own download code runs for real (HEAD + GET, cache layout, symlinks); only
the server is a stand-in (tests/hub_standin.py). Push replaces HfApi with a fake that commits
into the stand-in, so a pushed manifold is then pulled back through the real download path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import make_manifold
from hub_standin import StandInHub

import ncodec
from ncodec import exitcodes, hub, locate, manifest
from ncodec.cli import main
from ncodec.cli_manifolds import announce_fetches, manifolds
from ncodec.errors import ManifoldError, ManifoldMismatchError, ManifoldNotFoundError
from ncodec.format import Header, write_ncz
from ncodec.manifest import FILENAMES, ROLES, ManifestEntry
from ncodec.manifold_config import ManifoldConfig
from ncodec.manifolds import DEFAULT_MANIFOLD, PATH_ENV, open_manifold, resolve

HUB_TINY = ManifoldConfig(id="hub-tiny", image_size=16, channels=3, latent_dim=12, width=8, trained=False)
REPO = "ncodec-test/hub-tiny"
NAMES = [FILENAMES[r] for r in ROLES]


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInHub]:
    import huggingface_hub.constants

    server = StandInHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # huggingface_hub read these at its import; its side requests (agent detection) use them too
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", server.url)
    monkeypatch.setattr(huggingface_hub.constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published manifold's own folder: deliberately not on NCODEC_MANIFOLD_PATH."""
    return make_manifold(tmp_path_factory.mktemp("published"), HUB_TINY, seed=3)


@pytest.fixture
def published(standin: StandInHub, tiny_folder: Path) -> ManifestEntry:
    """hub-tiny committed to the stand-in and pinned at that commit in the user manifest."""
    commit = standin.commit_folder(REPO, tiny_folder, NAMES)
    entry = manifest.entry_from_folder(tiny_folder, repo=REPO, revision=commit)
    manifest.put(manifest.user_manifest_path(), entry)
    return entry


def fetched(server: StandInHub) -> list[str]:
    """Names of the files downloaded (GET on /resolve/), in order."""
    return [path.rsplit("/", 1)[1] for method, path in server.requests if method == "GET" and "/resolve/" in path]


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(manifolds, [str(a) for a in args])


def ncz_for(entry: ManifestEntry) -> bytes:
    """A valid .ncz naming ``entry``'s manifold (made without having the manifold)."""
    fingerprint = bytes.fromhex(entry.file("decoder").sha256)[:4]
    header = Header(bits=4, latent_dim=entry.latent_dim, width=20, height=10, channels=3, manifold_id=entry.id, fingerprint=fingerprint)
    return write_ncz(header, np.arange(entry.latent_dim, dtype=np.uint8).reshape(1, -1) % 16)


def test_decoding_fetches_only_the_decoder_at_the_pinned_commit(standin: StandInHub, published: ManifestEntry, photo: np.ndarray) -> None:
    events: list[locate.Fetch] = []
    with locate.on_fetch(events.append):
        image = ncodec.decompress(ncz_for(published))
    assert image.shape == (10, 20, 3)
    assert fetched(standin) == ["manifold.json", "decoder.safetensors"]
    assert all(f"/{REPO}/resolve/{published.revision}/" in p for p in standin.paths() if "/resolve/" in p)
    assert [(e.filename, e.done) for e in events] == [(n, d) for n in NAMES[:2] for d in (False, True)]
    folder = resolve("hub-tiny")
    assert folder.name == published.revision and folder.is_relative_to(hub.cache_dir())

    standin.requests.clear()
    blob = ncodec.compress(photo, manifold="hub-tiny", effort=0)  # encoding also needs the encoder: fetched now
    assert fetched(standin) == ["encoder.safetensors"]
    standin.requests.clear()
    assert ncodec.decompress(blob).shape == photo.shape
    assert standin.requests == []  # a cache hit asks nothing of the hub


def test_cache_hit_works_offline_and_online_without_a_request(
    standin: StandInHub, published: ManifestEntry, photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("pull", "hub-tiny").exit_code == 0
    standin.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    blob = ncodec.compress(photo, manifold="hub-tiny", effort=0)
    assert ncodec.decompress(blob).shape == photo.shape
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert resolve("hub-tiny", need_encoder=True).name == published.revision
    assert standin.requests == []


def test_offline_never_touches_the_network_and_says_how_to_fetch(
    standin: StandInHub, published: ManifestEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ManifoldNotFoundError, match=r"'hub-tiny' is not available offline.*ncodec manifolds pull hub-tiny"):
        resolve("hub-tiny")
    src = tmp_path / "x.ncz"
    src.write_bytes(ncz_for(published))
    result = CliRunner().invoke(main, ["decode", str(src), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and "'hub-tiny' is not available offline" in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "x.png").exists()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    for args in (["--offline", "pull", "hub-tiny"], ["pull", "hub-tiny", "--offline"]):  # the group's flag, or pull's own
        result = cli(*args)
        assert result.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and "offline: not downloading manifold.json" in result.stderr, args
        assert standin.requests == []
        assert not hub.is_offline()  # --offline lasts for its command only


def test_verify_of_a_named_manifold_without_a_local_copy_fails(standin: StandInHub, published: ManifestEntry) -> None:
    named = cli("verify", "hub-tiny")
    assert named.exit_code == exitcodes.MANIFOLD_UNAVAILABLE
    assert "hub-tiny: remote, no local copy to verify (fetch it with `ncodec manifolds pull hub-tiny`)" in named.stderr
    every = cli("verify")  # every known manifold: one that is only on the hub is not an error
    assert every.exit_code == 0 and "hub-tiny: remote, no local copy" in every.stdout


def test_the_pinned_commit_is_fetched_even_when_main_moved_on(standin: StandInHub, tiny_folder: Path, tmp_path: Path) -> None:
    pinned = standin.commit_folder(REPO, tiny_folder, NAMES)
    retrained = make_manifold(tmp_path, HUB_TINY, seed=9)  # same id, other weights
    head = standin.commit_folder(REPO, retrained, NAMES)
    entry = manifest.entry_from_folder(tiny_folder, repo=REPO, revision=pinned)
    manifest.put(manifest.user_manifest_path(), entry)
    folder = resolve("hub-tiny", need_encoder=True)
    assert folder.name == pinned != head
    assert all((folder / n).read_bytes() == (tiny_folder / n).read_bytes() for n in NAMES)
    assert not any("/resolve/main/" in p for p in standin.paths())

    manifest.put(manifest.user_manifest_path(), replace(entry, revision="0" * 40))
    with pytest.raises(ManifoldError, match="RevisionNotFound"):
        resolve("hub-tiny")


def test_a_hash_mismatch_is_refused_never_loaded(standin: StandInHub, tiny_folder: Path, tmp_path: Path) -> None:
    pinned = standin.commit_folder(REPO, tiny_folder, NAMES)
    head = standin.commit_folder(REPO, make_manifold(tmp_path, HUB_TINY, seed=9), NAMES)
    entry = manifest.entry_from_folder(tiny_folder, repo=REPO, revision=head)  # the manifest's sha256 is not what that commit holds
    manifest.put(manifest.user_manifest_path(), entry)
    with pytest.raises(ManifoldMismatchError, match=r"decoder\.safetensors has sha256 .* the manifest pins .*hub served other bytes"):
        ncodec.decompress(ncz_for(entry))
    with pytest.raises(ManifoldMismatchError, match=r"cached copy is corrupted.*ncodec manifolds pull hub-tiny"):
        resolve("hub-tiny")  # the bad download stays refused

    manifest.put(manifest.user_manifest_path(), replace(entry, revision=pinned))
    standin.tampered["encoder.safetensors"] = b"\0" * entry.file("encoder").size  # a mirror serving other bytes, same size
    m = open_manifold("hub-tiny")
    m.decoder()
    with pytest.raises(ManifoldMismatchError, match=r"encoder\.safetensors has sha256"):
        m.encoder()


def test_corrupted_cache_is_refused_by_decode_reported_by_verify_repaired_by_pull(
    standin: StandInHub, published: ManifestEntry, photo: np.ndarray, tmp_path: Path
) -> None:
    result = cli("pull", "hub-tiny")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("fetched") == 3
    src = tmp_path / "x.ncz"
    src.write_bytes(ncodec.compress(photo, manifold="hub-tiny", effort=0))
    assert published.revision is not None
    cached = hub.cached_file(REPO, published.revision, "decoder.safetensors")
    assert cached is not None
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte
    cached.write_bytes(data)

    decode = ["decode", str(src), "-o", str(tmp_path / "x.png")]
    result = CliRunner().invoke(main, decode)
    assert result.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and result.stderr.count("\n") == 1
    assert "cached copy is corrupted" in result.stderr and "ncodec manifolds pull hub-tiny" in result.stderr
    assert not (tmp_path / "x.png").exists()
    result = cli("verify")
    assert result.exit_code == exitcodes.MANIFOLD_UNAVAILABLE
    assert "hub-tiny: cached decoder.safetensors CORRUPTED" in result.stdout
    assert "hub-tiny: cached encoder.safetensors ok" in result.stdout

    result = cli("pull", "hub-tiny")
    assert result.exit_code == 0 and "decoder.safetensors repaired" in result.stdout
    assert cli("verify", "hub-tiny").exit_code == 0
    assert CliRunner().invoke(main, decode).exit_code == 0


def test_push_pins_the_new_commit_and_another_machine_decodes_from_it(
    standin: StandInHub, manifold_root: Path, tmp_path: Path, photo: np.ndarray, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import huggingface_hub

    runs = tmp_path / "runs"
    make_manifold(runs, replace(HUB_TINY, id="mine-z12"), seed=5)
    monkeypatch.setenv(PATH_ENV, f"{manifold_root}{os.pathsep}{runs}")
    calls: list[tuple[Any, ...]] = []

    class FakeHfApi:
        """Only what ncodec.hub.upload calls; the commit lands in the stand-in."""

        def __init__(self, endpoint: str | None = None, **kwargs: Any) -> None:
            assert endpoint == standin.url

        def create_repo(self, repo_id: str, private: bool | None = None, exist_ok: bool = False) -> None:
            calls.append(("create_repo", repo_id, private, exist_ok))

        def upload_folder(self, *, repo_id: str, folder_path: Path, allow_patterns: list[str], commit_message: str) -> SimpleNamespace:
            calls.append(("upload_folder", repo_id, sorted(allow_patterns)))
            return SimpleNamespace(oid=standin.commit_folder(repo_id, Path(folder_path), allow_patterns))

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    result = cli("push", "mine-z12", "--repo", "me/mine-z12", "--license", "CC-BY-4.0", "--training-data", "my photos")
    assert result.exit_code == 0, result.output
    assert calls == [("create_repo", "me/mine-z12", None, True), ("upload_folder", "me/mine-z12", sorted(NAMES))]
    entry = manifest.user()["mine-z12"]
    assert entry.revision == standin.repos["me/mine-z12"][-1][0] and entry.repo == "me/mine-z12"
    assert (entry.license, entry.training_data, entry.bundled) == ("CC-BY-4.0", "my photos", False)
    blob = ncodec.compress(photo, manifold="mine-z12", effort=0)  # from the local folder, now verified against the pin
    assert standin.requests == []

    monkeypatch.setenv(PATH_ENV, str(manifold_root))  # another machine: the user manifest, no folder, an empty cache
    monkeypatch.setenv("HF_HOME", str(tmp_path / "other-machine"))
    with announce_fetches():
        assert ncodec.decompress(blob).shape == photo.shape
    assert fetched(standin) == ["manifold.json", "decoder.safetensors"]
    assert "manifold mine-z12 is not local: fetching decoder.safetensors" in capsys.readouterr().err

    again = cli("push", "mine-z12", "--repo", "me/mine-z12", "--folder", tmp_path / "runs" / "mine-z12")
    assert again.exit_code == 0  # same files: pushing again is harmless
    make_manifold(runs, replace(HUB_TINY, id="mine-z12"), seed=6)
    refused = cli("push", "mine-z12", "--repo", "me/mine-z12", "--folder", runs / "mine-z12")
    assert refused.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and "an id names fixed weights" in refused.stderr
    assert cli("register", manifold_root / "tiny-rgb").exit_code == 0
    assert cli("register", runs / "mine-z12", "--force").exit_code == 0


def test_a_packaged_id_cannot_be_pinned_by_the_user(tmp_path: Path) -> None:
    folder = make_manifold(tmp_path, replace(HUB_TINY, id=DEFAULT_MANIFOLD))
    result = cli("register", folder)
    assert result.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and "id of the packaged manifest" in result.stderr


def test_registering_a_folder_that_is_no_manifold_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "manifold.json").write_text("{not json")
    result = cli("register", tmp_path)
    assert result.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and "cannot read" in result.stderr and "manifold.json" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def list_states() -> dict[str, str]:
    result = cli("list", "--json")
    assert result.exit_code == 0, result.output
    return {row["id"]: row["state"] for row in map(json.loads, result.stdout.splitlines())}


def test_list_shows_the_state_of_every_manifold(
    standin: StandInHub, tiny_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "weights"
    make_manifold(bundled, replace(HUB_TINY, id="pkg-bundled"))
    monkeypatch.setattr(locate, "BUNDLED_DIR", bundled)
    commit = standin.commit_folder(REPO, tiny_folder, NAMES)
    planned = replace(manifest.entry_from_folder(tiny_folder, id="pkg-planned"), status="planned", files={}, repo="x/planned")
    packaged = tmp_path / "weights_manifest.json"
    manifest.save(
        packaged,
        {
            "pkg-bundled": manifest.entry_from_folder(bundled / "pkg-bundled", bundled=True),
            "hub-tiny": manifest.entry_from_folder(tiny_folder, repo=REPO, revision=commit),
            "pkg-planned": planned,
        },
    )
    monkeypatch.setattr(manifest, "PACKAGED", packaged)
    local = {"tiny-rgb": "local (unpinned)", "tiny-gray": "local (unpinned)"}
    assert list_states() == {"pkg-bundled": "bundled", "hub-tiny": "remote", "pkg-planned": "planned", **local}
    planned_verify = cli("verify", "pkg-planned")
    assert planned_verify.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and "(no weights are published yet)" in planned_verify.stderr
    assert cli("pull", "--decoder-only", "hub-tiny").exit_code == 0
    assert list_states()["hub-tiny"] == "cached (decoder only)"
    assert cli("pull", "hub-tiny", "pkg-bundled").exit_code == 0
    standin.requests.clear()
    assert list_states()["hub-tiny"] == "cached"
    table = cli("--offline", "list").stdout
    assert "pkg-bundled" in table and "16x16" in table and standin.requests == []
    info = cli("info", "hub-tiny")
    assert info.exit_code == 0 and commit in info.stdout and str(hub.cache_dir()) in info.stdout


def test_list_on_a_fresh_install_shows_every_shipped_manifold(standin: StandInHub) -> None:
    states = list_states()
    for manifold_id, entry in manifest.packaged().items():
        expected = "planned" if entry.planned else "bundled" if entry.bundled else "remote"
        assert states[manifold_id] == expected
    assert standin.requests == []


def test_a_planned_id_loads_a_local_candidate_but_bundled_files_must_be_pinned(
    tmp_path: Path, manifold_root: Path, photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights, runs = tmp_path / "weights", tmp_path / "runs"
    make_manifold(weights, replace(HUB_TINY, id="pkg-default"))
    make_manifold(runs, replace(HUB_TINY, id="pkg-next"), seed=4)
    monkeypatch.setattr(locate, "BUNDLED_DIR", weights)
    monkeypatch.setenv(PATH_ENV, f"{manifold_root}{os.pathsep}{runs}")
    planned = replace(manifest.entry_from_folder(weights / "pkg-default"), status="planned", files={})
    packaged = tmp_path / "weights_manifest.json"
    manifest.save(packaged, {"pkg-default": replace(planned, bundled=True), "pkg-next": replace(planned, id="pkg-next")})
    monkeypatch.setattr(manifest, "PACKAGED", packaged)

    blob = ncodec.compress(photo, manifold="pkg-next", effort=0)  # a candidate being trained: unpinned
    assert ncodec.decompress(blob).shape == photo.shape
    with pytest.raises(ManifoldNotFoundError, match=r"'pkg-default' is planned.*tools/update_manifest.py pkg-default"):
        ncodec.compress(photo, manifold="pkg-default")
    assert list_states() == {"pkg-default": "planned", "pkg-next": "local (unpinned)", "tiny-rgb": "local (unpinned)",
                                  "tiny-gray": "local (unpinned)"}  # fmt: skip


def test_ncodec_decode_fetches_a_manifold_that_is_not_local(standin: StandInHub, published: ManifestEntry, tmp_path: Path) -> None:
    src = tmp_path / "x.ncz"
    src.write_bytes(ncz_for(published))
    result = CliRunner().invoke(main, ["decode", str(src), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 0, result.output
    assert fetched(standin) == ["manifold.json", "decoder.safetensors"]


def test_download_progress_reaches_the_file_size(standin: StandInHub, published: ManifestEntry) -> None:
    seen: list[tuple[int, int | None]] = []
    assert published.revision is not None
    path = hub.download(REPO, published.revision, "encoder.safetensors", progress=lambda done, total: seen.append((done, total)))
    size = published.file("encoder").size
    assert path.stat().st_size == size and seen and seen[-1] == (size, size)


def test_cli_decode_fetches_a_missing_manifold_and_says_so(standin: StandInHub, published: ManifestEntry, tmp_path: Path) -> None:
    src = tmp_path / "x.ncz"
    src.write_bytes(ncz_for(published))
    offline = CliRunner().invoke(main, ["decode", str(src), "-o", str(tmp_path / "x.png"), "--offline"])
    assert offline.exit_code == exitcodes.MANIFOLD_UNAVAILABLE and "not available offline" in offline.stderr and standin.requests == []
    result = CliRunner().invoke(main, ["decode", str(src), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 0, result.stderr
    assert "manifold hub-tiny is not local: fetching decoder.safetensors" in result.stderr
    assert (tmp_path / "x.png").exists()
