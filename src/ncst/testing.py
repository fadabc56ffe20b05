"""Importable test helpers: sine clips, a fake codec, a tiny corpus, crafted checkpoints, common adapter checks.

For ncst's own tests and for third-party codec packages (as lhotse's `testing/`). `register_fake_codec()`
registers `FakeCodec` as `fakecodec`: an explicit call, not an import side effect (pool workers and Ray
actors register it themselves from the parent's registry, `ncst.build_dataset.jobs.codec_sources`).
Nothing here touches the network.

The `check_*` functions are the common adapter checks that `tests/codecs/test_adapter_contract.py` runs
on every registered codec; a plug-in package can run them on its own codec the same way.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ncst.codecs import Codec, CodecCard, Codes, get_codec, register_codec
from ncst.errors import MissingDependencyError, UntrustedCheckpointError
from ncst.taxonomy import Taxonomy

__all__ = [
    "register_fake_codec",
    "CodeOnLoad",
    "FakeCodec",
    "add_utterance",
    "check_crafted_checkpoint_refused",
    "check_local_round_trip",
    "check_missing_extra",
    "check_mocked_pretrained",
    "make_sine",
    "varying_clip",
    "write_crafted_checkpoint",
    "write_tiny_corpus",
]

#: File suffixes that never hold pickles (a crafted pickle cannot hide in them).
SAFE_SUFFIXES = (".json", ".yaml", ".yml", ".safetensors", ".sft", ".txt")


# -- audio -------------------------------------------------------------------------------------------------
def make_sine(sample_rate_hz: int, duration_s: float = 0.5, freq_hz: float = 220.0, seed: int = 0) -> np.ndarray:
    """A sine with a little noise, peak about 0.55, float32 `[T]`."""
    n = int(round(sample_rate_hz * duration_s))
    t = np.arange(n, dtype=np.float32) / sample_rate_hz
    rng = np.random.default_rng(seed)
    x = 0.5 * np.sin(2 * math.pi * freq_hz * t) + 0.05 * rng.standard_normal(n).astype(np.float32)
    return x.astype(np.float32)


def varying_clip(sample_rate_hz: int, duration_s: float = 0.25, seed: int = 7) -> torch.Tensor:
    """A speech-like chirp with noise bursts `[1, T]` (codes vary over it; see `calibration_signal`)."""
    from ncst.codecs.random_init import calibration_signal

    g = torch.Generator().manual_seed(seed)
    return calibration_signal(sample_rate_hz, duration_s, generator=g).reshape(1, -1)


# -- a tiny corpus -----------------------------------------------------------------------------------------
def write_tiny_corpus(folder: Path, durations_s: tuple[float, ...] = (0.31, 0.5, 0.27), rate_hz: int = 16000) -> Path:
    """Writes 16-bit clips `src/utt<i>.wav` (speaker `spk1`) and `manifest.csv`; returns the manifest path."""
    import pandas as pd
    import soundfile as sf

    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, dur in enumerate(durations_s):
        sf.write(src / f"utt{i}.wav", make_sine(rate_hz, dur, 200.0 + 50 * i, seed=i), rate_hz, subtype="PCM_16")
        rows.append({"utt_id": f"spk1_{i:03d}", "path": f"src/utt{i}.wav", "speaker": "spk1"})
    manifest = folder / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def add_utterance(manifest: Path, utt_id: str, audio: np.ndarray | bytes, rate_hz: int = 16000) -> None:
    """Appends an utterance (float audio, or raw bytes for a broken file) to a manifest of `write_tiny_corpus`."""
    import pandas as pd
    import soundfile as sf

    path = manifest.parent / "src" / f"{utt_id}.wav"
    if isinstance(audio, bytes):
        path.write_bytes(audio)
    else:
        sf.write(path, audio, rate_hz, subtype="FLOAT")
    frame = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    frame = pd.concat([frame, pd.DataFrame([{"utt_id": utt_id, "path": f"src/{path.name}", "speaker": "x"}])])
    frame.to_csv(manifest, index=False)


# -- a fake codec ------------------------------------------------------------------------------------------
def _fake_card(variant: str, rate_hz: int, prefix: str, class_id: int | None) -> CodecCard:
    return CodecCard(
        name="fakecodec",
        variant=variant,
        family="Fake",
        class_id=class_id,
        file_prefix=prefix,
        sample_rate_hz=rate_hz,
        n_quantizers=1,
        frame_rate_hz=float(rate_hz),
        codebook_size=256,
        nominal_bitrate_bps=rate_hz * 8.0,
        effective_bitrate_bps=rate_hz * 8.0,
        checkpoint="none",
        upstream_package="",
        pip_extra="",
        licence="MIT",
        quantizer="mu-law",
        decoder_type="time",
        taxonomy=Taxonomy("scalar", "none", "time", "no training at all: a fixed mu-law companding"),
        source="port",
        upstream_repo="https://example.invalid/ncst-fakecodec",
        upstream_commit="0" * 40,
        extra={"hop": 1},
    )


class FakeCodec(Codec):
    """A tiny DSP "codec": 8-bit mu-law per sample, registered as `fakecodec`.

    It is a real encode/decode pair (lossy, deterministic, any length), so builder tests exercise
    resampling, lengths, hashing and resume without a neural model. Its only "weight" is one seeded gain,
    and it ignores `--weights` (every mode gives the seeded model). `NCST_FAKE_DELAY` (seconds) slows
    each encode down for kill-and-resume tests.
    """

    VARIANTS = {
        "16k": _fake_card("16k", 16000, "fake", 1),
        "24k": _fake_card("24k", 24000, "fake24", 4),
    }
    DEFAULT_VARIANT = "16k"

    def _build_random(self, seed: int) -> torch.nn.Module:
        model = torch.nn.Module()
        model.register_buffer("gain", 0.9 + 0.1 * torch.rand(()))  # torch's RNG is seeded by the base class
        return model

    def _load_pretrained(self) -> torch.nn.Module:
        return self._build_random(self.seed)  # no real weights: every mode gives the seeded model

    def _load_local(self, path: Path) -> torch.nn.Module:
        return self._build_random(self.seed)

    def _encode(self, wav: torch.Tensor) -> Codes:
        delay = float(os.environ.get("NCST_FAKE_DELAY", "0"))
        if delay:
            time.sleep(delay)
        mu = 255.0
        y = torch.sign(wav) * torch.log1p(mu * wav.abs().clamp(max=1.0)) / math.log1p(mu)
        codes = ((y + 1) / 2 * mu).round().long().clamp(0, 255)
        return Codes(
            levels=(codes,), codebook_size=256, covered_samples=wav.shape[-1], sample_rate_hz=self.card.sample_rate_hz
        )

    def _decode(self, codes: Codes) -> torch.Tensor:
        mu = 255.0
        y = codes.levels[0].float() / mu * 2 - 1
        x = torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu
        return self.model.gain * x


def register_fake_codec() -> None:
    """Registers `FakeCodec` as `fakecodec` (idempotent)."""
    register_codec("fakecodec")(FakeCodec)


# -- crafted checkpoints -----------------------------------------------------------------------------------
class CodeOnLoad:
    """Unpickling this creates `marker` (via `Path.touch`): a stand-in for code hidden in a checkpoint."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.marker,))


def write_crafted_checkpoint(path: Path, marker: Path) -> Path:
    """A torch file that looks like a state dict but creates `marker` if it is ever unpickled."""
    torch.save({"state_dict": {"weight": torch.zeros(1)}, "model": {}, "payload": CodeOnLoad(marker)}, path)
    return path


# -- common adapter checks ---------------------------------------------------------------------------------
def check_missing_extra(spec: str, monkeypatch: Any) -> None:
    """With every upstream import failing, `load("random")` raises `MissingDependencyError` naming the extra.

    Skipped by the caller for ports (`card.pip_extra == ""`): they need nothing beyond ncst.
    """
    import ncst.codecs.base as base

    codec = get_codec(spec)

    class _NoUpstream:
        @staticmethod
        def import_module(name: str) -> Any:
            raise ImportError(f"No module named {name!r} (blocked by ncst.testing.check_missing_extra)")

    monkeypatch.setattr(base, "importlib", _NoUpstream)
    try:
        codec.load("random")
    except MissingDependencyError as err:
        wanted = f"ncst[{codec.card.pip_extra}]"
        if wanted not in str(err):
            raise AssertionError(f"{spec}: the missing-package error does not name {wanted}: {err}") from err
        return
    raise AssertionError(f"{spec}: load() worked with every upstream import blocked; use self._import_upstream")


def check_local_round_trip(spec: str, folder: Path, *, seed: int = 3) -> Codec:
    """`load(codec.save_local(folder))` gives the same audio as the saved codec; returns the loaded codec."""
    codec = get_codec(spec).load("random", seed=seed)
    target = codec.save_local(folder)
    loaded = get_codec(spec).load(target, seed=seed)
    if not loaded.checkpoint_paths or not all(Path(p).is_file() for p in loaded.checkpoint_paths):
        raise AssertionError(f"{spec}: checkpoint_paths {loaded.checkpoint_paths} do not name the files read")
    x = varying_clip(codec.card.sample_rate_hz)
    if not torch.equal(loaded.resynthesize(x), codec.resynthesize(x)):
        raise AssertionError(f"{spec}: a model loaded from save_local() sounds different from the saved one")
    return loaded


def check_crafted_checkpoint_refused(spec: str, folder: Path) -> None:
    """A crafted pickle in the codec's local layout is refused, naming the flag, and never runs.

    Every torch file the codec reads from its `save_local` layout is replaced by a pickle that would
    create a marker file; a codec whose layout has no torch file (safetensors only) gets the crafted
    file as its weights path instead.
    """
    codec = get_codec(spec).load("random")
    target = codec.save_local(folder)
    loaded = get_codec(spec).load(target)
    marker = folder.parent / f"{folder.name}.code-ran"
    torch_files = [Path(p) for p in loaded.checkpoint_paths if Path(p).suffix.lower() not in SAFE_SUFFIXES]
    if torch_files:
        for file in torch_files:
            write_crafted_checkpoint(file, marker)
    else:
        target = write_crafted_checkpoint(folder / "crafted.pt", marker)
    try:
        get_codec(spec).load(target)
    except UntrustedCheckpointError as err:
        if "--trust-checkpoint" not in str(err):
            raise AssertionError(f"{spec}: the refusal does not name --trust-checkpoint: {err}") from err
    else:
        raise AssertionError(f"{spec}: a crafted checkpoint loaded without --trust-checkpoint")
    if marker.exists():
        raise AssertionError(f"{spec}: code in a crafted checkpoint ran without --trust-checkpoint")


def check_mocked_pretrained(spec: str, folder: Path, monkeypatch: Any) -> None:
    """`load("pretrained")` works offline when every download function serves the `save_local` files.

    Hugging Face `hf_hub_download`, torch hub (`download_url_to_file`, `load_state_dict_from_url`) and
    `requests.get` are stubbed: a request for file `name` gets `folder/name`, or the one saved file with
    the same suffix. Caches (`TORCH_HOME`, `HOME`, `HF_HOME`) point into `folder`'s parent.
    """
    codec = get_codec(spec).load("random", seed=5)
    saved = codec.save_local(folder / "saved")
    files = [saved] if saved.is_file() else sorted(p for p in saved.iterdir() if p.is_file())
    cache = folder / "cache"
    for var in ("TORCH_HOME", "HOME", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(cache / var.lower()))

    def serve(name: str) -> Path:
        base = Path(name).name
        exact = [f for f in files if f.name == base]
        same_suffix = [f for f in files if f.suffix == Path(base).suffix]
        if exact:
            return exact[0]
        if len(same_suffix) == 1:
            return same_suffix[0]
        raise FileNotFoundError(f"{spec}: no saved file for requested {name!r} among {[f.name for f in files]}")

    def hf_hub_download(repo_id: str = "", filename: str = "", *args: Any, **kwargs: Any) -> str:
        return str(serve(filename or str(args[0] if args else "")))

    def download_url_to_file(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(serve(url), dst)

    def load_state_dict_from_url(url: str, model_dir: str | None = None, **kwargs: Any) -> Any:
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
        download_url_to_file(url, str(cached))
        return torch.load(cached, map_location="cpu", weights_only=True)

    class _Response:
        status_code = 200

        def __init__(self, url: str) -> None:
            self.content = serve(url).read_bytes()

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hf_hub_download)
    monkeypatch.setattr(torch.hub, "download_url_to_file", download_url_to_file)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", load_state_dict_from_url)
    if "requests" in sys.modules or _importable("requests"):
        import requests

        monkeypatch.setattr(requests, "get", lambda url, *a, **k: _Response(url))
    loaded = get_codec(spec).load("pretrained", seed=5)
    if not loaded.checkpoint_paths:
        raise AssertionError(f"{spec}: pretrained loading did not record the files it read")
    x = varying_clip(codec.card.sample_rate_hz)
    if not torch.equal(loaded.resynthesize(x), codec.resynthesize(x)):
        raise AssertionError(f"{spec}: pretrained loading of the served files sounds different from the saved model")


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
