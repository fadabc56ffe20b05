"""AudioDec's causal HiFi-GAN vocoder that turns quantised code vectors into a waveform.

Kong et al., "HiFi-GAN", NeurIPS 2020, made causal and driven by AudioDec's 64-dim code vectors
(Wu et al., "AudioDec", ICASSP 2023, section 3): the input is standardised with the feature statistics
of the training set (`mean`, `scale` buffers, stored in the checkpoint), then a kernel-7 convolution,
one causal transposed convolution per upsampling scale (5, 5, 4, 3 for hop 300), each followed by a
multi-group residual block, and a kernel-7 output convolution with tanh. In the multi-group block (the
config's single resblock kernel with `groups: 3`) the features are repeated 3 times, go through dilated
grouped convolutions with residual connections, and a pointwise convolution merges the groups back.

State-dict keys follow upstream's `models.vocoder.HiFiGAN.Generator` with weight normalisation.
Only that configuration is built; HiFi-GAN's multi-receptive-field variant (`groups: 1` or several
kernels) is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from .conv import CausalConv1d, CausalConvTranspose1d, conv1x1

__all__ = ["VocoderConfig", "MultiGroupResBlock", "HiFiGANVocoder"]


@dataclass(frozen=True, slots=True)
class VocoderConfig:
    """`generator_params` of an AudioDec HiFi-GAN; defaults are `AudioDec_v1_symAD_libritts_24000_hop300_clean`.

    `stats` (upstream: the path of the `.npy` statistics) is kept only as information: the statistics
    travel in the checkpoint as the `mean` and `scale` buffers.
    """

    in_channels: int = 64
    out_channels: int = 1
    channels: int = 512
    kernel_size: int = 7
    upsample_scales: tuple[int, ...] = (5, 5, 4, 3)
    upsample_kernel_sizes: tuple[int, ...] = (10, 10, 8, 6)
    resblock_kernel_sizes: tuple[int, ...] = (11,)
    resblock_dilations: tuple[tuple[int, ...], ...] = ((1, 3, 5),)
    groups: int = 3
    bias: bool = True
    use_additional_convs: bool = True
    negative_slope: float = 0.1
    use_weight_norm: bool = True
    stats: str | None = "stats/symAD_libritts_24000_hop300_clean.npy"

    @classmethod
    def from_generator_params(cls, params: Mapping[str, Any]) -> VocoderConfig:
        """Reads upstream's `generator_params`; raises `ValueError` for settings this port does not build."""
        act = params.get("nonlinear_activation", "LeakyReLU")
        act_params = dict(params.get("nonlinear_activation_params") or {"negative_slope": 0.1})
        if act != "LeakyReLU" or set(act_params) - {"negative_slope"}:
            raise ValueError(f"AudioDec vocoder: activation {act} {act_params} is not supported (only LeakyReLU)")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known - {"nonlinear_activation", "nonlinear_activation_params"})
        if unknown:
            raise ValueError(f"AudioDec vocoder: unknown generator_params {unknown}")
        values: dict[str, Any] = {k: v for k, v in params.items() if k in known}
        for key in ("upsample_scales", "upsample_kernel_sizes", "resblock_kernel_sizes"):
            if key in values:
                values[key] = tuple(values[key])
        if "resblock_dilations" in values:
            values["resblock_dilations"] = tuple(tuple(d) for d in values["resblock_dilations"])
        values["negative_slope"] = float(act_params.get("negative_slope", 0.01))
        cfg = cls(**values)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if len(self.resblock_kernel_sizes) != 1 or len(self.resblock_dilations) != 1 or self.groups <= 1:
            raise ValueError(
                "AudioDec vocoder: only the multi-group block (one resblock kernel, groups > 1) is supported, got "
                f"kernels {list(self.resblock_kernel_sizes)}, groups {self.groups}"
            )
        if len(self.upsample_scales) != len(self.upsample_kernel_sizes) or any(
            k != 2 * s for s, k in zip(self.upsample_scales, self.upsample_kernel_sizes)
        ):
            raise ValueError(
                f"AudioDec vocoder: upsample kernels {list(self.upsample_kernel_sizes)} must be 2 x the scales "
                f"{list(self.upsample_scales)}"
            )
        if self.kernel_size % 2 != 1:
            raise ValueError(f"AudioDec vocoder: kernel_size must be odd, got {self.kernel_size}")


class MultiGroupResBlock(nn.Module):
    """`[B, C, T] -> [B, C, T]`: repeat to `groups x C` channels, dilated grouped residual convs, merge."""

    def __init__(
        self,
        channels: int,
        kernel_size: int,
        dilations: Sequence[int],
        groups: int,
        *,
        bias: bool,
        use_additional_convs: bool,
        negative_slope: float,
        weight_norm: bool,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"resblock kernel size must be odd, got {kernel_size}")
        wide = channels * groups
        self.groups = groups
        self.activation = nn.LeakyReLU(negative_slope)
        self.convs1 = nn.ModuleList(
            CausalConv1d(wide, wide, kernel_size, dilation=d, groups=groups, bias=bias, weight_norm=weight_norm)
            for d in dilations
        )
        self.convs2 = (
            nn.ModuleList(
                CausalConv1d(wide, wide, kernel_size, groups=groups, bias=bias, weight_norm=weight_norm)
                for _ in dilations
            )
            if use_additional_convs
            else None
        )
        self.conv_out = conv1x1(wide, channels, bias=False, weight_norm=weight_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.repeat(1, self.groups, 1)
        for i, conv in enumerate(self.convs1):
            y = conv(self.activation(x))
            if self.convs2 is not None:
                y = self.convs2[i](self.activation(y))
            x = x + y
        return self.conv_out(x)


class HiFiGANVocoder(nn.Module):
    """Code vectors `[B, in_channels, F]` -> waveform `[B, out_channels, F x prod(upsample_scales)]` in [-1, 1]."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, config: VocoderConfig | None = None) -> None:
        super().__init__()
        cfg = config or VocoderConfig()
        cfg.validate()
        self.config = cfg
        wn = cfg.use_weight_norm
        self.input_conv = CausalConv1d(cfg.in_channels, cfg.channels, cfg.kernel_size, weight_norm=wn)
        widths = [cfg.channels // 2**i for i in range(len(cfg.upsample_scales) + 1)]
        self.upsamples = nn.ModuleList(
            CausalConvTranspose1d(widths[i], widths[i + 1], k, s, weight_norm=wn)
            for i, (s, k) in enumerate(zip(cfg.upsample_scales, cfg.upsample_kernel_sizes))
        )
        self.blocks = nn.ModuleList(
            MultiGroupResBlock(
                widths[i + 1],
                cfg.resblock_kernel_sizes[0],
                cfg.resblock_dilations[0],
                cfg.groups,
                bias=cfg.bias,
                use_additional_convs=cfg.use_additional_convs,
                negative_slope=cfg.negative_slope,
                weight_norm=wn,
            )
            for i in range(len(cfg.upsample_scales))
        )
        self.activation_upsamples = nn.LeakyReLU(cfg.negative_slope)
        self.activation_output1 = nn.LeakyReLU()  # torch's default slope 0.01, as upstream
        self.activation_output2 = nn.Tanh()
        self.output_conv = CausalConv1d(widths[-1], cfg.out_channels, cfg.kernel_size, weight_norm=wn)
        self.normalize = cfg.stats is not None  # upstream registers the statistics only when given
        if self.normalize:
            self.register_buffer("mean", torch.zeros(cfg.in_channels))
            self.register_buffer("scale", torch.ones(cfg.in_channels))

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            c = (c - self.mean.view(1, -1, 1)) / self.scale.view(1, -1, 1)
        c = self.input_conv(c)
        for upsample, block in zip(self.upsamples, self.blocks):
            c = block(upsample(self.activation_upsamples(c)))
        return self.activation_output2(self.output_conv(self.activation_output1(c)))
