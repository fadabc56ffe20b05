"""Importable test helpers: sine clips, a fake codec, a tiny corpus, crafted checkpoints, common adapter checks.

For ncst's own tests and for third-party codec packages (as lhotse's `testing/`). `register_fake_codec()`
registers `FakeCodec` as `fakecodec`: an explicit call, not an import side effect (pool workers and Ray
actors register it themselves from the parent's registry, `ncst.build_dataset.jobs.codec_sources`).
Nothing here touches the network.

The `check_*` functions are the common adapter checks of `ncst.codecs.contract` (re-exported here for older
callers); a plug-in package runs them all with `ncst.codecs.contract.check_adapter_contract("mycodec")`.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ncst.codecs import Codec, CodecCard, Codes, contract, register_codec
from ncst.codecs.contract import SAFE_SUFFIXES, CodeOnLoad, write_crafted_checkpoint  # noqa: F401  (re-exported)
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
    "write_tiny_recipe",
    "snapshot_tree",
]


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


def write_tiny_recipe(folder: Path, folders: tuple[str, ...] = ("eval_id",), speakers: int = 4) -> Path:
    """A one-class recipe (class 0, `real@16k`: no model to load) and tiny fake VCTK 0.92 + AISHELL-3 corpora.

    Writes `folder/tiny.toml` (one subset per name in `folders`, each from the split of the same name, with
    `eval_id` taken from `eval`), `folder/vctk` and `folder/aishell3`; returns `folder`. For build tests that
    need a real recipe run (locks, refusals, `--add-codec`) without a codec model.
    """
    from ncst.corpora.fakes import write_aishell3, write_vctk_092

    lines = [
        'name = "tiny"', "seed = 5", "", "[classes]", '0 = "real@16k"', "", "[corpora.main]",
        'readers = ["vctk", "aishell3"]', "vctk = { train = 2, dev = 1, eval = 1 }",
        "aishell3 = { train = 2, dev = 1, eval = 1 }",
    ]  # fmt: skip
    for name in folders:
        split = "eval" if name == "eval_id" else name
        lines += ["", "[[subsets]]", f'folder = "{name}"', f'source = "main:{split}"', "classes = [0]"]
        lines.append(f'label_file = "{name}.txt"')
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_vctk_092(folder / "vctk", {"p225": speakers})
    write_aishell3(folder / "aishell3", {"train": {"SSB0005": 2}, "test": {"SSB0011": 2}})
    return folder


def snapshot_tree(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple[str, int, int]]:
    """Every name under `root` but `skip` and what lies below it: relative name -> (kind, size, mtime_ns).

    Links are not followed (kind `link`), so a refusal test sees a link planted or replaced as well as a
    file written, grown or touched: equal snapshots before and after mean nothing on disk changed.
    """
    skipped = {Path(p) for p in skip}
    out: dict[str, tuple[str, int, int]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if Path(folder) / d not in skipped]
        for name in dirs + files:
            path = Path(folder) / name
            if path in skipped:
                continue
            st = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            out[str(path.relative_to(root))] = (kind, st.st_size if kind == "file" else 0, st.st_mtime_ns)
    return out


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


# -- crafted checkpoints and common adapter checks (they live in ncst.codecs.contract) ---------------------
def check_missing_extra(spec: str, monkeypatch: Any = None) -> None:
    """`ncst.codecs.contract.check_missing_extra` (`monkeypatch` is accepted and unused: the check restores itself)."""
    contract.check_missing_extra(spec)


def check_local_round_trip(spec: str, folder: Path, *, seed: int = 3) -> Codec:
    """`ncst.codecs.contract.check_local_round_trip`."""
    return contract.check_local_round_trip(spec, folder, seed=seed)


def check_crafted_checkpoint_refused(spec: str, folder: Path) -> None:
    """`ncst.codecs.contract.check_crafted_checkpoint_refused`."""
    contract.check_crafted_checkpoint_refused(spec, folder)


def check_mocked_pretrained(spec: str, folder: Path, monkeypatch: Any = None) -> None:
    """`ncst.codecs.contract.check_mocked_pretrained` (`monkeypatch` is accepted and unused, as above)."""
    contract.check_mocked_pretrained(spec, folder)
