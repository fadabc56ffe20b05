from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import add_utterance

from ncst.build_dataset import BuildConfig, build, parse_shard, read_provenance, verify_build
from ncst.errors import NcstError


def _config(manifest: Path, out: Path, **kw) -> BuildConfig:  # noqa: ANN003
    return BuildConfig(
        codecs=kw.pop("codecs", ("fakecodec",)), corpus=str(manifest), out_dir=out, weights="random", **kw
    )


def test_build_writes_audio_labels_manifest_and_provenance(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(_config(tiny_corpus, out))
    assert (result.planned, result.done, result.skipped, result.ok) == (3, 3, 0, True)
    for i, dur in enumerate((0.31, 0.5, 0.27)):
        info = sf.info(out / "wav" / f"fake_spk1_{i:03d}.wav")
        assert info.samplerate == 16000 and info.frames == round(dur * 16000) and info.channels == 1
    labels = (out / "label.txt").read_text().splitlines()
    assert labels == [f"fake_spk1_{i:03d}.wav fake 1" for i in range(3)]
    manifest = pd.read_csv(out / "manifest.csv")
    assert list(manifest["file"]) == [f"wav/fake_spk1_{i:03d}.wav" for i in range(3)]
    assert set(manifest["speaker"]) == {"spk1"} and set(manifest["codec_spec"]) == {"fakecodec@16k"}
    rows = read_provenance([out / "provenance.jsonl"])
    row = rows["wav/fake_spk1_001.wav"]
    assert row.weights == "random" and row.seed == 0 and row.resampling == "none"
    assert row.input_samples == row.output_samples == 8000 and row.source_samples == 8000
    assert len(row.source_sha256) == 64 and len(row.output_sha256) == 64
    assert "torch" in row.upstream_versions and row.created_utc
    assert json.loads((out / "build.json").read_text()) == {"weights": "random", "seed": 0}
    assert (out / "failures.csv").read_text().startswith("file,utt_id")


def test_build_resamples_to_codec_rate_and_keeps_duration(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out, codecs=("fakecodec@24k",)))
    info = sf.info(out / "wav" / "fake24_spk1_000.wav")
    assert info.samplerate == 24000 and info.frames == round(0.31 * 16000 * 24000 / 16000)
    row = read_provenance([out / "provenance.jsonl"])["wav/fake24_spk1_000.wav"]
    assert row.resampling == "soxr HQ 16000->24000" and row.class_id == 4


def test_rerun_skips_finished_files(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out))
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "wav").glob("*.wav")}
    again = build(_config(tiny_corpus, out))
    assert (again.done, again.skipped) == (0, 3)
    assert {p: p.stat().st_mtime_ns for p in (out / "wav").glob("*.wav")} == mtimes
    assert len((out / "provenance.jsonl").read_text().splitlines()) == 3


def test_rerun_regenerates_corrupt_or_missing_output(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out))
    (out / "wav" / "fake_spk1_000.wav").write_bytes(b"garbage")
    (out / "wav" / "fake_spk1_001.wav").unlink()
    report = verify_build(out)
    assert report.corrupt == ["wav/fake_spk1_000.wav"] and report.missing == ["wav/fake_spk1_001.wav"]
    again = build(_config(tiny_corpus, out))
    assert (again.done, again.skipped) == (2, 1)
    assert verify_build(out).ok


def test_bad_inputs_are_recorded_and_the_build_goes_on(tiny_corpus: Path, tmp_path: Path) -> None:
    add_utterance(tiny_corpus, "broken", b"not a wav file at all")
    add_utterance(tiny_corpus, "empty", np.zeros(0, dtype=np.float32))
    nan = np.full(4000, 0.1, dtype=np.float32)
    nan[10] = np.nan
    add_utterance(tiny_corpus, "nan", nan)
    add_utterance(tiny_corpus, "clipped", np.ones(4000, dtype=np.float32) * 1.5)
    out = tmp_path / "out"
    result = build(_config(tiny_corpus, out))
    assert result.done == 3 and not result.ok
    failures = pd.read_csv(out / "failures.csv", dtype=str, keep_default_na=False)
    assert sorted(failures["utt_id"]) == ["broken", "clipped", "empty", "nan"]
    reasons = dict(zip(failures["utt_id"], failures["message"]))
    assert "cannot decode" in reasons["broken"] and "empty" in reasons["empty"]
    assert "NaN" in reasons["nan"] and "clipped" in reasons["clipped"]
    assert all(str(tiny_corpus.parent) in m for m in failures["message"])  # messages name the file
    assert not list((out / "wav").glob("*broken*")) and len(list((out / "wav").glob("*.wav"))) == 3


def test_missing_source_file_is_a_failure_not_a_crash(tiny_corpus: Path, tmp_path: Path) -> None:
    (tiny_corpus.parent / "src" / "utt1.wav").unlink()
    result = build(_config(tiny_corpus, tmp_path / "out"))
    assert result.done == 2 and [f.utt_id for f in result.failures] == ["spk1_001"]
    assert "not found" in result.failures[0].message


def test_other_settings_in_same_folder_are_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out))
    with pytest.raises(NcstError, match="seed"):
        build(_config(tiny_corpus, out, seed=1))


def test_shards_partition_the_jobs(tiny_corpus: Path, tmp_path: Path) -> None:
    for i in range(4):
        add_utterance(tiny_corpus, f"extra{i}", np.full(3000, 0.1 * (i + 1), dtype=np.float32))
    out = tmp_path / "out"
    results = [build(_config(tiny_corpus, out, shard=parse_shard(f"{i}/2"))) for i in range(2)]
    assert sum(r.planned for r in results) == 7 and all(r.planned > 0 for r in results)
    files_0 = set(read_provenance([out / "provenance.shard-0-of-2.jsonl"]))
    files_1 = set(read_provenance([out / "provenance.shard-1-of-2.jsonl"]))
    assert not files_0 & files_1 and len(files_0 | files_1) == 7
    assert len(pd.read_csv(out / "manifest.csv")) == 7  # the last shard's manifest merges both logs


def test_limit_uses_first_utterances(tiny_corpus: Path, tmp_path: Path) -> None:
    result = build(_config(tiny_corpus, tmp_path / "out", limit=2))
    assert result.planned == 2
    assert sorted(p.name for p in (tmp_path / "out" / "wav").glob("*.wav")) == [
        "fake_spk1_000.wav",
        "fake_spk1_001.wav",
    ]


def test_partial_provenance_line_is_repaired(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out, limit=1))
    with open(out / "provenance.jsonl", "a") as fh:
        fh.write('{"file": "wav/fake_spk1_001.wav", "utt_')  # a kill mid-append
    result = build(_config(tiny_corpus, out))
    assert (result.done, result.skipped) == (2, 1)
    lines = (out / "provenance.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)


def test_unknown_codec_is_a_clear_error(tiny_corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(NcstError, match="unknown codec 'nosuch'.*encodec"):
        build(_config(tiny_corpus, tmp_path / "out", codecs=("nosuch",)))


def test_workers_give_the_same_files_as_one_process(tiny_corpus: Path, tmp_path: Path) -> None:
    for i in range(3):
        add_utterance(tiny_corpus, f"w{i}", np.full(3000, 0.1 * (i + 1), dtype=np.float32))
    single, pooled = tmp_path / "single", tmp_path / "pooled"
    build(_config(tiny_corpus, single))
    result = build(_config(tiny_corpus, pooled, workers=2))
    assert result.done == 6 and result.ok
    a = {r.file: r.output_sha256 for r in read_provenance([single / "provenance.jsonl"]).values()}
    b = {r.file: r.output_sha256 for r in read_provenance([pooled / "provenance.jsonl"]).values()}
    assert a == b


def test_build_outputs_follow_the_umask(tiny_corpus: Path, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        build(_config(tiny_corpus, out))
    finally:
        os.umask(old)
    files = [*sorted((out / "wav").glob("*.wav"))]
    files += [out / name for name in ("label.txt", "manifest.csv", "failures.csv", "provenance.jsonl", "build.json")]
    assert len(files) == 8
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert set(modes.values()) == {"0o644"}, modes  # group and others can read a colleague's build


def test_clipped_16bit_source_is_rejected_at_positive_full_scale(tiny_corpus: Path, tmp_path: Path) -> None:
    x = np.full(4000, 0.1, np.float32)
    x[::4] = 1.0  # 25% at +full scale, stored as +32767 = 0.99997 when read back
    add_utterance(tiny_corpus, "hot", b"")  # adds the manifest row; the file is written next
    sf.write(tiny_corpus.parent / "src" / "hot.wav", x, 16000, subtype="PCM_16")
    result = build(_config(tiny_corpus, tmp_path / "out"))
    assert [f.utt_id for f in result.failures] == ["hot"] and "clipped" in result.failures[0].message
