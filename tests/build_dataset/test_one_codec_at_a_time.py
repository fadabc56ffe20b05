"""A build holds one codec model at a time, shares a checkpoint between variants, and records per-codec weights."""

from __future__ import annotations

import dataclasses
import gc
import weakref
from pathlib import Path

import pytest
import torch

from ncst.build_dataset import BuildConfig, build
from ncst.build_dataset.provenance import read_provenance
from ncst.codecs import CodecCard, register_codec
from ncst.codecs.weight_plan import parse_weights_options
from ncst.errors import NcstError, WeightsError
from ncst.testing import FakeCodec

_ALIVE: "weakref.WeakSet[torch.nn.Module]" = weakref.WeakSet()
_MOST_ALIVE: list[int] = []
_LOCAL_LOADS: list[str] = []
_STRICT: list[bool] = []  # non-empty: building a second live model raises (seen by forked workers too)


class _CountingCodec(FakeCodec):
    """FakeCodec variants that count live models, load one checkpoint for every variant and check it is set up."""

    VARIANTS = {
        k: dataclasses.replace(c, name="countcodec", file_prefix=f"count{k}", class_id=None)
        for k, c in FakeCodec.VARIANTS.items()
    }

    @classmethod
    def shared_model_key(cls, card: CodecCard) -> str:
        return "one checkpoint"

    def _build_random(self, seed: int) -> torch.nn.Module:
        gc.collect()
        if _STRICT and len(_ALIVE):
            raise RuntimeError("a second model is built while another is alive")
        _MOST_ALIVE.append(len(_ALIVE) + 1)
        model = super()._build_random(seed)
        _ALIVE.add(model)
        return model

    def _load_local(self, path: Path) -> torch.nn.Module:
        _LOCAL_LOADS.append(self.card.spec)
        self.checkpoint_paths = [path / "model.pt" if path.is_dir() else path]
        return self._build_random(self.seed)

    def _prepare_model(self, model: torch.nn.Module) -> None:
        model.variant = self.card.spec  # type: ignore[assignment]  # what EnCodec's set_target_bandwidth is

    def _encode(self, wav: torch.Tensor):  # type: ignore[no-untyped-def]
        if self.model.variant != self.card.spec:
            raise RuntimeError(f"model set up for {self.model.variant}, used as {self.card.spec}")
        return super()._encode(wav)


register_codec("countcodec")(_CountingCodec)


@pytest.fixture(autouse=True)
def _reset() -> None:
    _MOST_ALIVE.clear()
    _LOCAL_LOADS.clear()
    _STRICT.clear()


def _config(manifest: Path, out: Path, **kw: object) -> BuildConfig:
    return BuildConfig(corpus=str(manifest), out_dir=out, **kw)  # type: ignore[arg-type]


def test_build_holds_one_codec_model_at_a_time(tiny_corpus: Path, tmp_path: Path) -> None:
    # random weights are never shared: two models, one after the other
    build(_config(tiny_corpus, tmp_path / "out", codecs=("countcodec@16k", "countcodec@24k"), weights="random"))
    assert max(_MOST_ALIVE) == 1


def test_variants_sharing_a_checkpoint_load_it_once(tiny_corpus: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"weights")
    result = build(
        _config(tiny_corpus, tmp_path / "out", codecs=("countcodec@16k", "countcodec@24k"), weights=str(ckpt))
    )
    assert len(_LOCAL_LOADS) == 1
    assert result.ok  # each variant ran with its own settings on the shared model


def test_shared_model_is_set_up_again_when_variants_alternate(tiny_corpus: Path, tmp_path: Path) -> None:
    from ncst.build_dataset.jobs import JobRunner, JobSettings

    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"weights")
    runner = JobRunner(JobSettings(out_dir=tmp_path, weights=str(ckpt)))
    runner.codec("countcodec@16k")
    runner.codec("countcodec@24k")
    assert runner.codec("countcodec@16k").model.variant == "countcodec@16k"


def test_per_codec_weights_are_recorded_per_file(tiny_corpus: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"weights")
    plan = parse_weights_options(["random", f"countcodec={ckpt}"])
    out = tmp_path / "out"
    build(_config(tiny_corpus, out, codecs=("fakecodec", "countcodec"), weights=plan))
    rows = read_provenance([out / "provenance.jsonl"]).values()
    sources = {(r.codec_spec, r.weights, r.extra["weights_source"]) for r in rows}
    assert sources == {
        ("fakecodec@16k", "random", "--weights random"),
        ("countcodec@16k", str(ckpt.resolve()), f"--weights countcodec={ckpt.resolve()}"),
    }


def test_checkpoint_sha256_is_recorded_for_a_path_from_weights_dir(tiny_corpus: Path, tmp_path: Path) -> None:
    import hashlib

    folder = tmp_path / "weights" / "countcodec"
    folder.mkdir(parents=True)
    (folder / "model.pt").write_bytes(b"weights")
    out = tmp_path / "out"
    build(_config(tiny_corpus, out, codecs=("countcodec",), weights=parse_weights_options([], tmp_path / "weights")))
    row = next(iter(read_provenance([out / "provenance.jsonl"]).values()))
    assert row.extra["weights_source"] == f"--weights-dir {folder.resolve()}"
    assert row.checkpoint_sha256 == {str(folder.resolve() / "model.pt"): hashlib.sha256(b"weights").hexdigest()}


def test_weights_dir_missing_a_codec_stops_the_build_before_any_file(tiny_corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    out = tmp_path / "out"
    config = _config(
        tiny_corpus, out, codecs=("fakecodec", "encodec"), weights=parse_weights_options([], tmp_path / "weights")
    )
    with pytest.raises(WeightsError, match="neither encodec@6kbps/ nor encodec/"):
        build(config)
    assert not list((out / "wav").glob("*.wav"))


def test_build_json_refuses_another_per_codec_weights(tiny_corpus: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"weights")
    out = tmp_path / "out"
    build(_config(tiny_corpus, out, codecs=("countcodec",), weights="random"))
    with pytest.raises(NcstError, match="built with other settings"):
        build(
            _config(
                tiny_corpus,
                out,
                codecs=("countcodec",),
                weights=parse_weights_options(["random", f"countcodec={ckpt}"]),
            )
        )


def test_rerun_with_the_same_per_codec_weights_skips_every_file(tiny_corpus: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt.pt"
    ckpt.write_bytes(b"weights")
    out = tmp_path / "out"
    plan = parse_weights_options(["random", f"countcodec={ckpt}"])
    build(_config(tiny_corpus, out, codecs=("fakecodec", "countcodec"), weights=plan))
    again = build(_config(tiny_corpus, out, codecs=("fakecodec", "countcodec"), weights=plan))
    assert again.skipped == again.planned


def test_pool_workers_hold_one_codec_model_at_a_time(tiny_corpus: Path, tmp_path: Path) -> None:
    _STRICT.append(True)  # forked workers inherit it: a worker building a second live model fails the build
    config = _config(
        tiny_corpus, tmp_path / "out", codecs=("countcodec@16k", "countcodec@24k"), weights="random", workers=2
    )
    assert build(config).ok
