"""The weights manifest: the manifolds this install knows, where each is fetched from, and the
sha256 that pins every file.

Two manifests are merged. The packaged one (``ncodec/weights_manifest.json``, linked from the
repository root) ships with ncodec; the user's own (``$NCODEC_MANIFEST``, else ``manifest.json``
in the user's config folder) holds manifolds they trained, registered and pushed. On a shared
id the packaged entry wins, so a user file cannot re-pin a shipped manifold. The checks here
mirror ``docs/weights_manifest.schema.json`` so the runtime needs no jsonschema.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ncodec.atomic import atomic_write
from ncodec.digest import sha256_now
from ncodec.errors import ManifoldError
from ncodec.manifold_config import CONFIG_NAME, DECODER_NAME, ENCODER_NAME, ID_PATTERN, ManifoldConfig

SCHEMA_VERSION = 1
PACKAGED = Path(__file__).parent / "weights_manifest.json"
USER_ENV = "NCODEC_MANIFEST"
USER_FILE = "manifest.json"

Role = Literal["config", "decoder", "encoder"]
ROLES: tuple[Role, ...] = ("config", "decoder", "encoder")
FILENAMES: dict[Role, str] = {"config": CONFIG_NAME, "decoder": DECODER_NAME, "encoder": ENCODER_NAME}
PLANNED, AVAILABLE = "planned", "available"
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
COMMIT_PATTERN = re.compile(r"^[0-9a-f]{40}$")
REPO_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_ENTRY_KEYS = {"status", "description", "architecture", "training_data", "license", "bundled", "hub", "files"}
_ARCH_KEYS = {"arch", "image_size", "channels", "latent_dim", "width"}
_ARCH_OPTIONAL = frozenset({"encoder_width"})


@dataclass(frozen=True)
class FileSpec:
    """One pinned file: its name (in the folder and in the hub repo), sha256 in hex, size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ManifestEntry:
    """One manifold in a manifest. ``planned`` entries name a manifold that has no weights yet."""

    id: str
    status: str
    description: str
    arch: str
    image_size: int
    channels: int
    latent_dim: int
    width: int
    training_data: str
    license: str
    bundled: bool
    repo: str | None
    revision: str | None
    files: dict[Role, FileSpec] = field(default_factory=dict, hash=False)
    encoder_width: int | None = None

    @property
    def planned(self) -> bool:
        return self.status == PLANNED

    @property
    def published(self) -> bool:
        """Whether the hub holds it at a pinned commit (else it can only come from a local folder)."""
        return self.repo is not None and self.revision is not None

    def file(self, role: Role) -> FileSpec:
        try:
            return self.files[role]
        except KeyError:
            raise ManifoldError(f"manifold {self.id!r} is {self.status}: the manifest pins no {FILENAMES[role]}") from None

    def weights_size(self) -> int:
        """Bytes of decoder + encoder: what a full download costs."""
        return sum(spec.size for role, spec in self.files.items() if role != "config")

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "description": self.description,
            "architecture": {
                "arch": self.arch,
                "image_size": self.image_size,
                "channels": self.channels,
                "latent_dim": self.latent_dim,
                "width": self.width,
            }
            | ({} if self.encoder_width is None else {"encoder_width": self.encoder_width}),
            "training_data": self.training_data,
            "license": self.license,
            "bundled": self.bundled,
            "hub": {"repo": self.repo, "revision": self.revision},
            "files": {role: {"name": s.name, "sha256": s.sha256, "size": s.size} for role, s in self.files.items()},
        }


def user_manifest_path() -> Path:
    """``$NCODEC_MANIFEST``, else ``manifest.json`` in the user's config folder (click's app dir)."""
    explicit = os.environ.get(USER_ENV)
    if explicit:
        return Path(explicit)
    import click

    return Path(click.get_app_dir("ncodec")) / USER_FILE


def load(path: Path, missing_ok: bool = False) -> dict[str, ManifestEntry]:
    """Parse and check one manifest file (memoised while the file is unchanged)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise ManifoldError(f"manifest {path} is missing") from None
    except OSError as exc:
        raise ManifoldError(f"cannot read manifest {path}: {exc}") from exc
    return dict(_load_cached(path, st.st_ino, st.st_mtime_ns, st.st_size))


@cache
def _load_cached(path: Path, inode: int, mtime_ns: int, size: int) -> dict[str, ManifestEntry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifoldError(f"cannot read manifest {path}: {exc}") from exc
    return parse(data, str(path))


def packaged() -> dict[str, ManifestEntry]:
    return load(PACKAGED)


def user() -> dict[str, ManifestEntry]:
    return load(user_manifest_path(), missing_ok=True)


def entries() -> dict[str, ManifestEntry]:
    """All known manifolds: the packaged manifest first, then the user's ids it does not define."""
    shipped = packaged()
    return shipped | {k: v for k, v in user().items() if k not in shipped}


def lookup(manifold_id: str) -> ManifestEntry | None:
    """The entry pinning ``manifold_id``, or None for a user-local manifold that no manifest names."""
    return entries().get(manifold_id)


# --- checking -------------------------------------------------------------------------------


def parse(data: Any, source: str) -> dict[str, ManifestEntry]:
    """Check a decoded manifest against the rules of the JSON Schema and build its entries."""
    where = f"manifest {source}"
    _object(data, where, required={"schema_version", "manifolds"}, optional={"$schema", "$comment"})
    version = data["schema_version"]
    if not _is_int(version) or version < 1:
        raise ManifoldError(f"{where}: schema_version must be a positive integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise ManifoldError(f"{where}: schema_version {version} is newer than this ncodec reads ({SCHEMA_VERSION}); upgrade ncodec")
    manifolds = data["manifolds"]
    if not isinstance(manifolds, dict):
        raise ManifoldError(f"{where}: 'manifolds' must be an object")
    return {key: _entry(key, value, f"{where}, manifold {key!r}") for key, value in manifolds.items()}


def _entry(manifold_id: str, data: Any, where: str) -> ManifestEntry:
    if not ID_PATTERN.match(manifold_id):
        raise ManifoldError(f"{where}: invalid id (1-32 chars of a-z 0-9 . _ -, starting with a letter or digit)")
    _object(data, where, required=_ENTRY_KEYS)
    arch = data["architecture"]
    _object(arch, f"{where}, architecture", required=_ARCH_KEYS, optional=_ARCH_OPTIONAL)
    hub = data["hub"]
    _object(hub, f"{where}, hub", required={"repo", "revision"})
    for key in ("description", "training_data", "license"):
        if not isinstance(data[key], str):
            raise ManifoldError(f"{where}: {key} must be a string")
    if not isinstance(data["bundled"], bool):
        raise ManifoldError(f"{where}: bundled must be true or false")
    entry = ManifestEntry(
        id=manifold_id,
        status=_choice(data["status"], (PLANNED, AVAILABLE), f"{where}: status"),
        description=data["description"],
        arch=_choice(arch["arch"], ("dcgan",), f"{where}: architecture.arch"),
        image_size=_int_in(arch["image_size"], 8, 4096, f"{where}: architecture.image_size"),
        channels=_choice(arch["channels"], (1, 3), f"{where}: architecture.channels"),
        latent_dim=_int_in(arch["latent_dim"], 1, 4096, f"{where}: architecture.latent_dim"),
        width=_int_in(arch["width"], 1, 4096, f"{where}: architecture.width"),
        encoder_width=None
        if "encoder_width" not in arch
        else _int_in(arch["encoder_width"], 1, 4096, f"{where}: architecture.encoder_width"),
        training_data=data["training_data"],
        license=data["license"],
        bundled=data["bundled"],
        repo=_nullable(hub["repo"], REPO_PATTERN, f"{where}: hub.repo (owner/name)"),
        revision=_nullable(hub["revision"], COMMIT_PATTERN, f"{where}: hub.revision (a 40-hex commit hash, never a branch)"),
        files=_files(data["files"], where),
    )
    if entry.image_size & (entry.image_size - 1):
        raise ManifoldError(f"{where}: architecture.image_size must be a power of two, got {entry.image_size}")
    if entry.revision is not None and entry.repo is None:
        raise ManifoldError(f"{where}: hub.revision is set but hub.repo is null")
    if entry.planned and (entry.files or entry.revision is not None):
        raise ManifoldError(f"{where}: a planned manifold has no files and no revision yet")
    if not entry.planned and set(entry.files) != set(ROLES):
        raise ManifoldError(f"{where}: an available manifold pins all of {', '.join(ROLES)}")
    return entry


def _files(data: Any, where: str) -> dict[Role, FileSpec]:
    if not isinstance(data, dict):
        raise ManifoldError(f"{where}: files must be an object")
    out: dict[Role, FileSpec] = {}
    for role in ROLES:
        if role not in data:
            continue
        spec = data[role]
        here = f"{where}, files.{role}"
        _object(spec, here, required={"name", "sha256", "size"})
        if spec["name"] != FILENAMES[role]:
            raise ManifoldError(f"{here}: name must be {FILENAMES[role]!r}")
        if not isinstance(spec["sha256"], str) or not SHA256_PATTERN.match(spec["sha256"]):
            raise ManifoldError(f"{here}: sha256 must be 64 lowercase hex digits")
        out[role] = FileSpec(spec["name"], spec["sha256"], _int_in(spec["size"], 0, 1 << 40, f"{here}: size"))
    unknown = set(data) - set(ROLES)
    if unknown:
        raise ManifoldError(f"{where}: unknown files {sorted(unknown)} (expected {', '.join(ROLES)})")
    return out


def _object(data: Any, where: str, required: set[str], optional: set[str] | frozenset[str] = frozenset()) -> None:
    if not isinstance(data, dict):
        raise ManifoldError(f"{where}: expected a JSON object")
    missing = required - set(data)
    unknown = set(data) - required - optional
    if missing:
        raise ManifoldError(f"{where}: missing {sorted(missing)}")
    if unknown:
        raise ManifoldError(f"{where}: unknown keys {sorted(unknown)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(value: Any, low: int, high: int, where: str) -> int:
    if not _is_int(value) or not low <= value <= high:
        raise ManifoldError(f"{where} must be an integer in [{low}, {high}], got {value!r}")
    result: int = value
    return result


def _choice(value: Any, allowed: tuple[Any, ...], where: str) -> Any:
    if value not in allowed or isinstance(value, bool):
        raise ManifoldError(f"{where} must be one of {list(allowed)}, got {value!r}")
    return value


def _nullable(value: Any, pattern: re.Pattern[str], where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise ManifoldError(f"{where}: got {value!r}")
    return value


# --- writing --------------------------------------------------------------------------------


def entry_from_folder(folder: Path, base: ManifestEntry | None = None, **overrides: Any) -> ManifestEntry:
    """Pin the files of a manifold folder: hyper-parameters from its manifold.json, sha256 and size now.

    Fields the folder does not say (training data, licence, hub repo) come from ``base`` or
    ``overrides``. A pinned revision is kept only while the files are unchanged: new weights are
    not what the old commit holds.
    """
    config = ManifoldConfig.load(folder)
    files: dict[Role, FileSpec] = {}
    for role in ROLES:
        path = folder / FILENAMES[role]
        if not path.is_file():
            raise ManifoldError(f"{folder} has no {FILENAMES[role]}")
        files[role] = FileSpec(FILENAMES[role], sha256_now(path).hex(), path.stat().st_size)
    same_files = base is not None and base.files == files
    entry = ManifestEntry(
        id=config.id,
        status=AVAILABLE,
        description=base.description if base and base.description else config.description,
        arch=config.arch,
        image_size=config.image_size,
        channels=config.channels,
        latent_dim=config.latent_dim,
        width=config.width,
        encoder_width=config.encoder_width,
        training_data=base.training_data if base else "unspecified",
        license=base.license if base else "unspecified",
        bundled=base.bundled if base else False,
        repo=base.repo if base else None,
        revision=base.revision if base and same_files else None,
        files=files,
    )
    return replace(entry, **overrides)


def dumps(manifest: dict[str, ManifestEntry]) -> str:
    data = {"schema_version": SCHEMA_VERSION, "manifolds": {k: v.to_json() for k, v in manifest.items()}}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def save(path: Path, manifest: dict[str, ManifestEntry]) -> None:
    """Write a manifest atomically; it is checked first so a bad entry never reaches disk."""
    text = dumps(manifest)
    parse(json.loads(text), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"))


def put(path: Path, entry: ManifestEntry) -> None:
    """Add or replace one entry of the manifest at ``path`` (created if missing), keeping the others' order."""
    manifest = load(path, missing_ok=True)
    manifest[entry.id] = entry
    save(path, manifest)
