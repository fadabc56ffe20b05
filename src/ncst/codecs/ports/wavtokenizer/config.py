"""Hyperparameters of a WavTokenizer model, and their reading from an upstream training YAML.

The upstream configuration files (`configs/wavtokenizer_smalldata_frame{75,40}_3s_nq1_code4096_dim512_
kmeans200_attn.yaml` in github.com/jishengpeng/WavTokenizer) are Lightning CLI files whose
`model.init_args` name three parts: `feature_extractor` (EnCodec-style SEANet encoder + one 4096-entry
codebook), `backbone` (Vocos backbone with attention blocks) and `head` (iSTFT head). Only those
fields change the network; `FRAME75` and `FRAME40` below are the two published ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

__all__ = ["WavTokenizerConfig", "FRAME75", "FRAME40", "config_from_hparams", "config_to_hparams"]

_FEATURE_EXTRACTOR = "decoder.feature_extractors.EncodecFeatures"
_BACKBONE = "decoder.models.VocosBackbone"
_HEAD = "decoder.heads.ISTFTHead"


@dataclass(frozen=True, slots=True)
class WavTokenizerConfig:
    """Network hyperparameters (names follow the upstream YAML where it has one).

    Attributes:
        sample_rate_hz: Audio rate in and out.
        downsamples: Upstream `dowmsamples`: stride of each SEANet stage, listed in decoder order (the
            encoder applies them last to first). Their product is the hop in samples per token.
        decoder_ratios: Strides of the SEANet decoder that the checkpoint carries but inference never
            runs (fixed to 8, 5, 4, 2 upstream for every config).
        latent_dim: Encoder output and codebook dimension.
        n_filters: Channels of the first SEANet stage (doubled at every downsampling).
        lstm_layers: LSTM layers at the end of the SEANet encoder (and the start of its decoder).
        num_quantizers: Codebooks in the quantiser (inference uses the first one only).
        codebook_size: Entries per codebook (`vq_bins`).
        bandwidths: Upstream `bandwidths`; one AdaLayerNorm condition per entry.
        dim: Backbone width.
        intermediate_dim: ConvNeXt hidden width.
        num_layers: ConvNeXt blocks.
        adanorm_num_embeddings: Conditions of the AdaLayerNorms (None: plain LayerNorm).
        n_fft: iSTFT size (also the window length).
        hop_length: iSTFT hop; equals the token hop.
    """

    sample_rate_hz: int = 24_000
    downsamples: tuple[int, ...] = (8, 5, 4, 2)
    decoder_ratios: tuple[int, ...] = (8, 5, 4, 2)
    latent_dim: int = 512
    n_filters: int = 32
    lstm_layers: int = 2
    num_quantizers: int = 1
    codebook_size: int = 4096
    bandwidths: tuple[float, ...] = (6.6, 6.6, 6.6, 6.6)
    dim: int = 768
    intermediate_dim: int = 2304
    num_layers: int = 12
    adanorm_num_embeddings: int | None = 4
    n_fft: int = 1280
    hop_length: int = 320

    @property
    def hop_samples(self) -> int:
        """Samples per token frame (product of the encoder strides)."""
        return math.prod(self.downsamples)

    @property
    def frame_rate_hz(self) -> float:
        return self.sample_rate_hz / self.hop_samples

    def validate(self) -> None:
        """Raises ValueError if the encoder and the iSTFT head disagree on the hop."""
        if self.hop_samples != self.hop_length:
            raise ValueError(
                f"encoder hop {self.hop_samples} (downsamples {list(self.downsamples)}) differs from the "
                f"iSTFT hop_length {self.hop_length}; the decoder output would not line up with the tokens"
            )
        if self.n_fft < self.hop_length or (self.n_fft - self.hop_length) % 2:
            raise ValueError(f"n_fft {self.n_fft} must be >= hop_length {self.hop_length} with an even difference")


#: `wavtokenizer_smalldata_frame75_3s_nq1_code4096_dim512_kmeans200_attn.yaml`: 75 tokens/s.
FRAME75 = WavTokenizerConfig()
#: `wavtokenizer_smalldata_frame40_3s_nq1_code4096_dim512_kmeans200_attn.yaml`: 40 tokens/s.
FRAME40 = replace(FRAME75, downsamples=(6, 5, 5, 4), n_fft=2400, hop_length=600)


def config_from_hparams(hparams: Mapping[str, Any]) -> WavTokenizerConfig:
    """Reads a parsed upstream training YAML (`{"model": {"init_args": {...}}}`) into a config.

    Raises:
        ValueError: The file describes another architecture (other class paths, `center` padding, an
            EnCodec model other than `encodec_24khz`) or misses a field.
    """
    try:
        init = hparams["model"]["init_args"]
        parts = {key: init[key] for key in ("feature_extractor", "backbone", "head")}
    except (KeyError, TypeError) as err:
        raise ValueError(f"not a WavTokenizer training config: missing model.init_args entry {err}") from err
    expected = {"feature_extractor": _FEATURE_EXTRACTOR, "backbone": _BACKBONE, "head": _HEAD}
    for key, class_path in expected.items():
        if parts[key].get("class_path") != class_path:
            raise ValueError(
                f"{key}: class_path {parts[key].get('class_path')!r} is not supported; expected {class_path}"
            )
    fe, bb, hd = (parts[key].get("init_args", {}) for key in ("feature_extractor", "backbone", "head"))
    if fe.get("encodec_model", "encodec_24khz") != "encodec_24khz":
        raise ValueError(
            f"feature_extractor.encodec_model {fe['encodec_model']!r}: only 'encodec_24khz' exists upstream"
        )
    if hd.get("padding", "same") != "same":
        raise ValueError(f"head.padding {hd['padding']!r}: only 'same' is supported")
    if hd.get("dim", bb.get("dim")) != bb.get("dim"):
        raise ValueError(f"head.dim {hd.get('dim')} differs from backbone.dim {bb.get('dim')}")
    if int(bb.get("input_channels", 512)) != 512:
        raise ValueError(f"backbone.input_channels {bb['input_channels']}: the upstream encoder always emits 512")
    sample_rate = int(init.get("sample_rate", 24_000))
    try:
        config = WavTokenizerConfig(
            sample_rate_hz=sample_rate,
            downsamples=tuple(int(r) for r in fe.get("dowmsamples", (6, 5, 5, 4))),
            num_quantizers=int(fe.get("num_quantizers", 1)),
            codebook_size=int(fe.get("vq_bins", 16384)),
            bandwidths=tuple(float(b) for b in fe.get("bandwidths", (1.5, 3.0, 6.0, 12.0))),
            dim=int(bb["dim"]),
            intermediate_dim=int(bb["intermediate_dim"]),
            num_layers=int(bb["num_layers"]),
            adanorm_num_embeddings=(
                None if bb.get("adanorm_num_embeddings") is None else int(bb["adanorm_num_embeddings"])
            ),
            n_fft=int(hd["n_fft"]),
            hop_length=int(hd["hop_length"]),
        )
    except KeyError as err:
        raise ValueError(f"not a WavTokenizer training config: missing field {err}") from err
    config.validate()
    return config


def config_to_hparams(config: WavTokenizerConfig) -> dict[str, Any]:
    """The `model:` part of an upstream training YAML that describes `config` (inverse of `config_from_hparams`).

    Only the fields that shape the network are written (plus upstream's `vq_kmeans` and `train_codebooks`,
    which `from_hparams0802` passes on); the training and data sections are left out.
    """
    feature_extractor = {
        "encodec_model": "encodec_24khz",
        "bandwidths": list(config.bandwidths),
        "train_codebooks": True,
        "num_quantizers": config.num_quantizers,
        "dowmsamples": list(config.downsamples),
        "vq_bins": config.codebook_size,
        "vq_kmeans": 200,
    }
    backbone = {
        "input_channels": config.latent_dim,
        "dim": config.dim,
        "intermediate_dim": config.intermediate_dim,
        "num_layers": config.num_layers,
        "adanorm_num_embeddings": config.adanorm_num_embeddings,
    }
    head = {"dim": config.dim, "n_fft": config.n_fft, "hop_length": config.hop_length, "padding": "same"}
    return {
        "model": {
            "class_path": "decoder.experiment.WavTokenizer",
            "init_args": {
                "sample_rate": config.sample_rate_hz,
                "feature_extractor": {"class_path": _FEATURE_EXTRACTOR, "init_args": feature_extractor},
                "backbone": {"class_path": _BACKBONE, "init_args": backbone},
                "head": {"class_path": _HEAD, "init_args": head},
            },
        }
    }
