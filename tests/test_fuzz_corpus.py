"""Replays the fuzzers' saved inputs (tests/fuzz/corpus/TARGET/): only NczError may come out."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz.targets import TARGETS

import ncodec

CORPUS = Path(__file__).parent / "fuzz" / "corpus"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_corpus_replay_raises_only_ncz_errors(name: str) -> None:
    files = sorted((CORPUS / name).iterdir())
    assert files, f"empty corpus for {name}"
    outcomes = {"ok": 0, "refused": 0}
    for path in files:
        try:
            TARGETS[name](path.read_bytes())
            outcomes["ok"] += 1
        except ncodec.NczError:
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == len(files)
