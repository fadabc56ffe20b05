"""The AudioDec codec as ST-Codecfake uses it: symAD encoder + residual VQ, HiFi-GAN vocoder decoder.

`AudioDec(autoencoder, vocoder)` encodes a batch of waveforms to codes and decodes codes to waveforms
in one pass per batch. After `prime()` (the default state of `build_libritts_v1` and of the ncst
adapter) each utterance gives what upstream's streaming API gives for it (`demoFile.py`: warm-up on
8192 zero samples, then one `encode`/`quantize`/`lookup`/`decode` call); after
`use_forward_padding()` it gives upstream's non-streaming `forward` instead (`codecTest.py`).
"""

from __future__ import annotations

import torch
from torch import nn

from .autoencoder import AutoencoderConfig, SymAudioDec
from .hifigan import HiFiGANVocoder, VocoderConfig
from .streaming import has_context, recording_context, use_forward_padding

__all__ = ["RECEPTIVE_LENGTH", "AudioDec", "build_libritts_v1"]

#: Zero samples upstream's `AudioDec(receptive_length=8192)` warms the streaming layers up on.
RECEPTIVE_LENGTH = 8192


class AudioDec(nn.Module):
    """Encoder side of `autoencoder` (its symmetric decoder is kept but unused) plus `vocoder`."""

    def __init__(self, autoencoder: SymAudioDec, vocoder: HiFiGANVocoder) -> None:
        super().__init__()
        enc, voc = autoencoder.config, vocoder.config
        if enc.code_dim != voc.in_channels:
            raise ValueError(f"autoencoder code_dim {enc.code_dim} != vocoder in_channels {voc.in_channels}")
        upsampling = 1
        for s in voc.upsample_scales:
            upsampling *= s
        if upsampling != enc.hop_length:
            raise ValueError(f"vocoder upsamples x{upsampling}, but the encoder hop is {enc.hop_length}")
        self.autoencoder = autoencoder
        self.vocoder = vocoder

    @property
    def hop_length(self) -> int:
        return self.autoencoder.config.hop_length

    @property
    def streaming_state(self) -> bool:
        """True after `prime`, False after `use_forward_padding`."""
        return has_context(self)

    def prime(self, receptive_length: int = RECEPTIVE_LENGTH) -> AudioDec:
        """Replays upstream's streaming warm-up (`initial_encoder` + `initial_decoder`) and freezes it."""
        param = next(self.parameters())
        zeros = torch.zeros(1, self.autoencoder.config.input_channels, receptive_length, device=param.device)
        use_forward_padding(self)
        with recording_context(self):
            codes = self.autoencoder.encode(zeros)
            self.vocoder(self.autoencoder.lookup(codes))
        return self

    def use_forward_padding(self) -> AudioDec:
        """Switches to upstream's non-streaming `forward` padding (no warm-up state)."""
        use_forward_padding(self)
        return self

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """Waveform `[B, 1, T]` -> codes `[B, n_q, ceil(T / hop)]`."""
        return self.autoencoder.encode(wav)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, n_q, F]` -> waveform `[B, 1, F x hop]` through the HiFi-GAN vocoder."""
        return self.vocoder(self.autoencoder.lookup(codes))


def build_libritts_v1(
    autoencoder_config: AutoencoderConfig | None = None, vocoder_config: VocoderConfig | None = None
) -> AudioDec:
    """`symAD_libritts_24000_hop300` + `AudioDec_v1_symAD_libritts_24000_hop300_clean` (random weights).

    Load the checkpoints' `model.generator` state dicts into `.autoencoder` and `.vocoder`, then call
    `prime()` (the warm-up depends on the weights).
    """
    return AudioDec(SymAudioDec(autoencoder_config), HiFiGANVocoder(vocoder_config)).eval()
