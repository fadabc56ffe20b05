"""Recipe files, label files and --add-codec values under hostile input: one named error per defect, no
traceback, and no name that leads outside its root. No codec is loaded here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ncst.corpora.base import Utterance
from ncst.errors import CorpusLayoutError
from ncst.recipes import RecipeError, load_recipe, plan_recipe
from ncst.recipes.build import resolve_recipe
from ncst.recipes.class_ids import AddedCodec
from ncst.recipes.recipe import MAX_EXTENDS_DEPTH

SMALL = """
name = "small"
seed = 3

[classes]
0 = "real@16k"
1 = "mimi"

[corpora.main]
readers = ["vctk", "aishell3"]
vctk = { train = 4, dev = 1, eval = 1 }
aishell3 = { train = 4, dev = 1, eval = 1 }

[[subsets]]
folder = "train"
source = "main:train"
classes = [0, 1]
label_file = "train.txt"

[[subsets]]
folder = "eval_id"
source = "main:eval"
classes = [0, 1]
label_file = "eval_id.txt"
"""


def _utts(corpus: str, ids: list[str]) -> list[Utterance]:
    return [Utterance(i, Path(f"/c/{corpus}/{k}/{i}.wav"), corpus=corpus) for k, i in enumerate(ids)]


def _corpora() -> dict[str, list[Utterance]]:
    return {
        "vctk": _utts("vctk", [f"p225_{k:03d}" for k in range(1, 7)]),
        "aishell3": _utts("aishell3", [f"SSB0005{k:04d}" for k in range(1, 7)]),
    }


def _write(folder: Path, text: str, name: str = "r.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _subset_with(key: str, value: str) -> str:
    """SMALL plus one subset whose `key` is set to the TOML literal `value`."""
    entry = {"folder": '"extra"', "source": '"main:eval"', "classes": "[1]", "label_file": '"extra.txt"'}
    entry[key] = value
    return SMALL + "\n[[subsets]]\n" + "".join(f"{k} = {v}\n" for k, v in entry.items())


# -- names that would become paths outside the root ---------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("folder", "/abs"),  # the old loader stripped the leading '/' and built into out/abs
        ("folder", "a//b"),
        ("folder", "a/./b"),
        ("folder", ""),
        ("folder", "train/"),
        ("folder", "x\u0000y"),
        ("folder", "x\u001by"),
        ("folder", "label"),  # would mix audio with the label files
        ("folder", "provenance.jsonl/x"),
        ("folder", "build.shard-0-of-2.lock"),
        ("folder", "a\\..\\..\\b"),
        ("label_file", "../../escape.txt"),
        ("label_file", "/tmp/escape.txt"),
        ("label_file", "sub/x.txt"),
        ("label_file", ""),
        ("prefix", "../../x"),
        ("prefix", "a/b"),
        ("prefix", "x\u0001"),
        ("prefix", "p" * 40),
    ],
)
def test_load_recipe_refuses_a_name_that_leaves_the_root(tmp_path: Path, key: str, value: str) -> None:
    path = _write(tmp_path, _subset_with(key, _toml_string(value)))
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    message = str(err.value)
    assert str(path) in message
    assert f"{key}" in message
    assert repr(value)[:20] in message


def _toml_string(value: str) -> str:
    """A TOML basic string holding `value` exactly (control characters as \\uXXXX escapes)."""
    out = []
    for ch in value:
        if ch in '"\\' or ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def test_load_recipe_accepts_folders_that_only_look_like_build_files(tmp_path: Path) -> None:  # already held
    path = _write(tmp_path, _subset_with("folder", '"builds/provenance"'))
    assert load_recipe(path).subsets[-1].folder == "builds/provenance"


def test_load_recipe_refuses_dotdot_folder(tmp_path: Path) -> None:  # already refused by the old loader
    path = _write(tmp_path, _subset_with("folder", '"a/../../b"'))
    with pytest.raises(RecipeError, match="folder"):
        load_recipe(path)


# -- extends ----------------------------------------------------------------------------------------------
def test_extends_resolves_against_the_recipe_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "recipes", SMALL.replace('name = "small"', 'name = "base"'), "base.toml")
    child = _write(tmp_path / "recipes", 'extends = "base.toml"\nname = "child"\n', "child.toml")
    monkeypatch.chdir(tmp_path)  # base.toml is not in the CWD
    recipe = load_recipe(child)
    assert recipe.seed == 3
    assert recipe.name == "child"


def test_extends_subfolder_is_allowed(tmp_path: Path) -> None:
    _write(tmp_path / "r" / "bases", SMALL, "base.toml")
    child = _write(tmp_path / "r", 'extends = "bases/base.toml"\nseed = 9\n', "child.toml")
    assert load_recipe(child).seed == 9


@pytest.mark.parametrize("target", ["../base.toml", "{abs}", "a/../../base.toml"])
def test_extends_outside_the_recipe_folder_is_refused(tmp_path: Path, target: str) -> None:
    base = _write(tmp_path, SMALL, "base.toml")
    value = target.format(abs=base)
    child = _write(tmp_path / "r" / "a", f'extends = "{value}"\n', "child.toml")
    with pytest.raises(RecipeError, match="extends"):
        load_recipe(child)


def test_extends_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, SMALL, "base.toml")
    (tmp_path / "r").mkdir()
    os.symlink(tmp_path / "base.toml", tmp_path / "r" / "link.toml")
    child = _write(tmp_path / "r", 'extends = "link.toml"\n', "child.toml")
    with pytest.raises(RecipeError, match="outside"):
        load_recipe(child)


def test_extends_cycle_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, SMALL + '\nextends = "b.toml"\n', "a.toml")
    _write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(RecipeError, match="cycle"):
        load_recipe(tmp_path / "a.toml")


def test_extends_chain_depth_is_limited(tmp_path: Path) -> None:
    _write(tmp_path, SMALL, "r0.toml")
    for k in range(1, MAX_EXTENDS_DEPTH + 2):
        _write(tmp_path, f'extends = "r{k - 1}.toml"\n', f"r{k}.toml")
    with pytest.raises(RecipeError, match="longer than"):
        load_recipe(tmp_path / f"r{MAX_EXTENDS_DEPTH + 1}.toml")


# -- schema ------------------------------------------------------------------------------------------------
CLASSES_0_1 = 'classes = [0, 1]\nlabel_file = "train.txt"'


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (None, "sede = 1", "sede"),
        ("seed = 3", 'seed = "x"', "seed"),
        ("seed = 3", "seed = -1", "seed"),
        ("seed = 3", "seed = true", "seed"),
        ('1 = "mimi"', '1 = "mimi"\n5000 = { codec = "mimi", set = "OOD" }', "5000"),
        ('1 = "mimi"', '1 = { codec = "mimi", colour = "red" }', "colour"),
        ('1 = "mimi"', '1 = "mi mi"', "codec"),
        ('readers = ["vctk", "aishell3"]', 'readers = ["vctk", "nope"]', "readers"),
        ("vctk = { train = 4,", "vctk = { train = -4,", "train"),
        ("vctk = { train = 4,", "vctk = { trian = 4,", "trian"),
        ('source = "main:train"', 'source = "main:bogus"', "source"),
        (CLASSES_0_1, 'classes = "0"\nlabel_file = "t.txt"', "classes"),
        (CLASSES_0_1, 'classes = [0, 0]\nlabel_file = "t.txt"', "classes"),
        ('label_file = "train.txt"', 'label_file = "train.txt"\nper_class = -3', "per_class"),
        ('label_file = "train.txt"', 'label_file = "train.txt"\ncolder = "x"', "colder"),
        ('label_file = "train.txt"', 'label_file = "eval_id.txt"', "eval_id.txt"),
        (None, "extends = 5", "extends"),
    ],
)
def test_load_recipe_schema_error_names_file_and_key(tmp_path: Path, old: str | None, new: str, key: str) -> None:
    text = f"{new}\n{SMALL}" if old is None else SMALL.replace(old, new, 1)
    path = _write(tmp_path, text)
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert str(path) in str(err.value)
    assert key in str(err.value)


def test_load_recipe_subsets_not_tables_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "subsets = [1, 2]\n" + SMALL.split("[[subsets]]")[0])
    with pytest.raises(RecipeError, match=r"\[\[subsets\]\] #1: expected a table"):
        load_recipe(path)


def test_dataset_doc_states_the_builtin_recipe_seed() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "dataset.md"
    row = next(line for line in docs.read_text(encoding="utf-8").splitlines() if line.startswith("| `--seed"))
    assert f"`seed = {load_recipe('st-codecfake').seed}`" in row


def test_builtin_recipe_seed_is_zero() -> None:  # already held: the built-in recipe never had another seed
    assert load_recipe("st-codecfake").seed == 0


# -- label files ------------------------------------------------------------------------------------------
def _labels(tmp_path: Path, text: str | bytes, name: str = "train.txt") -> Path:
    folder = tmp_path / "labels"
    folder.mkdir(exist_ok=True)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    (folder / name).write_bytes(data)
    return folder


def test_labels_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="not a folder"):
        plan_recipe(load_recipe(_write(tmp_path, SMALL)), _corpora(), labels_dir=tmp_path / "nope")


def test_labels_unknown_class_names_file_and_line(tmp_path: Path) -> None:
    labels = _labels(tmp_path, "p225_001.wav real 0\nmimi_p225_002.wav fake 9\n")
    with pytest.raises(CorpusLayoutError, match=r"train\.txt:2: class id 9 is not one of"):
        plan_recipe(load_recipe(_write(tmp_path, SMALL)), _corpora(), labels_dir=labels)


def test_labels_duplicate_line_names_file_and_line(tmp_path: Path) -> None:
    labels = _labels(tmp_path, "p225_001.wav real 0\np225_003.wav real 0\np225_001.wav real 0\n")
    with pytest.raises(CorpusLayoutError, match=r"train\.txt:3: .* listed again \(first on line 1\)"):
        plan_recipe(load_recipe(_write(tmp_path, SMALL)), _corpora(), labels_dir=labels)


@pytest.mark.parametrize("name", ["../../p225_001.wav", "/etc/p225_001.wav", "a\u0007b.wav"])
def test_labels_path_like_file_names_are_refused_with_the_line(tmp_path: Path, name: str) -> None:
    labels = _labels(tmp_path, f"p225_003.wav real 0\n{name} real 0\n")
    with pytest.raises(CorpusLayoutError, match=r"train\.txt:2"):
        plan_recipe(load_recipe(_write(tmp_path, SMALL)), _corpora(), labels_dir=labels)


def test_labels_bad_encoding_names_the_file(tmp_path: Path) -> None:  # already held (ncst.io.read_text)
    labels = _labels(tmp_path, b"p225_001.wav real 0\n\xff\xfe bad 0\n")
    with pytest.raises(CorpusLayoutError, match=r"train\.txt:2: not UTF-8"):
        plan_recipe(load_recipe(_write(tmp_path, SMALL)), _corpora(), labels_dir=labels)


def test_utterance_id_in_two_corpus_parts_is_an_error(tmp_path: Path) -> None:
    corpora = _corpora()
    twin = Utterance("SSB00050001", Path("/c/aishell3/test/SSB00050001.wav"), corpus="aishell3")
    corpora["aishell3"].append(twin)
    with pytest.raises(CorpusLayoutError, match="SSB00050001.*two files"):
        plan_recipe(load_recipe(_write(tmp_path, SMALL)), corpora)


# -- --add-codec --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "=OOD",
        "mimi=XD",
        "mimi=ID=OOD",
        "mimi=",
        " =ID",
        "mi mi=OOD",
        "mimi=x:OOD",
        "mimi=0:OOD",
        "mimi=:OOD",
        "mimi=99999999:OOD",
        "mimi=12:XD",
        "mimi=-1:OOD",
        "mimi=１２:OOD",
    ],
)
def test_parse_add_codec_malformed_is_a_recipe_error(text: str) -> None:
    from ncst.cli.build_recipe import parse_add_codec

    with pytest.raises(RecipeError, match="--add-codec"):
        parse_add_codec(text)


def test_parse_add_codec_bare_spec_is_ood() -> None:  # already held
    from ncst.cli.build_recipe import parse_add_codec

    assert parse_add_codec("mimi@8q") == AddedCodec("mimi@8q", "OOD", None)


def test_parse_add_codec_reads_an_explicit_class_id() -> None:
    from ncst.cli.build_recipe import parse_add_codec

    assert parse_add_codec("wavtokenizer:small40=13:ood") == AddedCodec("wavtokenizer:small40", "OOD", 13)


def test_resolve_recipe_unknown_added_codec_is_an_error() -> None:
    with pytest.raises(RecipeError, match="--add-codec 'nosuchcodec'"):
        resolve_recipe("st-codecfake", [("nosuchcodec", "OOD")])


def test_codec_card_prefix_that_leaves_the_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from ncst.codecs import registry
    from ncst.codecs.real import VARIANTS as REAL_VARIANTS
    from ncst.codecs.real import RealCodec

    class EvilPrefix(RealCodec):  # a plug-in codec's card is as much input as a recipe
        VARIANTS = {"16k": replace(REAL_VARIANTS["16k"], name="evilprefix", file_prefix="../../evil")}
        DEFAULT_VARIANT = "16k"

    monkeypatch.setitem(registry._REGISTERED, "evilprefix", EvilPrefix)  # registered for this test only
    path = _write(tmp_path, SMALL.replace('1 = "mimi"', '1 = "evilprefix"'))
    with pytest.raises(RecipeError, match=r"codec evilprefix .*prefix: '\.\./\.\./evil'"):
        plan_recipe(load_recipe(path), _corpora())


def test_plan_rechecks_a_prefix_set_in_python(tmp_path: Path) -> None:
    from dataclasses import replace

    recipe = load_recipe(_write(tmp_path, SMALL))
    crafted = replace(recipe, subsets=(replace(recipe.subsets[0], prefix="../up"), *recipe.subsets[1:]))
    with pytest.raises(RecipeError, match=r"prefix: '\.\./up'"):
        plan_recipe(crafted, _corpora())
