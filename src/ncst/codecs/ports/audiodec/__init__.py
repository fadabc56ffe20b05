"""AudioDec (Wu, Gebru, Markovic, Richard: "AudioDec: An Open-source Streaming High-fidelity Neural
Audio Codec", ICASSP 2023, arXiv 2305.16608), our own torch port of the `libritts_v1` pair.

Written from the paper, the released configs and a reading of github.com/facebookresearch/AudioDec
(commit e451e62580a66fe74426db51d92a6d0d468b70b3; code and weights CC BY-NC 4.0, its HiFi-GAN and
VQ parts derive from MIT-licensed projects). No code is copied. State-dict keys and shapes equal
upstream's, so the released `checkpoint-500000steps.pkl` files (`["model"]["generator"]`) load as they
are: `symAD_libritts_24000_hop300` into `SymAudioDec`, `AudioDec_v1_symAD_libritts_24000_hop300_clean`
(with its feature statistics as the `mean`/`scale` buffers) into `HiFiGANVocoder`.

Only torch is imported here, never ncst.
"""

from .autoencoder import AutoencoderConfig, SymAudioDec
from .codec import RECEPTIVE_LENGTH, AudioDec, build_libritts_v1
from .conv import CausalConv1d, CausalConvTranspose1d, conv1x1, conv_weights
from .decoder import Decoder
from .encoder import Encoder, Projector
from .hifigan import HiFiGANVocoder, VocoderConfig
from .quantizer import Quantizer, ResidualVQ, VectorQuantizer, flatten_codes
from .streaming import causal_layers, recording_context, use_forward_padding

__all__ = [
    "RECEPTIVE_LENGTH",
    "AudioDec",
    "AutoencoderConfig",
    "CausalConv1d",
    "CausalConvTranspose1d",
    "conv1x1",
    "conv_weights",
    "Decoder",
    "Encoder",
    "HiFiGANVocoder",
    "Projector",
    "Quantizer",
    "ResidualVQ",
    "SymAudioDec",
    "VectorQuantizer",
    "VocoderConfig",
    "build_libritts_v1",
    "causal_layers",
    "flatten_codes",
    "recording_context",
    "use_forward_padding",
]
