"""Where the networks run: "cpu" (the default), "cuda", "cuda:N", or "auto" (CUDA when torch sees it).

The CPU stays the default so that a file's bytes and pixels do not depend on whether the machine
has a GPU (refinement and convolutions round differently there). Names are checked without
importing torch, so a misspelt one fails before the seconds torch takes to import.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEFAULT_DEVICE = "cpu"
_NAME = re.compile(r"cpu|auto|cuda(:\d{1,3})?")


def check_device(name: str) -> str:
    """``name`` if it is a device name ncodec takes, else ValueError (torch is not imported)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {name!r}")
    return name


def torch_device(name: str) -> torch.device:
    """The torch device ``name`` stands for; ValueError when it names a GPU this torch cannot use.

    A GPU always comes back with its index ("cuda" is the current one, e.g. cuda:0), so the
    networks cached per device are loaded once whichever of "cuda", "cuda:0" or "auto" asks.
    """
    import torch

    if check_device(name) == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: this torch ({torch.__version__}) sees no CUDA device")
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        if device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device
