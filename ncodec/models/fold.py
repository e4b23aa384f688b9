"""Fold inference-mode BatchNorm into the layer before it: one pass over memory less per layer.

In eval mode a BatchNorm is a fixed per-channel scale and shift, which the preceding
convolution or linear layer can absorb. The folded network computes the same function up
to float rounding, and faster on a CPU (docs/results.md, speed).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval


def fold_batchnorm(net: nn.Module) -> nn.Module:
    """Replace every (Conv2d | ConvTranspose2d | Linear, BatchNorm) pair inside a Sequential, in place; ``net`` must be in eval mode."""
    for seq in [m for m in net.modules() if isinstance(m, nn.Sequential)]:
        layers = list(seq)
        folded: list[nn.Module] = []
        for layer in layers:
            previous = folded[-1] if folded else None
            if isinstance(layer, nn.modules.batchnorm._BatchNorm) and isinstance(previous, nn.Linear):
                folded[-1] = fuse_linear_bn_eval(previous, layer)
            elif isinstance(layer, nn.modules.batchnorm._BatchNorm) and isinstance(previous, nn.Conv2d | nn.ConvTranspose2d):
                folded[-1] = fuse_conv_bn_eval(previous, layer, transpose=isinstance(previous, nn.ConvTranspose2d))
            else:
                folded.append(layer)
        if len(folded) < len(layers):
            for name in list(seq._modules):
                del seq._modules[name]
            for i, layer in enumerate(folded):
                seq.add_module(str(i), layer)
    return net
