"""Runs every code block of docs/usage.md, in order, so the guide cannot rot.

``console`` blocks: each ``$ `` line runs in bash and must exit 0. ``python`` blocks:
one shared namespace, like a single interactive session. All in a scratch folder
with the example image, on the bundled default manifold.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
GUIDE = ROOT / "docs" / "usage.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(GUIDE.read_text())]


def test_guide_has_runnable_blocks_only() -> None:
    kinds = {kind for kind, _ in blocks()}
    assert kinds <= {"console", "python"}, kinds
    assert len(blocks()) >= 10


def test_every_block_of_the_usage_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(ROOT / "examples" / "kodim04-face.png", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NCODEC_MANIFOLD_PATH", raising=False)
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    namespace: dict[str, object] = {"__name__": "usage_guide"}
    for number, (kind, code) in enumerate(blocks(), 1):
        if kind == "python":
            exec(compile(code, f"{GUIDE.name} block {number}", "exec"), namespace)
            continue
        for line in code.splitlines():
            if line.startswith("$ "):
                done = subprocess.run(["bash", "-c", line[2:]], cwd=tmp_path, env=env, capture_output=True, text=True)
                assert done.returncode == 0, f"block {number}: {line}\n{done.stderr}"
