"""sha256 of weight files: memoised per process for loading, uncached for ``verify``.

Every file a manifest pins is hashed before it is loaded; the memo (keyed on path,
inode, size and change times) keeps that to one read per file per process, while a
file changed or replaced on disk gets a new key and is hashed again.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from ncodec.errors import ManifoldError

_CHUNK = 1 << 20


def sha256_now(path: Path) -> bytes:
    """Read and hash the file now, bypassing the memo (what ``ncodec manifolds verify`` wants)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ManifoldError(f"cannot read {path}: {exc}") from exc
    return digest.digest()


@cache
def _memo(path: Path, inode: int, size: int, mtime_ns: int, ctime_ns: int) -> bytes:
    return sha256_now(path)


def file_sha256(path: Path) -> bytes:
    """sha256 of a file, hashed at most once per process while the file is unchanged."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ManifoldError(f"cannot read {path}: {exc}") from exc
    return _memo(path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
