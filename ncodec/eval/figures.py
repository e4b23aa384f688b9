"""The side-by-side log-x line charts every `ncodec eval` report draws."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def log_x_panels(path: Path, title: str, xlabel: str, ylabels: Sequence[str], legend_panel: int = 0) -> Iterator[Any]:
    """Yield one matplotlib axis per y label to draw on; then label, grid and save them to ``path`` as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(ylabels), figsize=(11, 4.2))
    try:
        yield axes
        for ax, label in zip(axes, ylabels, strict=True):
            ax.set_xscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            ax.grid(True, which="both", alpha=0.3)
        axes[legend_panel].legend(fontsize=7)
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
