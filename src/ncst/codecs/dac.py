"""Descript Audio Codec 44.1 kHz 8 kbps (ST-Codecfake OOD class 9, Codecfake C7/F07), and DAC 16 kHz.

Codec: DAC, Kumar et al., "High-Fidelity Audio Compression with Improved RVQGAN", arXiv 2306.06546
(NeurIPS 2023). Upstream: the `descript-audio-codec` package 1.0.0 (import name `dac`,
github.com/descriptinc/descript-audio-codec), MIT licence for code and weights. Weights: GitHub release
0.0.1 `weights.pth`, fetched by `dac.utils.download` into `~/.cache/descript/dac/weights_44khz_8kbps_0.0.1.pth`
and read by `dac.DAC.load` (`{'state_dict': ..., 'metadata': {'kwargs': ...}}`).

9 RVQ codebooks of 1024 entries at 44100 / 512 = 86.1328125 frames/s: 7751.95 bps (the paper's "8 kbps").

`dac@16khz` (an extension class of the `st-codecfake-plus` recipe) is the 16 kHz release (tag 0.0.5,
`weights_16khz.pth`): the architecture of upstream's `conf/final/16khz.yml` (encoder rates 2/4/5/8, so a
320-sample hop, 50 frames/s, 12 codebooks of 1024): 6000 bps, although `dac.utils.download` files it under
"8kbps" (its only bitrate name besides the 44 kHz "16kbps").
"""

from __future__ import annotations

import inspect
import logging
import math
from pathlib import Path
from typing import Any

import torch

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import WeightFile, resolve_in_folder
from ncst.errors import WeightsError
from ncst.taxonomy import Taxonomy

__all__ = ["CHECKPOINT_URL", "CHECKPOINT_URL_16KHZ", "DAC_16KHZ_KWARGS", "DEFAULT_VARIANT", "VARIANTS", "DacCodec"]

log = logging.getLogger(__name__)

_RELEASES = "https://github.com/descriptinc/descript-audio-codec/releases/download/"
CHECKPOINT_URL = _RELEASES + "0.0.1/weights.pth"
CHECKPOINT_URL_16KHZ = _RELEASES + "0.0.5/weights_16khz.pth"
SAMPLE_RATE_HZ = 44_100
HOP_SAMPLES = 512  # prod(encoder_rates) = 2 * 4 * 8 * 8
FRAME_RATE_HZ = SAMPLE_RATE_HZ / HOP_SAMPLES  # 86.1328125
N_CODEBOOKS = 9
CODEBOOK_SIZE = 1024
#: `DAC(...)` arguments of the 16 kHz release (upstream `conf/final/16khz.yml`; the `DAC` class defaults
#: are the 44 kHz model). The checkpoint's own `metadata.kwargs` are checked against these at load time.
DAC_16KHZ_KWARGS: dict[str, Any] = {
    "encoder_dim": 64,
    "encoder_rates": [2, 4, 5, 8],
    "decoder_dim": 1536,
    "decoder_rates": [8, 5, 4, 2],
    "n_codebooks": 12,
    "codebook_size": 1024,
    "codebook_dim": 8,
    "sample_rate": 16_000,
}
_HOP_16KHZ = 2 * 4 * 5 * 8  # 320

_COMMON: dict[str, Any] = dict(
    name="dac",
    family="DAC",
    class_id=class_by_key("dac").class_id,
    codebook_size=CODEBOOK_SIZE,
    checkpoint_sha256=None,
    upstream_package="descript-audio-codec",
    upstream_version="1.0.0",
    upstream_repo="https://github.com/descriptinc/descript-audio-codec",
    pip_extra="dac",
    licence="MIT (code and weights)",
    quantizer="RVQ (factorized L2-normalised codes, dim 8, quantizer dropout in training)",
    decoder_type="time domain (conv with Snake activations)",
    taxonomy=Taxonomy("multi-codebook", "none", "time", "reconstruction, adversarial and feature-matching losses only"),
)

VARIANTS: dict[str, CodecCard] = {
    "44khz_8kbps": CodecCard(
        variant="44khz_8kbps",
        file_prefix="dac",
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=N_CODEBOOKS,
        frame_rate_hz=FRAME_RATE_HZ,
        nominal_bitrate_bps=8000.0,
        effective_bitrate_bps=FRAME_RATE_HZ * N_CODEBOOKS * math.log2(CODEBOOK_SIZE),  # 7751.953125
        checkpoint=CHECKPOINT_URL,
        pad_multiple=HOP_SAMPLES,
        notes=(
            "OOD codec (eval_ood). Class id 9 is inferred: the repo never names ids 8-11, so the project uses "
            "the paper's Table 2 order (8 AcademiCodec, 9 DAC, 10 AudioDec, 11 SoundStream). The same audio "
            "as Codecfake C7/F07 (44 kHz, 8 kbps, 9 Q) is inferred. 8 kbps is nominal; the codes carry "
            "7751.95 bps. The base class crops the output (padded to 512 samples) back. "
            "Slow on CPU (several seconds per second of audio)."
        ),
        extra={"model_type": "44khz", "model_bitrate": "8kbps", "tag": "0.0.1", "kwargs": {}},
        **_COMMON,
    ),
    "16khz": CodecCard(
        variant="16khz",
        file_prefix="dac16k",
        sample_rate_hz=16_000,
        n_quantizers=12,
        frame_rate_hz=16_000 / _HOP_16KHZ,  # 50.0
        nominal_bitrate_bps=6000.0,
        effective_bitrate_bps=16_000 / _HOP_16KHZ * 12 * math.log2(CODEBOOK_SIZE),  # 6000.0
        checkpoint=CHECKPOINT_URL_16KHZ,
        pad_multiple=_HOP_16KHZ,
        notes=(
            "Extension class of the st-codecfake-plus recipe (not in the paper): the DAC family of OOD class 9 "
            "at 16 kHz instead of 44.1 kHz. Release 0.0.5 weights_16khz.pth, architecture of upstream "
            "conf/final/16khz.yml (hop 320, 12 Q): 50 frames/s x 12 x 10 bit = 6000 bps; dac.utils.download "
            "names it '16khz', '8kbps'. The card class id is the family's (9); the recipe gives the audio its "
            "own OOD class."
        ),
        extra={"model_type": "16khz", "model_bitrate": "8kbps", "tag": "0.0.5", "kwargs": DAC_16KHZ_KWARGS},
        **_COMMON,
    ),
}
DEFAULT_VARIANT = "44khz_8kbps"


class DacCodec(Codec):
    """DAC at one release; codes are one level `[B, n_q, ceil(T / hop)]` (44.1 kHz: 9 Q, hop 512; 16 kHz: 12 Q, 320)."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    # -- load hooks ------------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> Any:
        # The class defaults are the 44 kHz 8 kbps architecture; other releases name their arguments.
        return self._import_upstream("dac").DAC(**dict(self.card.extra["kwargs"]))

    def _load_pretrained(self) -> Any:
        dac = self._import_upstream("dac")
        utils = self._import_upstream("dac.utils")
        extra = self.card.extra
        file = utils.download(model_type=extra["model_type"], model_bitrate=extra["model_bitrate"], tag=extra["tag"])
        return self._load_file(dac, Path(file))

    def weight_files(self) -> list[WeightFile]:
        """Where `dac.utils.download` keeps the release: `~/.cache/descript/dac/weights_<type>_<rate>_<tag>.pth`."""
        extra = self.card.extra
        file = (
            Path.home() / ".cache" / "descript" / "dac"
            / f"weights_{extra['model_type']}_{extra['model_bitrate']}_{extra['tag']}.pth"
        )  # fmt: skip
        return [WeightFile(self.card.checkpoint, file, file.is_file(), self.card.checkpoint_sha256)]

    def _load_local(self, path: Path) -> Any:
        """A file written by `DAC.save` (`{'state_dict', 'metadata'}`), or a folder holding one (`save_local`)."""
        dac = self._import_upstream("dac")
        return self._load_file(dac, resolve_in_folder(path, ("weights.pth",), "DAC"))

    def _load_file(self, dac: Any, file: Path) -> Any:
        """What `DAC.load` does for a `DAC.save` file, but read with `Codec._load_checkpoint`.

        `DAC.load` (audiotools) first tries the file as a torch package, which runs code stored in it,
        so it is never called.
        """
        package = self._load_checkpoint(file)
        metadata = package.get("metadata") if isinstance(package, dict) else None
        if not (isinstance(metadata, dict) and isinstance(metadata.get("kwargs"), dict) and "state_dict" in package):
            raise WeightsError(
                f"{file}: not a DAC checkpoint; expected {{'state_dict', 'metadata': {{'kwargs'}}}} as written by "
                "DAC.save(path, package=False)"
            )
        init_keys = set(inspect.signature(dac.DAC).parameters)
        try:
            model = dac.DAC(**{k: v for k, v in metadata["kwargs"].items() if k in init_keys})
            model.load_state_dict(package["state_dict"], strict=True)
        except (RuntimeError, KeyError, TypeError, ValueError) as err:
            raise WeightsError(f"{file}: not a DAC checkpoint ({type(err).__name__}: {err})") from err
        model.metadata = metadata
        self.checkpoint_paths = [file]
        return model

    def save_local(self, folder: Path) -> Path:
        """A `DAC.save(path, package=False)` file (`{'state_dict', 'metadata': {'kwargs'}}`)."""
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / "weights.pth"
        self.model.save(str(file), package=False)
        return file

    @property
    def _hop(self) -> int:
        return self.card.pad_multiple  # prod(encoder_rates): one frame per hop

    def _prepare_model(self, model: Any) -> None:
        card = self.card
        if (
            model.sample_rate != card.sample_rate_hz
            or model.n_codebooks != card.n_quantizers
            or model.hop_length != self._hop
        ):
            raise WeightsError(
                f"{card.spec}: checkpoint is a {model.sample_rate} Hz / {model.n_codebooks}-codebook DAC with hop "
                f"{model.hop_length}; expected {card.sample_rate_hz} Hz / {card.n_quantizers} codebooks, "
                f"hop {self._hop}"
            )

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        x = self.model.preprocess(wav, self.card.sample_rate_hz)  # right-pads to a multiple of the hop
        _, codes, _, _, _ = self.model.encode(x)  # codes [B, n_q, T / hop]
        return self._frame_codes(codes, self._hop, wav.shape[-1])

    def _decode(self, codes: Codes) -> torch.Tensor:
        self._check_levels(codes, 1, self.card.n_quantizers)
        z, _, _ = self.model.quantizer.from_codes(codes.levels[0].to(self.device))
        return self.model.decode(z)
