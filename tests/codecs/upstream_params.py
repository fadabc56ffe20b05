"""Helpers for the port equivalence tests (`test_*_upstream.py`): parameters that make a wrong port fail.

Upstream's default initialisation hides whole classes of porting errors: every weight-norm magnitude
`weight_g` equals `||weight_v||` (a port that ignores `weight_g` computes the same weight), norm scales
are 1 and shifts 0, Snake alphas are 1. `randomise_` breaks each of those symmetries independently;
`scale_output_` then brings the decoder's output back to a speech-like level, so no stage saturates
or vanishes and the compared outputs depend on the input. `relative_error` and `relative_change`
compare audio relative to its level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn


def randomise_(module: nn.Module, generator: torch.Generator, *, skip: Iterable[str] = ()) -> None:
    """Draws new values for every parameter of `module` (in place), names starting with `skip` excepted.

    * `weight_g`: each magnitude times an independent log-normal factor (sigma 0.5), so it is no longer
      `||weight_v||`;
    * weight tensors (2 or more axes, not constant), `weight_v` included: Gaussian noise of half their
      spread, which changes each direction;
    * everything else (biases, norm scales and shifts, Snake alphas, constant tensors): a log-normal
      factor (sigma 0.3) keeps each value's sign (alphas stay positive); all-zero tensors get N(0, 0.05).
    """
    prefixes = tuple(skip)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if prefixes and name.startswith(prefixes):
                continue
            noise = torch.randn(param.shape, generator=generator)
            if name.endswith("weight_g"):
                param.mul_(torch.exp(0.5 * noise))
            elif param.ndim > 1 and param.numel() > 1 and float(param.std()) > 0:
                param.add_(0.5 * float(param.std()) * noise)
            elif bool((param == 0).all()):
                param.copy_(0.05 * noise)
            else:
                param.mul_(torch.exp(0.3 * noise))


def rms(x: torch.Tensor) -> float:
    return float(x.double().pow(2).mean().sqrt())


def scale_params(module: nn.Module) -> list[torch.Tensor]:
    """What scales a linear module's output: its weight (`weight_g` where weight-normed) and its bias."""
    weight = module.weight_g if hasattr(module, "weight_g") else module.weight
    bias = getattr(module, "bias", None)
    return [t for t in (weight, bias) if isinstance(t, torch.Tensor)]


def scale_output_(
    params: Iterable[torch.Tensor], output_rms: Callable[[], float], *, target: float = 0.1, steps: int = 4
) -> float:
    """Scales `params` (a decoder's last layer) until `output_rms()` is near `target`; returns the final RMS.

    A few multiplicative steps, since a final tanh or Snake makes the level non-linear in the scale.
    """
    tensors = list(params)
    level = output_rms()
    for _ in range(steps):
        if not 0.0 < level < float("inf"):
            raise ValueError(f"decoder output RMS is {level}: the randomised model is degenerate")
        factor = target / level
        with torch.no_grad():
            for tensor in tensors:
                tensor.mul_(factor)
        level = output_rms()
    return level


def normalise_activations_(modules: Iterable[nn.Module], run: Callable[[], object], *, target: float = 1.0) -> None:
    """Scales each module's weight (`weight_g` where weight-normed) and bias so its output RMS is `target`.

    Data-dependent initialisation (LSUV, Mishkin & Matas 2015) in one forward pass `run()`: each
    module's output is rescaled as it is produced, so later modules see the rescaled input. Random
    weights leave a deep decoder's activations far below their biases, and the output then barely
    depends on the codes; at unit RMS it does. Only for linear modules (convolutions, linear layers),
    whose output scales exactly with weight and bias.
    """
    handles = []

    def hook(module: nn.Module, _inputs: object, output: torch.Tensor) -> torch.Tensor:
        factor = target / rms(output)
        with torch.no_grad():
            for tensor in scale_params(module):
                tensor.mul_(factor)
        return output * factor

    for module in modules:
        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()


def center_output_(conv: nn.Module, run: Callable[[], object]) -> None:
    """Shifts a convolution's bias so its output `[B, C, T]` has zero mean per channel on `run()`'s input.

    An encoder whose last layer adds a large constant makes every latent (and so every codebook row
    drawn from latents) nearly the same vector, and the decoder's output nearly independent of the codes.
    """
    means: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        means.append(output.mean(dim=(0, 2)))

    handle = conv.register_forward_hook(hook)
    try:
        with torch.no_grad():
            run()
    finally:
        handle.remove()
    with torch.no_grad():
        conv.bias.sub_(means[0])


def relative_error(ours: torch.Tensor, reference: torch.Tensor) -> float:
    """Largest absolute difference, divided by the reference's RMS."""
    return float((ours.double() - reference.double()).abs().max()) / rms(reference)


def relative_change(a: torch.Tensor, b: torch.Tensor) -> float:
    """RMS of `a - b` divided by the RMS of `a`: how much two outputs differ, relative to level."""
    return rms(a.double() - b.double()) / rms(a)


def speech_like(n_samples: int, sample_rate_hz: int, seed: int) -> torch.Tensor:
    """A clip `[1, n_samples]` whose pitch, harmonics, syllable rhythm and noise bursts all depend on `seed`.

    Two seeds give clearly different signals (unlike `calibration_signal`, whose chirp is fixed), so
    outputs that do not change between seeds expose a model whose output ignores its input.
    """
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(8, generator=g)
    t = torch.arange(n_samples, dtype=torch.float64) / sample_rate_hz
    f0 = 90.0 + 160.0 * float(u[0]) + 20.0 * torch.sin(2 * torch.pi * (1.0 + 3.0 * float(u[1])) * t)
    phase = 2 * torch.pi * torch.cumsum(f0, 0) / sample_rate_hz
    voiced = torch.zeros_like(t)
    for k in range(1, 16):
        if k * (90.0 + 160.0 * float(u[0])) > 0.45 * sample_rate_hz:
            break
        voiced += float(torch.rand(1, generator=g)) / k * torch.sin(k * phase + 6.3 * float(torch.rand(1, generator=g)))
    syllables = torch.sin(2 * torch.pi * (2.0 + 4.0 * float(u[2])) * t + 6.3 * float(u[3])).clamp_min(0.0)
    bursts = (torch.sin(2 * torch.pi * (3.0 + 5.0 * float(u[4])) * t + 6.3 * float(u[5])) > 0.6).double()
    noise = torch.randn(n_samples, generator=g, dtype=torch.float64) * bursts
    x = voiced * syllables + (0.2 + 0.4 * float(u[6])) * noise
    return (0.5 * x / x.abs().max()).float().reshape(1, n_samples)
