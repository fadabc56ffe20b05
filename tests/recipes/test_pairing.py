"""Paired splits: every class of train and dev resynthesises the utterances of class 0, unless a recipe asks
for `pairing = "independent"`, which reproduces the per-class draws of earlier plans exactly."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.codecs import CodecCard, register_codec
from ncst.codecs.real import RealCodec
from ncst.corpora.base import Utterance
from ncst.corpora.fakes import write_aishell3, write_vctk_092
from ncst.errors import CorpusLayoutError
from ncst.layout import read_label_file
from ncst.recipes import RecipeError, load_recipe, plan_recipe, read_corpora
from ncst.recipes.build import write_label_files

PAIR = CodecCard(
    name="pairtoy", variant="16k", family="PairToy", class_id=None, file_prefix="pair", sample_rate_hz=16000,
    n_quantizers=1, frame_rate_hz=16000.0, codebook_size=65536, nominal_bitrate_bps=256000.0,
    effective_bitrate_bps=256000.0, checkpoint="none", upstream_package="soundfile", pip_extra="", licence="MIT",
    quantizer="uniform", decoder_type="identity",
)  # fmt: skip


@register_codec("pairtoy")
class PairToyCodec(RealCodec):
    VARIANTS = {"16k": PAIR}
    DEFAULT_VARIANT = "16k"


def _utts(corpus: str, n: int, fmt: str) -> list[Utterance]:
    return [Utterance(fmt.format(i), Path(f"/c/{corpus}/{i}.wav"), corpus=corpus) for i in range(n)]


def _large() -> dict[str, list[Utterance]]:
    """Pools larger than 10,000 train and 1,000 dev, so a draw is a real choice."""
    return {"vctk": _utts("vctk", 6000, "p{:05d}_001"), "aishell3": _utts("aishell3", 9000, "SSB{:08d}")}


def _by_class(label_file: Path, prefixes: dict[int, str]) -> dict[int, set[str]]:
    """Utterance ids per class of a label file (file names without `<prefix>_` and `.wav`)."""
    out: dict[int, set[str]] = defaultdict(set)
    for line in read_label_file(label_file):
        stem = line.file.removesuffix(".wav")
        prefix = prefixes[line.class_id]
        out[line.class_id].add(stem[len(prefix) + 1 :] if prefix else stem)
    return out


def test_paired_miniature_label_files_hold_class_0_utterances_for_every_class(tmp_path: Path) -> None:
    plan = plan_recipe(load_recipe("st-codecfake"), _large(), subsets=("train", "dev"), per_class_limit=30)
    write_label_files(tmp_path, plan)
    prefixes = {f.class_id: f.job.prefix or "" for f in plan.files}
    for label_file in ("train.txt", "dev.txt"):
        by_class = _by_class(tmp_path / "label" / label_file, prefixes)
        for class_id in range(1, 7):
            assert by_class[class_id] == by_class[0], (label_file, class_id)


def test_paired_split_has_full_sizes_and_one_utterance_list_per_set() -> None:
    plan = plan_recipe(load_recipe("st-codecfake"), _large(), subsets=("train", "dev"))
    lists: dict[tuple[str, int], list[str]] = defaultdict(list)
    for f in plan.files:
        lists[f.folder, f.class_id].append(f.job.utterance.utt_id)
    assert len(lists["train", 0]) == 10000
    assert len(lists["dev", 0]) == 1000
    for class_id in range(1, 7):
        assert lists["train", class_id] == lists["train", 0]
        assert lists["dev", class_id] == lists["dev", 0]


def test_paired_file_names_are_prefix_and_utterance_id() -> None:
    plan = plan_recipe(load_recipe("st-codecfake"), _large(), subsets=("train",), per_class_limit=3)
    mimi = [f for f in plan.files if f.class_id == 1]
    assert [f.file_name for f in mimi] == [f"mimi_{f.job.utterance.utt_id}.wav" for f in mimi]


def test_independent_pairing_reproduces_the_earlier_plan_exactly() -> None:
    recipe = replace(load_recipe("st-codecfake"), pairing="independent")
    plan = plan_recipe(recipe, _large(), subsets=("train", "dev", "eval_id"), seed=5, per_class_limit=40)
    text = "".join(f"{f.folder} {f.class_id} {f.job.utterance.utt_id}\n" for f in plan.files)
    # computed with the planner before pairing existed (per-class draws keyed by the class id)
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "7603cd637e8d2c883c8f22a2f12ab5bcfe254b419edf5753facd03fc11286076"
    )


def test_independent_pairing_from_a_recipe_file_draws_per_class(tmp_path: Path) -> None:
    toml = tmp_path / "indep.toml"
    toml.write_text('extends = "st-codecfake"\npairing = "independent"\n')
    recipe = load_recipe(toml)
    assert recipe.pairing == "independent"
    plan = plan_recipe(recipe, _large(), subsets=("train",))
    train = {c: {f.job.utterance.utt_id for f in plan.files if f.class_id == c} for c in (0, 1)}
    assert train[0] != train[1]


@pytest.mark.parametrize("value", ['"sometimes"', "1", '"Paired"'])
def test_pairing_other_than_paired_or_independent_is_refused(tmp_path: Path, value: str) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(f'extends = "st-codecfake"\npairing = {value}\n')
    with pytest.raises(RecipeError, match=r"bad\.toml: pairing: .*expected one of \['paired', 'independent'\]"):
        load_recipe(toml)


def test_pairing_of_a_recipe_built_in_python_is_checked() -> None:
    from ncst.recipes.recipe import add_class

    with pytest.raises(RecipeError, match="pairing 'mixed'"):
        add_class(replace(load_recipe("st-codecfake"), pairing="mixed"), "pairtoy", "OOD")


def _toy_recipe(tmp_path: Path, pairing: str) -> Path:
    toml = tmp_path / f"toy-{pairing}.toml"
    toml.write_text(
        f'name = "toy"\nseed = 3\npairing = "{pairing}"\n[classes]\n0 = "real@16k"\n'
        '12 = { codec = "pairtoy", set = "ID" }\n'
        '[corpora.main]\nreaders = ["vctk", "aishell3"]\nvctk = { train = 8, dev = 1, eval = 1 }\n'
        "aishell3 = { train = 8, dev = 1, eval = 1 }\n"
        '[[subsets]]\nfolder = "train"\nsource = "main:train"\nclasses = [0, 12]\nper_class = 4\n'
        'label_file = "train.txt"\n'
    )
    return toml


def test_paired_build_of_fake_corpora_records_pairing_and_pairs_the_label_file(tmp_path: Path) -> None:
    write_vctk_092(tmp_path / "vctk", {"p225": 5, "p226": 5})
    write_aishell3(tmp_path / "aishell3", {"train": {"SSB0005": 5}, "test": {"SSB0011": 5}})
    corpora = read_corpora({"vctk": tmp_path / "vctk", "aishell3": tmp_path / "aishell3"})
    # the independent plan of the same corpora differs: the paired build below is not paired by chance
    indep = plan_recipe(load_recipe(_toy_recipe(tmp_path, "independent")), corpora)
    assert {f.job.utterance.utt_id for f in indep.files if f.class_id == 0} != {
        f.job.utterance.utt_id for f in indep.files if f.class_id == 12
    }
    out = tmp_path / "st"
    base = ["build", "--vctk", str(tmp_path / "vctk"), "--aishell3", str(tmp_path / "aishell3"), "--out", str(out),
            "--weights", "random"]  # fmt: skip
    result = CliRunner().invoke(app, [*base, "--recipe", str(_toy_recipe(tmp_path, "paired"))])
    assert result.exit_code == 0, result.output
    by_class = _by_class(out / "label" / "train.txt", {0: "", 12: "pair"})
    assert by_class[12] == by_class[0]
    assert len(by_class[0]) == 4
    assert json.loads((out / "recipe.json").read_text())["pairing"] == "paired"
    assert "pairing: paired" in (out / "DATASET.md").read_text()
    again = CliRunner().invoke(app, [*base, "--recipe", str(_toy_recipe(tmp_path, "independent"))])
    assert again.exit_code == 2
    assert "pairing 'paired'" in again.output


NCSSD_SETS = ("ID_unseen_real/NCSSD", "ID_diff_source/NCSSD-mimi", "ID_diff_source/NCSSD-snac",
              "OOD_diff_source/NCSSD_wavtokenizer")  # fmt: skip


def _ncssd(n: int) -> dict[str, list[Utterance]]:
    utts = [
        Utterance(f"{group}_{i % 7}_0_d{i}", Path(f"/c/ncssd/{group}/{i}.wav"), corpus="ncssd", extra={"subset": group})
        for group in ("R-EN", "R-ZH")
        for i in range(n)
    ]
    return {"ncssd": utts}


def _ncssd_lists(plan: object) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = defaultdict(list)
    for f in plan.files:  # type: ignore[attr-defined]
        lists[f.folder].append(f.job.utterance.utt_id)
    return lists


def test_ncssd_sets_share_one_seeded_draw_of_5000_per_group() -> None:
    plan = plan_recipe(load_recipe("st-codecfake"), _ncssd(6000), subsets=NCSSD_SETS)
    lists = _ncssd_lists(plan)
    first = lists["ID_unseen_real/NCSSD"]
    assert [sum(u.startswith(g) for u in first) for g in ("R-EN", "R-ZH")] == [5000, 5000]
    for folder in NCSSD_SETS[1:]:
        assert lists[folder] == first, folder


@pytest.mark.parametrize(
    ("rel", "prefix"),
    [
        ("id_unseen_real/result_unseenreal_ncssd.txt", ""),
        ("id_diff_source/result_ncssd_snac.txt", "snac_"),
        ("ALM/miniomni.txt", "miniomni_"),
        ("alm/moshi.txt", "moshi_"),
        ("result_ncssd_mimi.txt", "mimi_"),
    ],
)
def test_ncssd_sets_with_labels_take_the_names_of_an_official_result_file(
    tmp_path: Path, rel: str, prefix: str
) -> None:
    names = ["R-ZH_3_0_d3", "R-EN_1_0_d1", "R-EN_5_0_d12", "R-ZH_0_0_d7"]
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{prefix}{n}.wav 2 0.9\n" for n in names))
    plan = plan_recipe(load_recipe("st-codecfake"), _ncssd(20), labels_dir=tmp_path, subsets=NCSSD_SETS)
    lists = _ncssd_lists(plan)
    for folder in NCSSD_SETS:
        assert lists[folder] == names, folder


def test_ncssd_label_file_of_one_set_fixes_every_ncssd_set(tmp_path: Path) -> None:
    names = ["R-EN_2_0_d2", "R-ZH_4_0_d11"]
    (tmp_path / "ID_diff_source-NCSSD-mimi.txt").write_text("".join(f"mimi_{n}.wav fake 1\n" for n in names))
    plan = plan_recipe(load_recipe("st-codecfake"), _ncssd(20), labels_dir=tmp_path, subsets=NCSSD_SETS)
    lists = _ncssd_lists(plan)
    for folder in NCSSD_SETS:
        assert lists[folder] == names, folder


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("moshi_R-EN_99_0_d999.wav 1 0.5\n", r"moshi\.txt lists utterance 'moshi_R-EN_99_0_d999'"),
        (
            "moshi_R-EN_1_0_d1.wav 1 0.5\nmoshi_R-EN_1_0_d1.wav 1 0.5\n",
            r"moshi\.txt: utterance 'R-EN_1_0_d1' is listed twice",
        ),
        ("../x.wav 1 0.5\n", r"moshi\.txt:1"),
    ],
    ids=["unknown", "twice", "path"],
)
def test_bad_ncssd_result_file_is_refused_naming_it(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "alm").mkdir()
    (tmp_path / "alm" / "moshi.txt").write_text(text)
    with pytest.raises(CorpusLayoutError, match=message):
        plan_recipe(load_recipe("st-codecfake"), _ncssd(20), labels_dir=tmp_path, subsets=NCSSD_SETS)


def test_plan_names_the_file_that_fixed_the_ncssd_recordings(tmp_path: Path) -> None:
    (tmp_path / "ALM").mkdir()
    (tmp_path / "ALM" / "moshi.txt").write_text("moshi_R-EN_1_0_d1.wav 1 0.5\n")
    plan = plan_recipe(load_recipe("st-codecfake"), _ncssd(20), labels_dir=tmp_path, subsets=NCSSD_SETS)
    assert plan.fixed_by == {"ncssd": str(tmp_path / "ALM" / "moshi.txt")}


def test_recipe_miniature_of_fake_corpora_pairs_train_and_dev(tmp_path: Path) -> None:
    """The issue's "done when" on fake corpora (the pools are smaller than 10,000 here, so this also held
    before pairing; the draws themselves are covered by the tests on larger pools above)."""
    from ncst.corpora.fakes import write_ncssd

    write_vctk_092(tmp_path / "vctk", {"p225": 6, "p226": 6})
    write_aishell3(tmp_path / "aishell3", {"train": {"SSB0005": 6}, "test": {"SSB0011": 6}})
    write_ncssd(tmp_path / "ncssd")
    corpora = read_corpora({c: tmp_path / c for c in ("vctk", "aishell3", "ncssd")})
    plan = plan_recipe(load_recipe("st-codecfake"), corpora, per_class_limit=2)
    write_label_files(tmp_path / "st", plan)
    prefixes = {f.class_id: f.job.prefix or "" for f in plan.files if f.folder in ("train", "dev")}
    for label_file in ("train.txt", "dev.txt"):
        by_class = _by_class(tmp_path / "st" / "label" / label_file, prefixes)
        assert len(by_class[0]) == 2
        for class_id in sorted(prefixes):
            assert by_class[class_id] == by_class[0], (label_file, class_id)
