"""Run one atheris fuzz target: ``python tests/fuzz/run.py TARGET [libFuzzer flags]``.

Needs ``pip install atheris`` (in the [fuzz] extra). New interesting inputs are
written to tests/fuzz/corpus/TARGET/, which pytest replays in CI. The ``decode``
target builds the tiny stub manifold of the tests in a temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import atheris

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    name = sys.argv[1]
    with atheris.instrument_imports():
        from fuzz.targets import TARGETS

        import ncodec
    if name == "decode":
        from conftest import TINY, make_manifold

        root = Path(tempfile.mkdtemp())
        make_manifold(root, TINY)
        os.environ["NCODEC_MANIFOLD_PATH"] = str(root)
    target = TARGETS[name]

    def one(data: bytes) -> None:
        with contextlib.suppress(ncodec.NczError):
            target(data)

    corpus = HERE / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    atheris.Setup([sys.argv[0], str(corpus), *sys.argv[2:]], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
