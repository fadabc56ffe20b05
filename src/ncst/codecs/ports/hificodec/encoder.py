"""The HiFi-Codec encoder: waveform `[B, 1, T]` -> latents `[B, 512, T // 320]`.

Yang et al., "HiFi-Codec: Group-residual Vector quantization for High Fidelity Audio Codec", arXiv
2305.02765: the encoder mirrors the HiFi-GAN generator. A kernel-7 convolution to 32 channels, then per
downsampling stage (strides 2, 4, 5, 8 with kernels 4, 8, 11, 16: the generator's in reverse) leaky ReLU,
a strided convolution that doubles the channels and three residual blocks (kernels 11, 7, 3) whose
outputs are accumulated through a GroupNorm after each addition and averaged; finally leaky ReLU
(slope 0.01, torch's default, unlike the 0.1 elsewhere) and a plain kernel-3 convolution.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .config import LATENT_DIM, HiFiCodecConfig
from .resblock import LRELU_SLOPE, ResBlock
from .weight_norm import WNConv1d

__all__ = ["Encoder", "BASE_CHANNELS"]

BASE_CHANNELS = 32


class Encoder(nn.Module):
    """`[B, 1, T]` -> `[B, 512, T // hop]` (T >= hop; the strided convolutions drop the last `T mod hop` samples)."""

    def __init__(self, config: HiFiCodecConfig) -> None:
        super().__init__()
        stages = list(reversed(list(zip(config.upsample_rates, config.upsample_kernel_sizes))))
        kernels = list(reversed(config.resblock_kernel_sizes))
        dilations = list(reversed(config.resblock_dilation_sizes))
        self.n_blocks = len(kernels)
        self.conv_pre = WNConv1d(1, BASE_CHANNELS, 7, padding=3)
        self.normalize = nn.ModuleList()  # registered before `ups`, as upstream (state-dict key order)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (stride, kernel) in enumerate(stages):
            channels = BASE_CHANNELS * 2 ** (i + 1)
            self.ups.append(WNConv1d(channels // 2, channels, kernel, stride, padding=(kernel - stride) // 2))
            for k, d in zip(kernels, dilations):
                self.resblocks.append(ResBlock(channels, k, d))
                self.normalize.append(nn.GroupNorm(channels // 16, channels, eps=1e-6))
        self.conv_post = nn.Conv1d(LATENT_DIM, LATENT_DIM, 3, padding=1)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(wav)
        for i, down in enumerate(self.ups):
            x = down(F.leaky_relu(x, LRELU_SLOPE))
            first = i * self.n_blocks
            acc = self.normalize[first](self.resblocks[first](x))
            for j in range(first + 1, first + self.n_blocks):
                acc = self.normalize[j](acc + self.resblocks[j](x))
            x = acc / self.n_blocks
        return self.conv_post(F.leaky_relu(x))
