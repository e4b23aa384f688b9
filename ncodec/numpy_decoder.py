"""The DCGAN generator in NumPy: decoding without importing torch.

``import torch`` takes 2.5-3.4 s on the development VM, about a thousand times the decode of one
image. The generator is small (a linear layer and a few 4x4 stride-2 transposed convolutions), so
NumPy computes it straight from the safetensors file at 1.1 ms per image (torch, batched: 0.6-0.7).
Each transposed convolution is one matrix product (every input pixel times the kernel, 16 taps at
once) and 16 strided adds into the output; BatchNorm is folded into the layer before it at load,
as for the torch network. Float rounding differs from torch's in the last bits, so a few decoded
samples in a million differ by one level: the same as between torch's own batch sizes
(docs/results.md, "The NumPy decoder"). ``ncodec.decoding`` decides which of the two runs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ncodec.errors import ManifoldError
from ncodec.images import Image8
from ncodec.manifold_config import ManifoldConfig, stage_widths


class NumpyUnsupportedError(ManifoldError):
    """A decoder file NumPy cannot hold (bf16 weights): torch decodes it instead."""


_BN_EPS = 1e-5  # torch.nn.BatchNorm's default, which the generator uses
Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Deconv:
    """A ConvTranspose2d(4, stride 2, padding 1) as a (Cin, 4*4*Cout) matrix, taps ordered (ky, kx, cout)."""

    taps: Array
    bias: Array
    out_channels: int

    def __call__(self, x: Array) -> Array:
        """(N, H, W, Cin) -> (N, 2H, 2W, Cout), NHWC in and out.

        Input pixel i reaches output 2i - 1 + k through tap k: 16 strided adds into a frame padded by
        1, then cropped. The frame's innermost axis, along which the adds run, is the longer of two:
        channels (NHWC) when there are as many as pixels in a row (the hidden layers), else rows
        (planar: the image layer, whose 1-3 channels made NumPy's inner loops 3 long, 3-5x slower).
        """
        n, h, w, cin = x.shape
        c = self.out_channels
        if w <= c:
            cols = (x.reshape(-1, cin) @ self.taps).reshape(n, h, w, 4, 4, c)
            out = np.zeros((n, 2 * h + 2, 2 * w + 2, c), np.float32)
            for ky, kx in itertools.product(range(4), range(4)):
                out[:, ky : ky + 2 * h : 2, kx : kx + 2 * w : 2] += cols[:, :, :, ky, kx]
            out = out[:, 1:-1, 1:-1]
        else:
            planar = (self.taps.T @ x.reshape(-1, cin).T).reshape(4, 4, c, n, h, w)
            frame = np.zeros((c, n, 2 * h + 2, 2 * w + 2), np.float32)
            for ky, kx in itertools.product(range(4), range(4)):
                frame[:, :, ky : ky + 2 * h : 2, kx : kx + 2 * w : 2] += planar[ky, kx]
            out = frame[:, :, 1:-1, 1:-1].transpose(1, 2, 3, 0)
        out += self.bias
        return out


class NumpyGenerator:
    """z (N, M) in [-1, 1] -> (N, S, S, C) uint8: the manifold's decoder, computed with NumPy."""

    def __init__(self, config: ManifoldConfig, state: dict[str, npt.NDArray[np.generic]]) -> None:
        try:
            self._build(config, {k: v.astype(np.float32) for k, v in state.items() if v.dtype.kind == "f"})
            unexpected = sorted(set(state) - self._read)
            if unexpected:  # torch's load_state_dict refuses these too
                raise ValueError(f"unexpected {', '.join(unexpected)}")
        except (KeyError, ValueError) as exc:
            raise ManifoldError(f"decoder weights do not match the architecture of {config.id!r}: {exc}") from exc

    def _build(self, config: ManifoldConfig, s: dict[str, Array]) -> None:
        """Weights named and shaped as ``ncodec.models.dcgan.Generator``'s state dict, BatchNorm folded in."""
        widths = stage_widths(config, config.width)
        self._read: set[str] = set()  # the keys taken, against which the file's are checked
        self._seed = widths[0]
        weight = self._take(s, "project.0.weight", (self._seed * 16, config.latent_dim))
        scale, shift = self._batchnorm(s, "project.1", self._seed * 16)
        # Rows reordered from torch's (c, y, x) to (y, x, c): the product is then the NHWC 4x4 seed.
        order = np.arange(self._seed * 16).reshape(self._seed, 4, 4).transpose(1, 2, 0).ravel()
        self._project = np.ascontiguousarray((weight * scale[:, None])[order].T)
        self._project_bias = shift[order]
        self._layers: list[_Deconv] = []
        outs = [*widths[1:], config.channels]
        for i, (cin, cout) in enumerate(zip(widths, outs, strict=True)):  # body: [deconv, BatchNorm, ReLU] * n, deconv last
            w = self._take(s, f"body.{3 * i}.weight", (cin, cout, 4, 4))
            if i < len(widths) - 1:
                scale, bias = self._batchnorm(s, f"body.{3 * i + 1}", cout)
                w = w * scale[None, :, None, None]
            else:
                bias = self._take(s, f"body.{3 * i}.bias", (cout,))
            self._layers.append(_Deconv(np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(cin, 16 * cout)), bias, cout))

    def _take(self, s: dict[str, Array], key: str, shape: tuple[int, ...]) -> Array:
        if s[key].shape != shape:
            raise ValueError(f"{key} has shape {s[key].shape}, expected {shape}")
        self._read.add(key)
        return s[key]

    def _batchnorm(self, s: dict[str, Array], prefix: str, channels: int) -> tuple[Array, Array]:
        """An inference-mode BatchNorm as the per-channel (scale, shift) it applies."""
        gamma, beta, mean, var = (self._take(s, f"{prefix}.{k}", (channels,)) for k in ("weight", "bias", "running_mean", "running_var"))
        self._read.add(f"{prefix}.num_batches_tracked")  # a training counter, not used at inference
        scale = gamma / np.sqrt(var + _BN_EPS)
        return scale, beta - mean * scale

    def __call__(self, z: Array) -> Image8:
        x = z.astype(np.float32) @ self._project
        x += self._project_bias
        x = np.maximum(x, 0, out=x).reshape(len(z), 4, 4, self._seed)
        for layer in self._layers[:-1]:
            x = layer(x)
            np.maximum(x, 0, out=x)
        x = np.tanh(self._layers[-1](x))
        # As ncodec.latent.to_uint8: rounded half to even, like torch.round.
        return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def load(path: Path, config: ManifoldConfig) -> NumpyGenerator:
    """The NumPy generator of the decoder file at ``path`` (safetensors, read without torch)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        state = load_file(str(path))
    except TypeError as exc:  # a dtype NumPy has no type for (bfloat16)
        raise NumpyUnsupportedError(f"{path}: {exc}") from exc
    except (SafetensorError, OSError) as exc:
        raise ManifoldError(f"cannot read weights {path}: {exc}") from exc
    return NumpyGenerator(config, state)
