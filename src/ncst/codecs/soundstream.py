"""SoundStream 16 kHz, 4 kbps (ST-Codecfake OOD class 11, Codecfake C1/F01), on our own port.

Codec: Zeghidour et al., "SoundStream: An End-to-End Neural Audio Codec", arXiv 2107.03312 (2021).
Upstream: github.com/kaiidams/soundstream-pytorch at commit 9c6086e (MIT licence for code and weights), the
only public 16 kHz / stride-320 / 8 x 1024 SoundStream checkpoint; it has no installable package, so ncst
runs its own implementation of that architecture (`ncst.codecs.ports.soundstream`). Weights: the v1.0
release `soundstream_16khz-20230425.ckpt` (trained on LibriSpeech train-clean-100), fetched into the
torch hub cache `$TORCH_HOME/hub/checkpoints/` exactly where upstream's `hubconf.soundstream_16khz`
puts it. (Upstream HEAD points to a 2026 v1.1 checkpoint with a renamed buffer; the 2023 one is the
one the dataset could have used.)

Upstream runs every convolution unpadded (`padding="valid"`), so its `decode(encode(x))` loses about
10,600 samples and starts 5,264 samples late. This adapter pads the input with zeros, 5,264 samples on
the left and enough on the right, so the output covers and lines up with every input sample; the
codes therefore include about 17 frames of context per utterance.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import resolve_file, state_dict_of, url_file
from ncst.codecs.ports.soundstream import HOP_SAMPLES, SAMPLE_RATE_HZ, SoundStream, plan_padding
from ncst.codecs.random_init import seed_codebooks_from
from ncst.errors import WeightsError
from ncst.taxonomy import Taxonomy

__all__ = ["CHECKPOINT_NAME", "CHECKPOINT_URL", "DEFAULT_VARIANT", "VARIANTS", "SoundStreamCodec", "codec_state_dict"]

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "soundstream_16khz-20230425.ckpt"
CHECKPOINT_URL = "https://github.com/kaiidams/soundstream-pytorch/releases/download/v1.0/" + CHECKPOINT_NAME
UPSTREAM_COMMIT = "9c6086e4fccaf75adb3f62014f750843fc68d84e"
FRAME_RATE_HZ = SAMPLE_RATE_HZ / HOP_SAMPLES  # 50.0
N_CODEBOOKS = 8
CODEBOOK_SIZE = 1024
#: Entries of the Lightning checkpoint's `state_dict` that belong to the codec (the rest are discriminators).
MODEL_PREFIXES = ("encoder.", "decoder.", "quantizer.")
CALIBRATION_S = 2.0
_CLASS = class_by_key("soundstream")  # OOD class 11, file prefix "soundstream"

VARIANTS: dict[str, CodecCard] = {
    "16khz": CodecCard(
        name=_CLASS.key,
        variant="16khz",
        family=_CLASS.family,
        class_id=_CLASS.class_id,
        file_prefix=_CLASS.file_prefix,
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=N_CODEBOOKS,
        frame_rate_hz=FRAME_RATE_HZ,
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=4000.0,
        effective_bitrate_bps=FRAME_RATE_HZ * N_CODEBOOKS * 10,  # log2(1024) = 10 bit per code
        checkpoint=CHECKPOINT_URL,
        checkpoint_sha256=None,  # not published upstream
        upstream_package="",  # our port (ncst.codecs.ports.soundstream) of kaiidams/soundstream-pytorch
        pip_extra="",
        source="port",
        upstream_repo="https://github.com/kaiidams/soundstream-pytorch",
        upstream_commit=UPSTREAM_COMMIT,
        pad_multiple=HOP_SAMPLES,
        licence="MIT (kaiidams/soundstream-pytorch code and weights); port: ncst's licence",
        quantizer="RVQ (8 x 1024 x 512, EMA codebooks)",
        decoder_type="time domain (SEANet-style conv, unpadded)",
        taxonomy=Taxonomy(
            "multi-codebook", "none", "time", "reconstruction, adversarial and feature-matching losses only"
        ),
        notes=(
            "OOD codec (eval_ood), Codecfake F01 (16 kHz, 4 kbps, 8 Q, confirmed table). Class id 11 and the "
            "file prefix 'soundstream' are inferred (the repo never names ids 8-11; the project uses the paper's "
            "Table 2 order). Checkpoint inferred: kaiidams v1.0 is the only public SoundStream with exactly 16 kHz, "
            "stride 320 and 8 x 1024 codes; the authors may have trained their own on LibriTTS. "
            "Quirks handled: upstream's unpadded ('valid') convolutions shorten and delay the output, so the "
            "input is zero-padded by 5264 samples on the left and ~5490 on the right and the output is the first "
            "T decoded samples (aligned, no samples lost); codes include ~17 context frames per utterance. "
            "Upstream's quantizer runs its EMA codebook update even in eval mode, so its codebook drifts with "
            "every encode call; ncst decodes with the stored codebook (a pure function). Port verified against "
            f"upstream commit {UPSTREAM_COMMIT[:7]} (docs/codecs.md)."
        ),
        extra={"alignment_padding": "zeros", "upstream_commit": UPSTREAM_COMMIT},
    ),
}
DEFAULT_VARIANT = "16khz"


class SoundStreamCodec(Codec):
    """SoundStream 16 kHz; codes are one level `[B, 8, F]` with `F = ceil((T + 5534) / 320)`."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT
    #: Each output sample sees a fixed window of the zero-padded input: extra zeros on the right (batch
    #: padding) fall where the adapter's own right padding already puts zeros, on the same frame grid.
    batch_safe = True

    # -- load hooks ------------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> SoundStream:
        """Official architecture with seeded random weights (the base class seeds torch's RNG)."""
        model = _new_model()
        _seed_codebooks(model, seed)
        return model

    def _load_pretrained(self) -> SoundStream:
        """The v1.0 release, downloaded once into the torch hub cache."""
        return self._load_local(url_file(CHECKPOINT_URL))

    def _load_local(self, path: Path) -> SoundStream:
        """An upstream `.ckpt` (or plain state dict) file, or a folder holding `soundstream_16khz-20230425.ckpt`."""
        file = resolve_file(path, CHECKPOINT_NAME, "SoundStream")
        model = _model_from_checkpoint(self._load_checkpoint(file), file)
        self.checkpoint_paths = [file]
        return model

    def save_local(self, folder: Path) -> Path:
        """Upstream's Lightning layout: `{'state_dict': ...}` in a folder, under the release file name."""
        folder.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": self.model.state_dict()}, folder / CHECKPOINT_NAME)
        return folder

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        n_samples = int(wav.shape[-1])
        plan = plan_padding(n_samples)
        x = F.pad(wav[:, 0], (plan.left, plan.right))
        codes = self.model.encode(x).transpose(1, 2)  # [B, F, 8] -> [B, 8, F]
        return self._frame_codes(codes, HOP_SAMPLES, n_samples, pad_left=plan.left, pad_right=plan.right)

    def _decode(self, codes: Codes) -> torch.Tensor:
        self._check_levels(codes, 1, N_CODEBOOKS)
        level = codes.levels[0].to(self.device)
        return self.model.decode(level.transpose(1, 2)).unsqueeze(1)  # output j lines up with input j


def _seed_codebooks(model: SoundStream, seed: int) -> None:
    """Draws the 8 codebooks from encoder latents of a calibration clip, so random weights give varied codes.

    Upstream initialises codebooks uniformly in [0, 1), far from the random encoder's latents, which would
    map every frame to a handful of codes.
    """
    quantizer = model.quantizer

    def setter(q: int) -> Any:
        def set_codebook(book: torch.Tensor) -> None:
            quantizer.weight[q].copy_(book)
            quantizer.running_mean[q].copy_(book)

        return set_codebook

    seed_codebooks_from(
        lambda calib: model.embed(calib.reshape(1, -1))[0],  # [F, 512]
        [setter(q) for q in range(N_CODEBOOKS)],
        CODEBOOK_SIZE,
        sample_rate_hz=SAMPLE_RATE_HZ,
        duration_s=CALIBRATION_S,
        seed=seed,
    )


def _new_model() -> SoundStream:
    return SoundStream(channels=32, n_quantizers=N_CODEBOOKS, codebook_size=CODEBOOK_SIZE)


def _model_from_checkpoint(checkpoint: Any, file: Path) -> SoundStream:
    """Builds the model and loads the codec entries of a checkpoint (read first, so a bad file fails fast)."""
    state = codec_state_dict(checkpoint, file)
    model = _new_model()
    try:
        model.load_state_dict(state)
    except RuntimeError as err:  # missing/unexpected keys or shape mismatches
        raise WeightsError(f"{file}: does not fit the SoundStream 16 kHz architecture: {err}") from err
    return model


def codec_state_dict(checkpoint: Any, file: Path) -> dict[str, torch.Tensor]:
    """The codec's entries of an upstream Lightning `.ckpt` (or of a plain state dict).

    Keeps the `encoder.`, `decoder.` and `quantizer.` entries of `['state_dict']` (upstream loads the same
    entries with `strict=False`, skipping the discriminators). The file itself is read by
    `ncst.io.load_checkpoint`, which never unpickles code without `--trust-checkpoint`.
    """
    state = state_dict_of(checkpoint, file)
    model_state = {k: v for k, v in state.items() if isinstance(k, str) and k.startswith(MODEL_PREFIXES)}
    if not model_state:
        raise WeightsError(f"{file}: no encoder./decoder./quantizer. entries; is this a SoundStream checkpoint?")
    return model_state
