"""How the causal layers pad on the left: upstream's non-streaming `forward`, or its streaming state.

Upstream AudioDec has two inference paths that differ only at the start of an utterance:

* `forward` (training and `codecTest.py`): causal convolutions pad with zeros, causal transposed
  convolutions repeat their first frame;
* the streaming API (`demoFile.py` via `utils/audiodec.py`): `load_transmitter`/`load_receiver` warm
  every layer up on `receptive_length` (8192) zero samples - the encoder on the zeros, the vocoder on
  the codes of those zeros - and every later call continues from the layers' buffers.

`prime` replays that warm-up once at batch 1 and freezes each layer's left context; afterwards a whole
batch is processed in one non-streaming pass per utterance and gives what the streaming API gives for
each utterance on its own (one `encode`/`decode` call per file, as `demoFile.py` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .conv import CausalLayer

__all__ = ["causal_layers", "has_context", "recording_context", "use_forward_padding"]


def causal_layers(model: nn.Module) -> Iterator[CausalLayer]:
    """Every causal (transposed) convolution in `model`."""
    for module in model.modules():
        if isinstance(module, CausalLayer):
            yield module


def use_forward_padding(model: nn.Module) -> None:
    """Drops all contexts: zero / first-frame padding, as upstream's non-streaming `forward`."""
    for layer in causal_layers(model):
        layer.context = None
        layer.recording = False


@contextmanager
def recording_context(model: nn.Module, *, from_current: bool = False) -> Iterator[None]:
    """Lets batch-1 calls update the layers' contexts, as upstream's streaming calls update its buffers.

    Every layer starts from its checkpoint `pad_buffer` (upstream's state after loading), or with
    `from_current` from its present context (to stream chunk by chunk after a warm-up). On exit the
    contexts are frozen: later calls read them but no longer change them.
    """
    layers = list(causal_layers(model))
    for layer in layers:
        if not (from_current and layer.context is not None):
            layer.context = layer.pad_buffer.detach().clone()
        layer.recording = True
    try:
        with torch.no_grad():
            yield
    finally:
        for layer in layers:
            layer.recording = False


def has_context(model: nn.Module) -> bool:
    """True when the layers use a frozen streaming context (after `recording_context`)."""
    return any(layer.context is not None for layer in causal_layers(model))
