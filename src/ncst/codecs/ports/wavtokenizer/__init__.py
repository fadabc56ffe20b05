"""WavTokenizer network, our own torch implementation (inference path only).

Modules: `config` (hyperparameters, reading and writing of the upstream YAML), `conv` (weight-normalised SEANet
convolutions), `seanet` (encoder, unused decoder), `quantizer` (single 4096-entry codebook),
`tokenizer` (encoder + quantiser), `attention` (residual and attention blocks before the backbone),
`backbone` (Vocos ConvNeXt backbone with adaptive LayerNorm), `head` (iSTFT head), `model` (all three).
Imports torch only; the ncst adapter is `ncst.codecs.wavtokenizer`.
"""

from .config import FRAME40, FRAME75, WavTokenizerConfig, config_from_hparams, config_to_hparams
from .model import MODEL_PREFIXES, WavTokenizer, select_model_state

__all__ = [
    "FRAME40",
    "FRAME75",
    "MODEL_PREFIXES",
    "WavTokenizer",
    "WavTokenizerConfig",
    "config_from_hparams",
    "config_to_hparams",
    "select_model_state",
]
