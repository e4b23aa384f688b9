"""The command line's exit statuses: one per kind of failure, so scripts can tell them apart.

| status | meaning |
|---|---|
| 0 | success |
| 1 | bad input: corrupt, truncated or damaged file, unreadable image, output exists |
| 2 | usage error (bad option or argument) |
| 3 | manifold unavailable: unknown id, not downloadable, or different weights |
| 4 | limit exceeded: a declared or actual size beyond the documented limits |
| 130 | interrupted (Ctrl-C or SIGTERM); no partial output is left |
| 141 | stdout closed early by its reader (`head -c 0`, say): stopped quietly, as on SIGPIPE |
"""

from __future__ import annotations

from ncodec.errors import ImageTooLargeError, LimitExceededError, ManifoldError

OK = 0
BAD_INPUT = 1
USAGE = 2
MANIFOLD_UNAVAILABLE = 3
LIMIT_EXCEEDED = 4
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it


def for_error(exc: BaseException) -> int:
    """The exit status a failure with ``exc`` ends the command with."""
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, ManifoldError):
        return MANIFOLD_UNAVAILABLE
    if isinstance(exc, (LimitExceededError, ImageTooLargeError)):
        return LIMIT_EXCEEDED
    return BAD_INPUT
