from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ncst.build_dataset import BuildConfig, build, parse_shard, read_provenance, verify_build
from ncst.errors import NcstError, WeightsError
from ncst.testing import add_utterance


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
        assert info.samplerate == 16000
        assert info.frames == round(dur * 16000)
        assert info.channels == 1
    labels = (out / "label.txt").read_text().splitlines()
    assert labels == [f"fake_spk1_{i:03d}.wav fake 1" for i in range(3)]
    manifest = pd.read_csv(out / "manifest.csv")
    assert list(manifest["file"]) == [f"wav/fake_spk1_{i:03d}.wav" for i in range(3)]
    assert set(manifest["speaker"]) == {"spk1"}
    assert set(manifest["codec_spec"]) == {"fakecodec@16k"}
    rows = read_provenance([out / "provenance.jsonl"])
    row = rows["wav/fake_spk1_001.wav"]
    assert row.weights == "random"
    assert row.seed == 0
    assert row.resampling == "none"
    assert row.input_samples == row.output_samples == 8000
    assert row.source_samples == 8000
    assert len(row.source_sha256) == 64
    assert len(row.output_sha256) == 64
    assert "torch" in row.upstream_versions
    assert row.created_utc
    assert json.loads((out / "build.json").read_text()) == {"weights": "random", "seed": 0}
    assert (out / "failures.csv").read_text().startswith("file,utt_id")


def test_build_resamples_to_codec_rate_and_keeps_duration(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out, codecs=("fakecodec@24k",)))
    info = sf.info(out / "wav" / "fake24_spk1_000.wav")
    assert info.samplerate == 24000
    assert info.frames == round(0.31 * 16000 * 24000 / 16000)
    row = read_provenance([out / "provenance.jsonl"])["wav/fake24_spk1_000.wav"]
    assert row.resampling == "soxr HQ 16000->24000"
    assert row.class_id == 4


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
    assert report.corrupt == ["wav/fake_spk1_000.wav"]
    assert report.missing == ["wav/fake_spk1_001.wav"]
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
    assert result.done == 3
    assert not result.ok
    failures = pd.read_csv(out / "failures.csv", dtype=str, keep_default_na=False)
    assert sorted(failures["utt_id"]) == ["broken", "clipped", "empty", "nan"]
    reasons = dict(zip(failures["utt_id"], failures["message"]))
    assert "cannot decode" in reasons["broken"]
    assert "empty" in reasons["empty"]
    assert "NaN" in reasons["nan"]
    assert "clipped" in reasons["clipped"]
    assert all(str(tiny_corpus.parent) in m for m in failures["message"])  # messages name the file
    assert not list((out / "wav").glob("*broken*"))
    assert len(list((out / "wav").glob("*.wav"))) == 3


def test_missing_source_file_is_a_failure_not_a_crash(tiny_corpus: Path, tmp_path: Path) -> None:
    (tiny_corpus.parent / "src" / "utt1.wav").unlink()
    result = build(_config(tiny_corpus, tmp_path / "out"))
    assert result.done == 2
    assert [f.utt_id for f in result.failures] == ["spk1_001"]
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
    assert sum(r.planned for r in results) == 7
    assert all(r.planned > 0 for r in results)
    files_0 = set(read_provenance([out / "provenance.shard-0-of-2.jsonl"]))
    files_1 = set(read_provenance([out / "provenance.shard-1-of-2.jsonl"]))
    assert not files_0 & files_1
    assert len(files_0 | files_1) == 7
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
    assert len(lines) == 3
    assert all(json.loads(line) for line in lines)


def test_unknown_codec_is_a_clear_error(tiny_corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(NcstError, match="unknown codec 'nosuch'.*encodec"):
        build(_config(tiny_corpus, tmp_path / "out", codecs=("nosuch",)))


def test_workers_give_the_same_files_as_one_process(tiny_corpus: Path, tmp_path: Path) -> None:
    for i in range(3):
        add_utterance(tiny_corpus, f"w{i}", np.full(3000, 0.1 * (i + 1), dtype=np.float32))
    single, pooled = tmp_path / "single", tmp_path / "pooled"
    build(_config(tiny_corpus, single))
    result = build(_config(tiny_corpus, pooled, workers=2))
    assert result.done == 6
    assert result.ok
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
    assert [f.utt_id for f in result.failures] == ["hot"]
    assert "clipped" in result.failures[0].message


def test_replaced_source_is_regenerated_and_said_so(
    tiny_corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out))
    before = read_provenance([out / "provenance.jsonl"])["wav/fake_spk1_001.wav"]
    source = tiny_corpus.parent / "src" / "utt1.wav"
    sf.write(source, np.full(8000, 0.02, np.float32), 16000, subtype="PCM_16")  # same length, other audio
    with caplog.at_level(logging.WARNING):
        again = build(_config(tiny_corpus, out))
    assert (again.done, again.skipped) == (1, 2)
    assert "fake_spk1_001.wav: the source" in caplog.text
    assert "changed since the output was made" in caplog.text
    after = read_provenance([out / "provenance.jsonl"])["wav/fake_spk1_001.wav"]
    assert after.source_sha256 != before.source_sha256
    assert after.output_sha256 != before.output_sha256
    assert verify_build(out).ok


def test_touched_but_identical_source_is_not_regenerated(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out))
    source = tiny_corpus.parent / "src" / "utt1.wav"
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    again = build(_config(tiny_corpus, out))
    assert (again.done, again.skipped) == (0, 3)


def test_manifest_row_pointing_at_another_file_is_regenerated(
    tiny_corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    build(_config(tiny_corpus, out))
    frame = pd.read_csv(tiny_corpus, dtype=str)
    frame.loc[frame["utt_id"] == "spk1_000", "path"] = "src/utt2.wav"
    frame.to_csv(tiny_corpus, index=False)
    with caplog.at_level(logging.WARNING):
        again = build(_config(tiny_corpus, out))
    assert (again.done, again.skipped) == (1, 2)
    assert "fake_spk1_000.wav: the manifest now points at" in caplog.text
    row = read_provenance([out / "provenance.jsonl"])["wav/fake_spk1_000.wav"]
    assert row.source_path.endswith("utt2.wav")
    assert verify_build(out).ok


def test_bad_weights_stop_the_build_before_the_first_file(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ncst.build_dataset import jobs

    loads: list[str] = []

    class WrongKeys:
        def load(self, *args: object, **kwargs: object) -> None:
            loads.append("load")
            raise RuntimeError('Error(s) in loading state_dict: Unexpected key(s) in state_dict: "foo".')

    monkeypatch.setattr(jobs, "get_codec", lambda spec, device: WrongKeys())
    out = tmp_path / "out"
    with pytest.raises(WeightsError, match=r"cannot load fakecodec@16k with weights 'random': RuntimeError: .*foo"):
        build(_config(tiny_corpus, out))
    assert loads == ["load"]  # loaded once, not once per file
    assert not list((out / "wav").iterdir())
    assert (out / "provenance.jsonl").read_text() == ""


def test_a_damaged_config_yaml_beside_local_weights_is_a_weights_error(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adapters that read a config.yaml (AudioDec, FunCodec, WavTokenizer) let yaml's own errors through."""
    import yaml

    from ncst.build_dataset import jobs

    class BadYaml:
        def load(self, *args: object, **kwargs: object) -> None:
            yaml.safe_load("model: [unclosed")

    monkeypatch.setattr(jobs, "get_codec", lambda spec, device: BadYaml())
    with pytest.raises(WeightsError, match=r"cannot load fakecodec@16k with weights 'random': ParserError"):
        build(_config(tiny_corpus, tmp_path / "out"))


def test_bad_weights_file_exits_2_before_any_file(tiny_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("encodec")
    import torch
    from typer.testing import CliRunner

    from ncst.cli.build_dataset import app

    torch.save({"foo": torch.zeros(1)}, tmp_path / "bad.pt")
    out = tmp_path / "out"
    args = [
        "--codec",
        "encodec",
        "--corpus",
        str(tiny_corpus),
        "--weights",
        str(tmp_path / "bad.pt"),
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "cannot load encodec" in result.output
    assert "Unexpected key" in result.output
    assert not list((out / "wav").glob("*.wav"))
    assert "3 failed" not in result.output


def test_temp_files_of_live_writers_are_kept_and_of_dead_ones_removed(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "wav").mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        live_tmp = out / "wav" / f".fake_spk1_000.wav.{sleeper.pid}-0123abcd.tmp"
        dead_tmp = out / "wav" / f".fake_spk1_001.wav.{dead.pid}-0123abcd.tmp"
        live_tmp.write_bytes(b"in flight")
        dead_tmp.write_bytes(b"left by a kill")
        build(_config(tiny_corpus, out))
        assert live_tmp.read_bytes() == b"in flight"
        assert not dead_tmp.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_out_pointing_at_a_file_is_a_clear_error(tiny_corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(NcstError, match=r"--out .*afile is a file, not a folder"):
        build(_config(tiny_corpus, tmp_path / "afile"))
    with pytest.raises(NcstError, match=r"--out .*sub is inside .*afile, which is a file"):
        build(_config(tiny_corpus, tmp_path / "afile" / "sub"))


@pytest.mark.parametrize("workers", [0, 2])
def test_bad_weights_of_a_later_codec_stop_the_build_before_any_file(
    tiny_corpus: Path, tmp_path: Path, workers: int
) -> None:
    pytest.importorskip("encodec")
    import torch

    torch.save({"gain": torch.tensor(1.0)}, tmp_path / "fake.pt")
    out = tmp_path / "out"
    # fakecodec loads this state dict and its jobs come first; encodec's load of the same file fails
    config = BuildConfig(
        codecs=("fakecodec", "encodec"),
        corpus=str(tiny_corpus),
        out_dir=out,
        weights=str(tmp_path / "fake.pt"),
        workers=workers,
    )
    with pytest.raises(WeightsError, match="cannot load encodec@6kbps"):
        build(config)
    assert not list((out / "wav").glob("*.wav"))
