"""The HiFi-Codec decoder: a HiFi-GAN V1 generator from quantised latents `[B, 512, F]` to `[B, 1, 320 F]`.

Kong et al., "HiFi-GAN", arXiv 2010.05646: a kernel-7 convolution, then per upsampling stage (rates 8,
5, 4, 2; kernels 16, 11, 8, 4; channels halving from 512) leaky ReLU, a transposed convolution and the
mean of three residual blocks (kernels 3, 7, 11); finally leaky ReLU, a kernel-7 convolution to one
channel and tanh. All convolutions are weight-normalised.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .config import LATENT_DIM, HiFiCodecConfig
from .resblock import LRELU_SLOPE, ResBlock
from .weight_norm import WNConv1d, WNConvTranspose1d

__all__ = ["Generator"]


class Generator(nn.Module):
    """`[B, 512, F]` -> `[B, 1, hop * F]` in [-1, 1]."""

    def __init__(self, config: HiFiCodecConfig) -> None:
        super().__init__()
        width = config.upsample_initial_channel
        self.n_blocks = len(config.resblock_kernel_sizes)
        self.conv_pre = WNConv1d(LATENT_DIM, width, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        channels = width
        for i, (rate, kernel) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes)):
            channels = width // 2 ** (i + 1)
            self.ups.append(WNConvTranspose1d(channels * 2, channels, kernel, rate, padding=(kernel - rate) // 2))
            for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes):
                self.resblocks.append(ResBlock(channels, k, d))
        self.conv_post = WNConv1d(channels, 1, 7, padding=3)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(latents)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.n_blocks : (i + 1) * self.n_blocks]
            acc = blocks[0](x)
            for block in blocks[1:]:
                acc = acc + block(x)
            x = acc / self.n_blocks
        return torch.tanh(self.conv_post(F.leaky_relu(x, LRELU_SLOPE)))
