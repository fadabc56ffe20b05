"""AudioDec 24 kHz, 6.4 kbps (ST-Codecfake OOD class 10; Codecfake Table I F05).

Codec: Wu, Gebru, Markovic, Richard, "AudioDec: An Open-source Streaming High-fidelity Neural Audio
Codec", ICASSP 2023 (arXiv 2305.16608). Upstream: github.com/facebookresearch/AudioDec (no package; code
and weights CC BY-NC 4.0). The network is our own port in `ncst.codecs.ports.audiodec` (read against
upstream commit e451e62580a66fe74426db51d92a6d0d468b70b3, equivalence in docs/codecs.md).

Weights: the `libritts_v1` pair of upstream's `utils/audiodec.py`: the autoencoder
`exp/autoencoder/symAD_libritts_24000_hop300/checkpoint-500000steps.pkl` (encoder, projector, 8 x 1024
residual VQ; its symmetric decoder is unused) and the HiFi-GAN vocoder
`exp/vocoder/AudioDec_v1_symAD_libritts_24000_hop300_clean/checkpoint-500000steps.pkl`, each with its
`config.yml`, from the release archive `pretrain_models_v02/exp.zip`. `pretrained` downloads that
archive once with `torch.hub.download_url_to_file` and keeps the two folders under
`$TORCH_HOME/hub/audiodec/pretrain_models_v02/exp/`; a local folder in the same layout (a clone with
`exp/`, the `exp/` folder itself, or the Hugging Face mirror `AudioDecBenchmark/AudioDec`) works offline.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
import yaml

from ncst.classes import class_by_key
from ncst.codecs.base import Codec, CodecCard, Codes
from ncst.codecs.checkpoints import WeightFile
from ncst.codecs.ports.audiodec import AudioDec, AutoencoderConfig, VocoderConfig, build_libritts_v1
from ncst.codecs.random_init import seed_codebooks_from
from ncst.errors import WeightsError
from ncst.taxonomy import Taxonomy

__all__ = [
    "AUTOENCODER_DIR",
    "CHECKPOINT_NAME",
    "DEFAULT_VARIANT",
    "RELEASE_URL",
    "VARIANTS",
    "VOCODER_DIR",
    "AudioDecCodec",
    "find_checkpoints",
    "upstream_configs",
]

log = logging.getLogger(__name__)

RELEASE_URL = "https://github.com/facebookresearch/AudioDec/releases/download/pretrain_models_v02/exp.zip"
HF_MIRROR = "AudioDecBenchmark/AudioDec"
AUTOENCODER_DIR = "autoencoder/symAD_libritts_24000_hop300"
VOCODER_DIR = "vocoder/AudioDec_v1_symAD_libritts_24000_hop300_clean"
CHECKPOINT_NAME = "checkpoint-500000steps.pkl"
CONFIG_NAME = "config.yml"
SAMPLE_RATE_HZ = 24_000
HOP_SAMPLES = 300  # prod(enc_strides) = 3 * 4 * 5 * 5
FRAME_RATE_HZ = SAMPLE_RATE_HZ / HOP_SAMPLES  # 80.0
N_QUANTIZERS = 8
CODEBOOK_SIZE = 1024
#: Seconds of calibration audio used to fill the codebooks of a random-weights model.
CALIBRATION_S = 2.0

_CLASS = class_by_key("audiodec")  # OOD class 10, file prefix "audiodec"

VARIANTS: dict[str, CodecCard] = {
    "libritts_v1": CodecCard(
        name=_CLASS.key,
        variant="libritts_v1",
        family=_CLASS.family,
        class_id=_CLASS.class_id,
        file_prefix=_CLASS.file_prefix,
        sample_rate_hz=SAMPLE_RATE_HZ,
        n_quantizers=N_QUANTIZERS,
        frame_rate_hz=FRAME_RATE_HZ,
        codebook_size=CODEBOOK_SIZE,
        nominal_bitrate_bps=6400.0,
        effective_bitrate_bps=FRAME_RATE_HZ * N_QUANTIZERS * 10,  # 80 x 8 x log2(1024) = 6400
        checkpoint=RELEASE_URL,
        checkpoint_sha256=None,  # upstream publishes no hashes
        upstream_package="",  # no upstream package: our port ncst.codecs.ports.audiodec
        pip_extra="",
        source="port",
        upstream_repo="https://github.com/facebookresearch/AudioDec",
        upstream_commit="e451e62580a66fe74426db51d92a6d0d468b70b3",
        pad_multiple=HOP_SAMPLES,
        licence="CC BY-NC 4.0 (upstream code and weights; non-commercial use only)",
        quantizer="RVQ, 8 x 1024 (EMA codebooks)",
        decoder_type="time domain (causal HiFi-GAN vocoder on the quantised codes)",
        taxonomy=Taxonomy("multi-codebook", "none", "time", "reconstruction, then adversarial (vocoder) losses only"),
        notes=(
            "ST-Codecfake OOD class 10 (id order of classes 8-11 inferred from the paper's Table 2); the OOD set "
            "is folder-based, so the file prefix 'audiodec' is this project's choice. Checkpoint inferred: "
            "Table 2's 24 kHz / 6.4 kbps / 8 Q matches only upstream's libritts_v1 pair (symAD_libritts_24000_"
            "hop300 + AudioDec_v1_symAD_libritts_24000_hop300_clean, both 500k steps), the pair Codec-SUPERB "
            "also uses; Codecfake says its codecs were trained by the authors, so these public weights may not be "
            "theirs. Inference equals upstream's official streaming path per utterance (demoFile.py: warm-up on "
            "8192 zero samples, then one encode/decode call), done as one batched pass; upstream's "
            "non-streaming forward (codecTest.py) differs in the first ~16 frames only. Causal, 24 kHz mono; "
            "output cropped to the input length. The .pkl checkpoints are torch pickles read with "
            "torch.load(weights_only=True); a file that needs full unpickling is refused unless --trust-checkpoint "
            "(not checked on the release files here: no network). The vocoder's feature "
            "statistics travel in its checkpoint (mean/scale buffers); the stats .npy is not needed."
        ),
        extra={"hop_samples": HOP_SAMPLES, "receptive_length": 8192, "release": "pretrain_models_v02"},
    ),
}
DEFAULT_VARIANT = "libritts_v1"


class AudioDecCodec(Codec):
    """AudioDec libritts_v1; codes are one level `[B, 8, ceil(T / 300)]` of per-codebook indices."""

    VARIANTS = VARIANTS
    DEFAULT_VARIANT = DEFAULT_VARIANT

    model: AudioDec

    # -- load hooks ------------------------------------------------------------------------------------
    def _build_random(self, seed: int) -> AudioDec:
        """Official architecture with seeded random weights (the base class seeds torch's RNG)."""
        model = build_libritts_v1()
        seed_codebooks_from(
            lambda calib: model.autoencoder.embed(calib)[0].T,  # [F, 64] in the codebooks' space
            [_codebook_setter(layer) for layer in model.autoencoder.quantizer.codebook.levels],
            CODEBOOK_SIZE,
            sample_rate_hz=SAMPLE_RATE_HZ,
            duration_s=CALIBRATION_S,
            seed=seed,
        )
        return model

    def _load_pretrained(self) -> AudioDec:
        """Upstream's release archive, downloaded once into the torch hub cache."""
        return self._load_local(_download_release())

    def weight_files(self) -> list[WeightFile]:
        """The four libritts_v1 files `_download_release` keeps from `exp.zip` in the torch hub folder."""
        root = Path(torch.hub.get_dir()) / "audiodec" / "pretrain_models_v02"
        complete = (root / ".completed").is_file()
        files = [
            root / "exp" / sub / name
            for sub in (AUTOENCODER_DIR, VOCODER_DIR)
            for name in (CONFIG_NAME, CHECKPOINT_NAME)
        ]
        return [WeightFile(RELEASE_URL, file, complete and file.is_file()) for file in files]

    def _load_local(self, path: Path) -> AudioDec:
        """A folder in upstream's layout (see `find_checkpoints`)."""
        (enc_config, enc_file), (voc_config, voc_file) = find_checkpoints(path)
        autoencoder_cfg = _read_config(enc_config, "symAudioDec", AutoencoderConfig.from_generator_params)
        vocoder_cfg = _read_config(voc_config, "HiFiGAN", VocoderConfig.from_generator_params)
        try:
            model = build_libritts_v1(autoencoder_cfg, vocoder_cfg)
        except ValueError as err:
            raise WeightsError(f"{path}: the two configs do not form one codec ({err})") from err
        self._load_generator(model.autoencoder, enc_file)
        self._load_generator(model.vocoder, voc_file)
        self.checkpoint_paths = [enc_config, enc_file, voc_config, voc_file]
        return model

    def _load_generator(self, module: torch.nn.Module, file: Path) -> None:
        """Loads `checkpoint["model"]["generator"]` of an upstream `.pkl` into `module` (strict).

        The file is read with `weights_only=True` (`ncst.io.load_checkpoint`); one that needs full
        unpickling raises `UntrustedCheckpointError` unless `load(..., trust_checkpoint=True)`.
        """
        checkpoint = self._load_checkpoint(file)
        try:
            module.load_state_dict(checkpoint["model"]["generator"])
        except (KeyError, TypeError, RuntimeError) as err:
            raise WeightsError(f"{file}: no matching ['model']['generator'] state dict ({err})") from err

    def _prepare_model(self, model: AudioDec) -> None:
        """Replays upstream's streaming warm-up (load_transmitter/load_receiver); it depends on the weights."""
        model.prime()

    def save_local(self, folder: Path) -> Path:
        """Writes upstream's layout: `exp/{autoencoder,vocoder}/<name>/{config.yml,checkpoint-500000steps.pkl}`.

        The checkpoints hold `{"model": {"generator": state_dict}}` as upstream's trainer saves them, the
        configs upstream's `model_type`, `sampling_rate` and `generator_params`. `folder` also gets
        `exp.zip`, the same two folders packed as upstream's release archive. Returns `folder`.
        """
        enc_config, voc_config = upstream_configs(self.model)
        exp = folder / "exp"
        for sub, config, module in [
            (AUTOENCODER_DIR, enc_config, self.model.autoencoder),
            (VOCODER_DIR, voc_config, self.model.vocoder),
        ]:
            (exp / sub).mkdir(parents=True, exist_ok=True)
            (exp / sub / CONFIG_NAME).write_text(yaml.safe_dump(config, sort_keys=False))
            torch.save({"model": {"generator": module.state_dict()}}, exp / sub / CHECKPOINT_NAME)
        with zipfile.ZipFile(folder / "exp.zip", "w") as zf:
            for sub in (AUTOENCODER_DIR, VOCODER_DIR):
                for name in (CONFIG_NAME, CHECKPOINT_NAME):
                    zf.write(exp / sub / name, f"exp/{sub}/{name}")
        return folder

    # -- encode / decode -------------------------------------------------------------------------------
    def _encode(self, wav: torch.Tensor) -> Codes:
        codes = self.model.encode(wav)  # [B, 8, ceil(T / 300)]
        return self._frame_codes(codes, HOP_SAMPLES, wav.shape[-1])

    def _decode(self, codes: Codes) -> torch.Tensor:
        self._check_levels(codes, 1, N_QUANTIZERS)
        return self.model.decode(codes.levels[0].to(self.device))


def upstream_configs(model: AudioDec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `config.yml` contents upstream would write for `model` (autoencoder, vocoder).

    Only what inference reads: `model_type`, `train_mode`, `sampling_rate` and `generator_params`
    (training settings such as losses and optimisers are left out).
    """
    enc, voc = model.autoencoder.config, model.vocoder.config
    enc_params: dict[str, Any] = {
        "input_channels": enc.input_channels,
        "output_channels": enc.output_channels,
        "encode_channels": enc.encode_channels,
        "decode_channels": enc.decode_channels,
        "code_dim": enc.code_dim,
        "codebook_num": enc.codebook_num,
        "codebook_size": enc.codebook_size,
        "bias": enc.bias,
        "enc_ratios": list(enc.enc_ratios),
        "dec_ratios": list(enc.dec_ratios),
        "enc_strides": list(enc.enc_strides),
        "dec_strides": list(enc.dec_strides),
        "mode": "causal",
        "codec": "audiodec",
        "projector": "conv1d",
        "quantier": "residual_vq",
    }
    voc_params: dict[str, Any] = {
        "in_channels": voc.in_channels,
        "out_channels": voc.out_channels,
        "channels": voc.channels,
        "kernel_size": voc.kernel_size,
        "upsample_scales": list(voc.upsample_scales),
        "upsample_kernel_sizes": list(voc.upsample_kernel_sizes),
        "resblock_kernel_sizes": list(voc.resblock_kernel_sizes),
        "resblock_dilations": [list(d) for d in voc.resblock_dilations],
        "groups": voc.groups,
        "bias": voc.bias,
        "use_additional_convs": voc.use_additional_convs,
        "nonlinear_activation": "LeakyReLU",
        "nonlinear_activation_params": {"negative_slope": voc.negative_slope},
        "use_weight_norm": voc.use_weight_norm,
        "stats": voc.stats,
    }
    common = {"sampling_rate": SAMPLE_RATE_HZ}
    return (
        {**common, "model_type": "symAudioDec", "train_mode": "autoencoder", "generator_params": enc_params},
        {**common, "model_type": "HiFiGAN", "train_mode": "vocoder", "generator_params": voc_params},
    )


def find_checkpoints(path: Path) -> tuple[tuple[Path, Path], tuple[Path, Path]]:
    """`((autoencoder config.yml, .pkl), (vocoder config.yml, .pkl))` under `path`.

    `path` is an AudioDec clone holding `exp/`, the `exp/` folder itself, or a folder with the same
    `autoencoder/...` and `vocoder/...` subfolders (the Hugging Face mirror `AudioDecBenchmark/AudioDec`).
    """
    for root in (path / "exp", path):
        pairs = tuple(
            (root / sub / CONFIG_NAME, root / sub / CHECKPOINT_NAME) for sub in (AUTOENCODER_DIR, VOCODER_DIR)
        )
        if all(f.is_file() for pair in pairs for f in pair):
            return pairs[0], pairs[1]
    raise WeightsError(
        f"AudioDec weights {str(path)!r}: expected a folder holding [exp/]{AUTOENCODER_DIR}/{{{CONFIG_NAME},"
        f"{CHECKPOINT_NAME}}} and [exp/]{VOCODER_DIR}/{{{CONFIG_NAME},{CHECKPOINT_NAME}}} (upstream's exp.zip "
        f"from {RELEASE_URL}, or the Hugging Face mirror {HF_MIRROR})"
    )


def _read_config(file: Path, model_type: str, parse: Any) -> Any:
    try:
        config = yaml.safe_load(file.read_text())
        if config.get("model_type") != model_type:
            raise ValueError(f"model_type {config.get('model_type')!r}, expected {model_type!r}")
        if int(config.get("sampling_rate", 0)) != SAMPLE_RATE_HZ:
            raise ValueError(f"sampling_rate {config.get('sampling_rate')}, expected {SAMPLE_RATE_HZ}")
        return parse(config["generator_params"])
    except (yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise WeightsError(f"{file}: not a libritts_v1 AudioDec config ({err})") from err


def _codebook_setter(layer: Any) -> Any:
    def set_codebook(book: torch.Tensor) -> None:  # book [K, 64]; upstream stores [64, K]
        layer.embed.copy_(book.T)
        layer.embed_avg.copy_(book.T)
        layer.cluster_size.fill_(1.0)

    return set_codebook


def _download_release() -> Path:
    """Fetches upstream's `exp.zip` once and keeps the libritts_v1 folders; returns the cache root."""
    root = Path(torch.hub.get_dir()) / "audiodec" / "pretrain_models_v02"
    marker = root / ".completed"
    if marker.is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        archive = Path(tmp) / "exp.zip"
        log.info("downloading AudioDec release %s", RELEASE_URL)
        torch.hub.download_url_to_file(RELEASE_URL, str(archive), progress=True)
        staging = Path(tmp) / "staging"
        _extract_libritts_v1(archive, staging / "exp")
        (staging / ".completed").write_text(RELEASE_URL + "\n")
        if root.exists():
            shutil.rmtree(root)
        staging.rename(root)
    return root


def _extract_libritts_v1(archive: Path, exp_dir: Path) -> None:
    """Copies the two libritts_v1 folders of `exp.zip` to `exp_dir` (member names are never trusted as paths)."""
    wanted = {f"{sub}/{name}" for sub in (AUTOENCODER_DIR, VOCODER_DIR) for name in (CONFIG_NAME, CHECKPOINT_NAME)}
    found: set[str] = set()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = info.filename.replace("\\", "/")
            key = next((w for w in wanted if name == w or name.endswith("/" + w)), None)
            if key is None:
                continue
            target = exp_dir / key
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            found.add(key)
    missing = sorted(wanted - found)
    if missing:
        raise WeightsError(f"{RELEASE_URL}: the archive lacks {missing}")
