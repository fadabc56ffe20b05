"""EnCodec 24 kHz (ST-Codecfake class 4 and the Codecfake C4-1..C4-3 configurations).

Codec: EnCodec, Défossez et al., "High Fidelity Neural Audio Compression", arXiv 2210.13438 (2022).
Upstream: the `encodec` package 0.1.1 (github.com/facebookresearch/encodec), MIT licence for code and
weights. Weights: `encodec_24khz-d7cc33bc.th` from `https://dl.fbaipublicfiles.com/encodec/v0/`, fetched by
`torch.hub.load_state_dict_from_url` into `$TORCH_HOME/hub/checkpoints/` (the `d7cc33bc` in the name is the
sha256 prefix that torch hub checks).

All four variants use the same checkpoint; only the target bandwidth (the number of RVQ codebooks used)
differs: 3 / 6 / 12 / 24 kbps = 4 / 8 / 16 / 32 codebooks of 1024 entries at 75 frames/s.
"""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ncst.codecs.base import Codec, CodecCard, Codes, WeightsSpec
from ncst.codecs.random_init import calibration_signal, seed_residual_codebooks
from ncst.errors import ChecksumError, WeightsError
from ncst.io import sha256_file

if TYPE_CHECKING:
    from encodec import EncodecModel

__all__ = ["CHECKPOINT_NAME", "CHECKPOINT_URL", "DEFAULT_VARIANT", "VARIANTS", "EncodecCodec"]

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "encodec_24khz-d7cc33bc.th"
CHECKPOINT_URL = "https://dl.fbaipublicfiles.com/encodec/v0/" + CHECKPOINT_NAME
SAMPLE_RATE_HZ = 24_000
HOP_SAMPLES = 320  # prod of the SEANet ratios [8, 5, 4, 2]
FRAME_RATE_HZ = SAMPLE_RATE_HZ / HOP_SAMPLES  # 75.0
CODEBOOK_SIZE = 1024
#: Seconds of calibration audio used to fill the k-means codebooks of a random-weights model.
CALIBRATION_S = 2.0

_NOTES_COMMON = (
    "Same encodec_24khz checkpoint for every variant; the variant only sets the target bandwidth "
    "(number of codebooks). Output is causal EnCodec, no LM entropy coding (codes are not compressed). "
    "EnCodec pads the input to a multiple of the 320-sample hop; the base class crops the output back."
)


def _card(variant: str, file_prefix: str, bandwidth_kbps: float, n_q: int, notes: str) -> CodecCard:
    return CodecCard(
        name="encodec",
        variant=variant,
        family="EnCodec",
        class_id=4,
        file_prefix=file_prefix,
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=n_q,
        frame_rate_hz=FRAME_RATE_HZ,
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=bandwidth_kbps * 1000,
        effective_bitrate_bps=FRAME_RATE_HZ * n_q * 10,  # log2(1024) = 10 bit per code
        checkpoint=CHECKPOINT_URL,
        checkpoint_sha256=None,  # only the 8-hex prefix d7cc33bc is published (in the file name)
        upstream_package="encodec",
        pip_extra="encodec",
        licence="MIT (code and weights)",
        quantizer="RVQ (EMA k-means codebooks)",
        decoder_type="time domain (SEANet conv + LSTM)",
        notes=f"{notes} {_NOTES_COMMON}",
        extra={"bandwidth_kbps": bandwidth_kbps},
    )


VARIANTS: dict[str, CodecCard] = {
    "6kbps": _card(
        "6kbps", "encodec", 6.0, 8,
        "ST-Codecfake class 4 (file prefix encodec_): 6 kbps, 8 Q (Codecfake Table I F04; checkpoint inferred "
        "from the bitrate arithmetic, specs/dataset.md).",
    ),
    "3kbps": _card(
        "3kbps", "C4-1", 3.0, 4,
        "ID_diff_config C4-1: 3 kbps, 4 Q (Codecfake Table II, confirmed); same checkpoint at a lower "
        "bandwidth is inferred. Scored against class 4.",
    ),
    "12kbps": _card(
        "12kbps", "C4-2", 12.0, 16,
        "ID_diff_config C4-2: 12 kbps, 16 Q (Codecfake Table II, confirmed); mechanism inferred. Scored "
        "against class 4.",
    ),
    "24kbps": _card(
        "24kbps", "C4-3", 24.0, 32,
        "ID_diff_config C4-3: 24 kbps, 32 Q (Codecfake Table II, confirmed); mechanism inferred. Scored "
        "against class 4.",
    ),
}
DEFAULT_VARIANT = "6kbps"


class EncodecCodec(Codec):
    """EnCodec 24 kHz at a fixed bandwidth; codes are one level `[B, n_q, ceil(T / 320)]`."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    def __init__(self, variant: str | None = None, *, device: str | torch.device = "cpu") -> None:
        super().__init__(variant, device=device)
        self.model: EncodecModel | None = None

    # -- build -----------------------------------------------------------------------------------------
    def _build(self, weights: WeightsSpec, seed: int) -> None:
        encodec_model = self._import_upstream("encodec").EncodecModel
        self.checkpoint_paths = []
        if weights.mode == "random":
            model = encodec_model.encodec_model_24khz(pretrained=False)
            _seed_kmeans_codebooks(model, seed)
        elif weights.mode == "pretrained":
            # Upstream's download (torch hub, check_hash=True, same cache file), read with weights_only=True:
            # upstream's own call unpickles the cached file fully, so a tampered cache could run code.
            model = encodec_model.encodec_model_24khz(pretrained=False)
            cached = Path(torch.hub.get_dir()) / "checkpoints" / CHECKPOINT_NAME
            try:
                state = torch.hub.load_state_dict_from_url(
                    CHECKPOINT_URL, map_location="cpu", check_hash=True, weights_only=True
                )
            except pickle.UnpicklingError:
                state = self._load_checkpoint(cached)  # refused unless trust_checkpoint
            model.load_state_dict(state)
            if cached.is_file():
                self.checkpoint_paths = [cached]
            else:
                log.warning("EnCodec weights loaded, but the torch hub cache file %s is missing", cached)
        elif weights.mode == "path" and weights.path is not None:
            model = encodec_model.encodec_model_24khz(pretrained=False)
            file = _resolve_checkpoint_file(weights.path)
            model.load_state_dict(_state_dict_of(file, self._load_checkpoint(file)))
            self.checkpoint_paths = [file]
        else:
            raise WeightsError(f"unsupported weights {weights!r}; use 'pretrained', 'random' or a path")
        model.set_target_bandwidth(float(self.card.extra["bandwidth_kbps"]))
        self.model = model.to(self.device).eval()

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        model = self._model()
        frames = model.encode(wav)  # one frame (segment=None): [(codes [B, n_q, T'], scale=None)]
        codes = torch.cat([codes for codes, _ in frames], dim=-1)
        return Codes(
            levels=(codes,),
            codebook_size=CODEBOOK_SIZE,
            covered_samples=int(codes.shape[-1]) * HOP_SAMPLES,
            sample_rate_hz=SAMPLE_RATE_HZ,
            extra={"bandwidth_kbps": model.bandwidth, "input_samples": int(wav.shape[-1])},
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        model = self._model()
        if len(codes.levels) != 1:
            raise ValueError(f"{self.card.spec}: expected one code level, got {len(codes.levels)}")
        level = codes.levels[0].to(self.device)
        if level.shape[1] != self.card.n_quantizers:
            raise ValueError(
                f"{self.card.spec}: expected {self.card.n_quantizers} codebooks, got {level.shape[1]}"
            )
        return model.decode([(level, None)])

    def _model(self) -> EncodecModel:
        if self.model is None:
            raise WeightsError(f"{self.card.spec}: model not built")
        return self.model


def _seed_kmeans_codebooks(model: EncodecModel, seed: int) -> None:
    """Fills the 32 all-zero k-means codebooks from encoder latents of a calibration clip.

    All 32 levels are filled whatever the bandwidth, so every variant shares one random model per seed.
    """
    g = torch.Generator().manual_seed(seed)
    calib = calibration_signal(SAMPLE_RATE_HZ, CALIBRATION_S, generator=g)
    with torch.no_grad():
        latents = model.encoder(calib)  # [1, 128, T'] (the codebooks have no projection)
    layers = model.quantizer.vq.layers
    setters = [_codebook_setter(layer._codebook) for layer in layers]
    seed_residual_codebooks(latents[0].T, setters, CODEBOOK_SIZE, generator=g)


def _codebook_setter(codebook: Any) -> Callable[[torch.Tensor], None]:
    def set_codebook(book: torch.Tensor) -> None:
        codebook.embed.data.copy_(book)
        codebook.embed_avg.data.copy_(book)
        codebook.cluster_size.data.fill_(1.0)
        codebook.inited.data.fill_(1.0)

    return set_codebook


_HASHED_NAME = re.compile(r"-([0-9a-f]{8,64})$")


def _resolve_checkpoint_file(path: Path) -> Path:
    """A state-dict file, or a folder holding `encodec_24khz-d7cc33bc.th` (upstream's `repository`)."""
    file = path / CHECKPOINT_NAME if path.is_dir() else path
    if not file.is_file():
        raise WeightsError(
            f"EnCodec weights {str(path)!r}: expected a state-dict file or a folder holding {CHECKPOINT_NAME}"
        )
    match = _HASHED_NAME.search(file.stem)
    if match:  # torch hub naming: <name>-<sha256 prefix>.<ext>; check it as upstream does
        digest = sha256_file(file)
        if not digest.startswith(match.group(1)):
            raise ChecksumError(
                f"{file}: sha256 {digest[:len(match.group(1))]}... does not match the prefix "
                f"{match.group(1)} in its name; re-download it or rename the file"
            )
    return file


def _state_dict_of(file: Path, state: Any) -> dict[str, torch.Tensor]:
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{file}: expected a state dict, got {type(state).__name__}")
    return state
