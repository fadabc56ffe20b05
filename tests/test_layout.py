"""The one label-file parser and the naming rules of a dataset root."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.errors import CorpusLayoutError, NcstError
from ncst.layout import LabelLine, format_label_line, iter_label_lines, label_file_name, read_label_file


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "train.txt"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_read_label_file_reads_lines_in_order(tmp_path: Path) -> None:
    path = _write(tmp_path, "p225_001.wav real 0\n\nmimi_p225_001.wav fake 1\n")
    expected = [LabelLine("p225_001.wav", "real", 0, 1), LabelLine("mimi_p225_001.wav", "fake", 1, 3)]
    assert read_label_file(path) == expected


@pytest.mark.parametrize("kind", ["bonafide", "bona-fide", "genuine"])
def test_read_label_file_accepts_real_synonyms(kind: str, tmp_path: Path) -> None:
    assert read_label_file(_write(tmp_path, f"a.wav {kind} 0\n"))[0].is_real


def test_read_label_file_spoof_is_fake(tmp_path: Path) -> None:
    assert not read_label_file(_write(tmp_path, "a.wav spoof 7\n"))[0].is_real


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a.wav fake", "expected"),
        ("a.wav fake 1 extra", "expected"),
        ("a.wav maybe 1", "column 2"),
        ("a.wav fake one", "not an integer"),
        ("a.wav fake 1.0", "not an integer"),
        ("a.wav fake ١", "not an integer"),
        ("a.wav fake 20000000000", "outside"),
        ("a.wav fake 9999999999999", "not an integer"),
        ("a.wav fake 2000000", "outside"),
        ("../a.wav fake 1", "column 1.*starting with '.'"),
        ("/etc/a.wav fake 1", "column 1.*'/'"),
        ("C:/a.wav fake 1", "column 1.*':'"),
        ("x\\a.wav fake 1", "column 1.*'\\\\\\\\'"),
        ("sub/a.wav fake 1", "column 1.*'/'"),
        (".hidden.wav fake 1", "column 1.*starting with '.'"),
        (("a" * 201) + ".wav fake 1", "column 1.*longer"),
    ],
)
def test_read_label_file_refuses_a_bad_line_naming_file_and_line(line: str, message: str, tmp_path: Path) -> None:
    path = _write(tmp_path, f"ok.wav fake 1\n{line}\n")
    with pytest.raises(CorpusLayoutError, match=f"train.txt:2: .*{message}"):
        read_label_file(path)


def test_read_label_file_refuses_a_file_listed_twice(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="train.txt:3: 'a.wav' is listed again \\(first on line 1\\)"):
        read_label_file(_write(tmp_path, "a.wav fake 1\nb.wav fake 1\na.wav fake 1\n"))


def test_read_label_file_checks_class_ids_when_given(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="class id 9 is not one of"):
        read_label_file(_write(tmp_path, "a.wav fake 9\n"), class_ids=range(7))


def test_read_label_file_names_bad_utf8(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="train.txt"):
        read_label_file(_write(tmp_path, b"a.wav fake 1\n\xff.wav fake 1\n"))


def test_read_label_file_raises_the_callers_error(tmp_path: Path) -> None:
    class MyError(NcstError):
        pass

    with pytest.raises(MyError):
        read_label_file(_write(tmp_path, "a.wav\n"), error=MyError)


def test_read_label_file_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="label file not found"):
        read_label_file(tmp_path / "none.txt")


def test_label_file_name_joins_folders_with_dashes() -> None:
    assert label_file_name("ID_diff_config/C3-1/") == "ID_diff_config-C3-1.txt"


def test_format_label_line_round_trips(tmp_path: Path) -> None:
    path = _write(tmp_path, format_label_line("a.wav", 0) + format_label_line("mimi_a.wav", 1))
    parsed = [(x.file, x.kind, x.class_id) for x in read_label_file(path)]
    assert parsed == [("a.wav", "real", 0), ("mimi_a.wav", "fake", 1)]


def test_iter_label_lines_reports_every_bad_line_and_keeps_the_good_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a.wav fake 1\n\xff.wav fake 1\nb.wav fake\nc.wav real 0\na.wav fake 1\n")
    kinds = [(n, type(item).__name__) for n, item in iter_label_lines(path)]
    assert kinds == [(1, "LabelLine"), (2, "str"), (3, "str"), (4, "LabelLine"), (5, "str")]


def test_iter_label_lines_names_the_bad_byte(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a.wav fake 1\n\xff.wav fake 1\n")
    assert dict(iter_label_lines(path))[2] == "not UTF-8 text (byte 0xff at column 1)"
