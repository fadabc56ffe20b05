"""Recipe planning without audio: the seeded split at full size, exact splits from label files, miniatures,
and new classes from a user recipe or --add-codec."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.codecs import CodecCard, register_codec
from ncst.codecs.real import RealCodec
from ncst.corpora.base import Utterance
from ncst.errors import CorpusLayoutError
from ncst.layout import read_label_file
from ncst.recipes import RecipeError, add_class, load_recipe, plan_recipe
from ncst.recipes.build import write_label_files
from ncst.verify import verify


def _utts(corpus: str, n: int, fmt: str) -> list[Utterance]:
    return [Utterance(fmt.format(i), Path(f"/c/{corpus}/{i}.wav"), corpus=corpus) for i in range(n)]


def _small() -> dict[str, list[Utterance]]:
    return {"vctk": _utts("vctk", 30, "p{:03d}_001"), "aishell3": _utts("aishell3", 40, "SSB{:08d}")}


def test_seeded_split_has_the_published_sizes() -> None:
    corpora = {"vctk": _utts("vctk", 44242, "p{:05d}_001"), "aishell3": _utts("aishell3", 88035, "SSB{:08d}")}
    recipe = load_recipe("st-codecfake")
    plan = plan_recipe(recipe, corpora, subsets=("train", "dev", "eval_id"))
    counts: dict[tuple[str, int], list[str]] = {}
    for f in plan.files:
        counts.setdefault((f.folder, f.class_id), []).append(f.job.utterance.corpus)
    for class_id in (0, 1, 2, 3, 4, 6):
        assert len(counts[("train", class_id)]) == 10000 and counts[("train", class_id)].count("vctk") == 3348
        assert len(counts[("dev", class_id)]) == 1000 and counts[("dev", class_id)].count("vctk") == 329
        assert len(counts[("eval_id", class_id)]) == 13228 and counts[("eval_id", class_id)].count("vctk") == 4451
    train = {c: {f.job.utterance.utt_id for f in plan.files if f.folder == "train" and f.class_id == c} for c in (0, 1)}
    evals = {f.job.utterance.utt_id for f in plan.files if f.folder == "eval_id"}
    dev = {f.job.utterance.utt_id for f in plan.files if f.folder == "dev"}
    assert train[0] == train[1]  # paired: every class resynthesises class 0's utterances
    assert not train[0] & evals
    assert not dev & evals
    assert plan.skipped_subsets == {} and "facodec" not in plan.missing_codecs


def test_split_is_deterministic_and_seeded() -> None:
    recipe = load_recipe("st-codecfake")
    a = [f.job.rel_path for f in plan_recipe(recipe, _small(), subsets=("train",)).files]
    b = [f.job.rel_path for f in plan_recipe(recipe, _small(), subsets=("train",)).files]
    c = [f.job.rel_path for f in plan_recipe(recipe, _small(), subsets=("train",), seed=1).files]
    assert a == b and sorted(a) != sorted(c)


def test_labels_dir_reproduces_the_split_exactly(tmp_path: Path) -> None:
    recipe = load_recipe("st-codecfake")
    first = plan_recipe(recipe, _small(), seed=7)
    write_label_files(tmp_path, first)
    again = plan_recipe(recipe, _small(), labels_dir=tmp_path / "label", seed=99)
    assert [f.job.rel_path for f in again.files] == [f.job.rel_path for f in first.files]
    assert again.split_origin.startswith("labels:")
    eval_ood7 = tmp_path / "label" / "eval_ood7.txt"  # official OOD names are not public: match by utterance id
    names = [line.split()[0].split("_", 1)[1] for line in eval_ood7.read_text().splitlines()]
    eval_ood7.write_text("".join(f"wt_{n} fake 7\n" for n in names))
    renamed = plan_recipe(recipe, _small(), labels_dir=tmp_path / "label", subsets=("eval_ood",))
    assert sorted(f.job.utterance.utt_id + ".wav" for f in renamed.files if f.class_id == 7) == sorted(names)
    official = tmp_path / "official"  # the repository's result_id.txt alone fixes eval_id and its order
    official.mkdir()
    eval_lines = (tmp_path / "label" / "eval_id.txt").read_text().splitlines()[::-1]
    (official / "result_id.txt").write_text("".join(f"{ln.split()[0]} 3 0.9\n" for ln in eval_lines))
    from_results = plan_recipe(recipe, _small(), labels_dir=official, subsets=("eval_id", "ID_diff_config/C3-1"))
    got = [f.file_name for f in from_results.files if f.folder == "eval_id"]
    assert sorted(got) == sorted(ln.split()[0] for ln in eval_lines)
    assert [f.file_name for f in from_results.files if f.class_id == 0] == [
        ln.split()[0] for ln in eval_lines if " real " in ln
    ]  # fmt: skip
    (tmp_path / "label" / "train.txt").write_text("p999_999.wav real 0\n")
    with pytest.raises(CorpusLayoutError, match="p999_999"):
        plan_recipe(recipe, _small(), labels_dir=tmp_path / "label")
    (tmp_path / "label" / "train.txt").write_text("p001_001.wav 0\n")
    with pytest.raises(CorpusLayoutError, match=r"train.txt:1: expected"):
        read_label_file(tmp_path / "label" / "train.txt")


def test_per_class_limit_makes_a_miniature_with_shared_eval_utterances() -> None:
    plan = plan_recipe(load_recipe("st-codecfake"), _small(), per_class_limit=3)
    per = {}
    for f in plan.files:
        per.setdefault((f.folder, f.class_id), []).append(f.job.utterance.utt_id)
    assert all(len(v) == 3 for v in per.values())
    evals = {k: sorted(v) for k, v in per.items() if k[0] != "train" and k[0] != "dev"}
    assert len({tuple(v) for v in evals.values()}) == 1  # every eval-based folder, the same 3 utterances
    assert {u[:1] for u in per[("eval_id", 0)]} == {"p", "S"}  # both corpora
    assert plan.skipped_subsets["ID_diff_source/NCSSD-mimi"] == "corpus ncssd not given"


TOY = CodecCard(
    name="toycodec", variant="16k", family="Toy", class_id=None, file_prefix="toy", sample_rate_hz=16000,
    n_quantizers=1, frame_rate_hz=16000.0, codebook_size=65536, nominal_bitrate_bps=256000.0,
    effective_bitrate_bps=256000.0, checkpoint="none", upstream_package="soundfile", pip_extra="", licence="MIT",
    quantizer="uniform", decoder_type="identity",
)  # fmt: skip


@register_codec("toycodec")
class ToyCodec(RealCodec):
    VARIANTS = {"16k": TOY}
    DEFAULT_VARIANT = "16k"


def test_add_codec_as_new_ood_and_id_class() -> None:
    recipe = add_class(load_recipe("st-codecfake"), "toycodec", "OOD")
    plan = plan_recipe(recipe, _small(), subsets=("eval_ood",), per_class_limit=2)
    toy = [f for f in plan.files if f.job.card.name == "toycodec"]
    assert {(f.class_id, f.label_file, f.folder) for f in toy} == {(12, "eval_ood12.txt", "eval_ood")}
    assert all(f.file_name.startswith("toy_") and f.job.class_id == 12 for f in toy)
    recipe_id = add_class(load_recipe("st-codecfake"), "toycodec", "ID")
    plan = plan_recipe(recipe_id, _small(), subsets=("train", "dev", "eval_id"), per_class_limit=1)
    assert {f.folder for f in plan.files if f.class_id == 12} == {"train", "dev", "eval_id"}
    with pytest.raises(RecipeError, match="taken"):
        add_class(recipe, "toycodec", "OOD", class_id=3)


def test_user_recipe_extends_and_builds(tmp_path: Path) -> None:
    from ncst.corpora.fakes import write_aishell3, write_vctk_092

    write_vctk_092(tmp_path / "vctk", {"p225": 3})
    write_aishell3(tmp_path / "aishell3", {"train": {"SSB0005": 2}, "test": {"SSB0011": 1}})
    toml = tmp_path / "mine.toml"
    toml.write_text(
        'extends = "st-codecfake"\nname = "st-codecfake-plus-toy"\n\n'
        '[classes]\n12 = { codec = "toycodec", set = "OOD" }\n\n'
        '[[subsets]]\nfolder = "eval_ood_toy"\nsource = "main:eval"\nclasses = [12]\nlabel_file = "eval_ood12.txt"\n'
    )
    out = tmp_path / "st"
    args = ["build", "--recipe", str(toml), "--vctk", str(tmp_path / "vctk"), "--aishell3",
            str(tmp_path / "aishell3"), "--out", str(out), "--subsets", "eval_ood_toy", "--per-class-limit", "2",
            "--weights", "random"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [ln.split() for ln in (out / "label" / "eval_ood12.txt").read_text().splitlines()]
    assert len(lines) == 2 and all(name.startswith("toy_") and cls == "12" for name, _, cls in lines)
    assert sorted(p.name for p in (out / "eval_ood_toy").glob("*.wav")) == sorted(n for n, _, _ in lines)
    assert verify(out).ok


def test_recipe_build_in_shards_is_missing_files_until_every_shard_ran(tmp_path: Path) -> None:
    from ncst.corpora.fakes import write_aishell3, write_vctk_092

    write_vctk_092(tmp_path / "vctk", {"p225": 4})
    write_aishell3(tmp_path / "aishell3", {"train": {"SSB0005": 3}, "test": {"SSB0011": 2}})
    toml = tmp_path / "toy.toml"
    toml.write_text(
        'name = "toy"\nseed = 3\n[classes]\n0 = "real@16k"\n12 = { codec = "toycodec", set = "ID" }\n'
        '[corpora.main]\nreaders = ["vctk", "aishell3"]\nvctk = { train = 8, dev = 1, eval = 1 }\n'
        "aishell3 = { train = 8, dev = 1, eval = 1 }\n"
        '[[subsets]]\nfolder = "train"\nsource = "main:train"\nclasses = [0, 12]\nper_class = 5\n'
        'label_file = "train.txt"\n'
    )
    out = tmp_path / "st"
    base = ["build", "--recipe", str(toml), "--vctk", str(tmp_path / "vctk"), "--aishell3",
            str(tmp_path / "aishell3"), "--out", str(out), "--weights", "random"]  # fmt: skip
    assert CliRunner().invoke(app, [*base, "--shard", "0/2"]).exit_code == 0
    partial = verify(out)
    assert partial.missing and not partial.ok
    assert CliRunner().invoke(app, [*base, "--shard", "1/2"]).exit_code == 0
    report = verify(out)
    assert report.ok and report.n_ok == 10
    assert sorted(p.name for p in out.glob("provenance*.jsonl")) == [
        "provenance.shard-0-of-2.jsonl", "provenance.shard-1-of-2.jsonl"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'extends = "st-codecfake"\nname = "caf\xe9"\n', r"mine\.toml:2: not UTF-8 text \(byte 0xe9 at column 12\)"),
        (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid TOML"),
        (b"extends = \n", "not valid TOML"),
    ],
    ids=["latin-1", "deep-nesting", "syntax"],
)
def test_unreadable_recipe_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_bytes(content)
    with pytest.raises(RecipeError, match=message) as info:
        load_recipe(path)
    assert str(path) in str(info.value)
