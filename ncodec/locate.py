"""Where a manifold's files come from, in order: the package's bundled weights, the folders of
``NCODEC_MANIFOLD_PATH``, the huggingface-hub cache, and last a download at the pinned commit.

Every file a manifest pins is checked against its sha256 before anything loads it: a mismatch
is refused with the way to repair it, never loaded. A manifold no manifest names is user-local
(freshly trained, or a test's tiny one): it is found only in the local folders and loads
unpinned. Downloads are announced to ``on_fetch`` listeners and to the ``ncodec.manifolds``
logger, so a command line can say that it is fetching.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ncodec import hub, manifest
from ncodec.digest import file_sha256, sha256_now
from ncodec.errors import ManifoldMismatchError, ManifoldNotFoundError
from ncodec.manifest import FILENAMES, ROLES, ManifestEntry, Role
from ncodec.manifold_config import CONFIG_NAME, ID_PATTERN

BUNDLED_DIR = Path(__file__).parent / "weights"
PATH_ENV = "NCODEC_MANIFOLD_PATH"
BUNDLED, LOCAL, CACHED, DOWNLOADED = "bundled", "local", "cached", "downloaded"

log = logging.getLogger("ncodec.manifolds")

_REPAIR = {
    BUNDLED: "the installed package is damaged: reinstall ncodec",
    LOCAL: f"that folder (from {PATH_ENV}) holds other weights under this id: remove it from the path, or give your manifold its own id",
    CACHED: "the cached copy is corrupted: repair it with `ncodec manifolds pull {id}`",
    DOWNLOADED: "the hub served other bytes than the manifest pins at that commit",
}


@dataclass(frozen=True)
class Fetch:
    """A download, reported to ``on_fetch`` listeners once before it starts and once when verified."""

    manifold_id: str
    filename: str
    repo: str
    revision: str
    size: int
    done: bool


_listeners: list[Callable[[Fetch], None]] = []


@contextmanager
def on_fetch(callback: Callable[[Fetch], None]) -> Iterator[None]:
    """Call ``callback`` for every manifold download started inside the ``with`` block."""
    _listeners.append(callback)
    try:
        yield
    finally:
        _listeners.remove(callback)


def _announce(event: Fetch) -> None:
    what = "fetched" if event.done else "fetching"
    log.info(
        "%s %s of manifold %s from %s@%s (%d bytes)", what, event.filename, event.manifold_id, event.repo, event.revision[:12], event.size
    )
    for callback in list(_listeners):
        callback(event)


def search_path() -> list[Path]:
    """Local folders searched for manifolds, in order: bundled, then ``NCODEC_MANIFOLD_PATH``."""
    extra = [Path(p) for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    return [BUNDLED_DIR, *extra]


def local_folders(manifold_id: str) -> list[tuple[str, Path]]:
    """(source, folder) of every local folder holding this id's manifold.json, search order."""
    found = []
    for root in search_path():
        folder = root / manifold_id
        if (folder / CONFIG_NAME).is_file():
            found.append((BUNDLED if root == BUNDLED_DIR else LOCAL, folder))
    return found


def source_of(folder: Path) -> str:
    """Which link of the chain a folder belongs to (it decides how a bad file is repaired)."""
    if folder.parent == BUNDLED_DIR:
        return BUNDLED
    if folder.resolve().is_relative_to(hub.cache_dir().resolve()):
        return CACHED
    return LOCAL


def _not_found(manifold_id: str, extra: str = "") -> ManifoldNotFoundError:
    where = ", ".join(str(p) for p in search_path())
    return ManifoldNotFoundError(f"manifold {manifold_id!r} not found (searched {where}; add folders with {PATH_ENV}){extra}")


def find(manifold_id: str, roles: Iterable[Role] = ("decoder",), offline: bool | None = None) -> Path:
    """The folder holding this manifold's manifold.json and ``roles``' files, each verified.

    Pinned manifolds go through the whole chain and may be downloaded (unless offline);
    unpinned ones are looked up in the local folders only.
    """
    if not ID_PATTERN.match(manifold_id):
        raise ManifoldNotFoundError(f"invalid manifold id {manifold_id!r}")
    entry = manifest.lookup(manifold_id)
    folders = local_folders(manifold_id)
    if entry is None:
        if folders:
            return folders[0][1]
        raise _not_found(manifold_id)
    if entry.planned:
        # a candidate in NCODEC_MANIFOLD_PATH loads unpinned (while it is being trained); bundled files must be pinned
        if folders and folders[0][0] == LOCAL:
            return folders[0][1]
        hint = f"; pin {folders[0][1]} with `python tools/update_manifest.py {manifold_id}`" if folders else ""
        raise ManifoldNotFoundError(f"manifold {manifold_id!r} is planned: the manifest lists it, but it has no weights yet{hint}")
    needed: list[Role] = ["config", *(r for r in ROLES if r in set(roles) and r != "config")]
    for source, folder in folders:
        if all((folder / FILENAMES[role]).is_file() for role in needed):
            for role in needed:
                check(folder / FILENAMES[role], entry, role, source)
            return folder
    if not entry.published:
        raise _not_found(manifold_id, "; it is not published on a hub")
    return from_hub(entry, needed, offline=offline)


def from_hub(entry: ManifestEntry, roles: Iterable[Role], offline: bool | None = None, progress: hub.Progress | None = None) -> Path:
    """The hub-cache snapshot folder of ``entry`` at its pinned commit, fetching missing files."""
    assert entry.repo is not None and entry.revision is not None, "only published entries come from the hub"
    offline = hub.is_offline() if offline is None else offline
    folder = None
    for role in roles:
        spec = entry.file(role)
        path = hub.cached_file(entry.repo, entry.revision, spec.name)
        if path is not None:
            check(path, entry, role, CACHED)
        elif offline:
            raise ManifoldNotFoundError(
                f"manifold {entry.id!r} is not available offline: {spec.name} is not bundled, not in {PATH_ENV} and "
                f"not in the hub cache ({hub.cache_dir()}). With network access, fetch it once: "
                f"`ncodec manifolds pull {entry.id}` (hub repo {entry.repo} at {entry.revision[:12]})"
            )
        else:
            path = fetch(entry, role, progress=progress)  # verified there
        folder = path.parent
    assert folder is not None, "roles always include config"
    return folder


def fetch(entry: ManifestEntry, role: Role, force: bool = False, progress: hub.Progress | None = None) -> Path:
    """Download one pinned file (again, with ``force``) and verify it."""
    assert entry.repo is not None and entry.revision is not None, "only published entries can be fetched"
    spec = entry.file(role)
    _announce(Fetch(entry.id, spec.name, entry.repo, entry.revision, spec.size, done=False))
    path = hub.download(entry.repo, entry.revision, spec.name, force=force, progress=progress)
    check(path, entry, role, DOWNLOADED)
    _announce(Fetch(entry.id, spec.name, entry.repo, entry.revision, spec.size, done=True))
    return path


def check(path: Path, entry: ManifestEntry, role: Role, source: str | None = None) -> None:
    """Refuse a file whose size or sha256 differs from the manifest (hashed once per process).

    ``source`` (bundled, local, cached, downloaded) picks the repair advice; by default it is
    worked out from where the file lies.
    """
    problem = mismatch(path, entry, role, file_sha256)
    if problem:
        repair = _REPAIR[source or source_of(path.parent)].format(id=entry.id)
        raise ManifoldMismatchError(f"manifold {entry.id!r}: {path} {problem}; refusing to load it ({repair})")


def mismatch(path: Path, entry: ManifestEntry, role: Role, hasher: Callable[[Path], bytes] = sha256_now) -> str | None:
    """None if the file matches its pin, else what differs (``hasher=sha256_now`` re-reads the file)."""
    spec = entry.file(role)
    size = path.stat().st_size
    if size != spec.size:
        return f"has {size} bytes, the manifest pins {spec.size}"
    digest = hasher(path).hex()
    if digest != spec.sha256:
        return f"has sha256 {digest[:16]}..., the manifest pins {spec.sha256[:16]}..."
    return None


def copies(entry: ManifestEntry) -> list[tuple[str, Role, Path]]:
    """Every local copy of the entry's files: (source, role, path), bundled and local folders, then the hub cache."""
    found: list[tuple[str, Role, Path]] = []
    for source, folder in local_folders(entry.id):
        found += [(source, role, folder / FILENAMES[role]) for role in entry.files if (folder / FILENAMES[role]).is_file()]
    if entry.published:
        assert entry.repo is not None and entry.revision is not None
        for role, spec in entry.files.items():
            path = hub.cached_file(entry.repo, entry.revision, spec.name)
            if path is not None:
                found.append((CACHED, role, path))
    return found


def state(manifold_id: str) -> str:
    """Where a manifold would come from now, without hashing or network: bundled, local, cached
    (a "decoder only" suffix when the encoder is absent), remote, planned or missing."""
    entry = manifest.lookup(manifold_id)
    folders = local_folders(manifold_id)
    if entry is None:
        return f"{LOCAL} (unpinned)" if folders else "missing"
    if entry.planned:
        return f"{LOCAL} (unpinned)" if folders and folders[0][0] == LOCAL else "planned"
    for source, folder in folders:
        if (folder / FILENAMES["decoder"]).is_file():
            return source if (folder / FILENAMES["encoder"]).is_file() else f"{source} (decoder only)"
    if entry.published:
        cached = {role for source, role, _ in copies(entry) if source == CACHED}
        if {"config", "decoder"} <= cached:
            return CACHED if "encoder" in cached else f"{CACHED} (decoder only)"
        return "remote"
    return "missing"
