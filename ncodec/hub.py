"""Every huggingface_hub call ncodec makes: cache look-up, pinned download, upload.

huggingface_hub is imported inside the functions: it is slow to import and only needed
when a manifold is not bundled. The endpoint, cache folder and offline switch are read
from the environment at call time (huggingface_hub reads them once, at its import), so
``HF_ENDPOINT``, ``HF_HOME``/``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE`` set later still count.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from ncodec.errors import ManifoldError, ManifoldNotFoundError

OFFLINE_ENV = "HF_HUB_OFFLINE"
_TRUE = {"1", "ON", "YES", "TRUE"}
_forced_offline = False

Progress = Callable[[int, int | None], None]
"""Called as bytes arrive: (bytes done so far, total bytes or None)."""


def set_offline(offline: bool) -> None:
    """Process-wide offline switch, for a command line ``--offline`` option."""
    global _forced_offline
    _forced_offline = offline


def is_offline() -> bool:
    """True when nothing may touch the network: ``set_offline(True)`` or ``HF_HUB_OFFLINE``."""
    if _forced_offline or os.environ.get(OFFLINE_ENV, "").upper() in _TRUE:
        return True
    constants = sys.modules.get("huggingface_hub.constants")
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def endpoint() -> str | None:
    """``HF_ENDPOINT`` now, or None for huggingface_hub's default."""
    return os.environ.get("HF_ENDPOINT") or None


def cache_dir() -> Path:
    """The huggingface-hub cache folder, resolved the way huggingface_hub does, but at call time."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def cached_file(repo: str, revision: str, filename: str) -> Path | None:
    """The cached copy of ``filename`` at commit ``revision``, or None. Never touches the network."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, filename, cache_dir=cache_dir(), revision=revision)
    return Path(found) if isinstance(found, str) else None


def download(repo: str, revision: str, filename: str, force: bool = False, progress: Progress | None = None) -> Path:
    """Fetch one file at a pinned commit into the hub cache and return its path there.

    ``force`` fetches it again even if cached (how a corrupted copy is repaired).
    """
    if is_offline():
        raise ManifoldNotFoundError(f"offline: not downloading {filename} from {repo}@{revision[:12]}")
    from httpx2 import HTTPError
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(
            repo,
            filename,
            revision=revision,
            cache_dir=cache_dir(),
            endpoint=endpoint(),
            force_download=force,
            tqdm_class=_bar_class(progress),
            library_name="ncodec",
        )
    except (OSError, ValueError, HTTPError) as exc:
        where = f"{endpoint() or 'https://huggingface.co'}/{repo} at {revision[:12]}"
        raise ManifoldError(f"cannot download {filename} from {where}: {_one_line(exc)}") from exc
    return Path(path)


def upload(folder: Path, repo: str, filenames: list[str], message: str, private: bool | None = None) -> str:
    """Create ``repo`` if needed, commit ``filenames`` from ``folder``, return the new commit hash."""
    if is_offline():
        raise ManifoldError(f"offline: not uploading to {repo}")
    from httpx2 import HTTPError
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint(), library_name="ncodec")
    try:
        api.create_repo(repo, private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo, folder_path=folder, allow_patterns=filenames, commit_message=message)
    except (OSError, ValueError, HTTPError) as exc:
        raise ManifoldError(f"cannot upload to {repo}: {_one_line(exc)}") from exc
    commit: str = info.oid
    return commit


def _one_line(exc: BaseException, limit: int = 400) -> str:
    """huggingface_hub's multi-line messages as one line: the command line reports errors in one."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:limit]}" if text else type(exc).__name__


def _bar_class(progress: Progress | None) -> Any:
    """A tqdm stand-in that forwards huggingface_hub's byte counts to ``progress`` (None: no bar at all)."""
    callback = progress or (lambda done, total: None)

    class _Bar:
        # huggingface_hub builds it with tqdm's keywords, enters it, and calls update(n) per chunk
        # (negative n when a resumed download restarts); nothing else of tqdm's API is used.
        def __init__(self, *args: Any, total: int | None = None, initial: int = 0, **kwargs: Any) -> None:
            self.total, self.n = total, initial

        def __enter__(self) -> _Bar:
            return self

        def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
            return None

        def update(self, n: int = 1) -> None:
            self.n += n
            callback(self.n, self.total)

        def close(self) -> None:
            return None

    return _Bar
