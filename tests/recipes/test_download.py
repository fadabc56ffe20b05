"""`ncst download st-codecfake` against a fake Zenodo record served on loopback (never the network)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich import filesize
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.corpora.download import DownloadError, download_file
from ncst.corpora.fakes import FakeZenodo
from ncst.errors import ChecksumError
from ncst.recipes.download import ZENODO_RECORDS, download_st_codecfake


def _file_ranges(server: FakeZenodo) -> list[str | None]:
    """The Range header of every file request so far (record requests left out)."""
    return [header for path, header in server.requests if path.startswith("/files/")]


@pytest.fixture
def server() -> Iterator[FakeZenodo]:
    with FakeZenodo() as srv:
        yield srv


def _fake_main_part(n: int = 3) -> dict[str, bytes]:
    """A zip with label/train.txt and train/*.wav, split into two byte parts (x.zip.001, x.zip.002)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("st-codecfake/label/train.txt", "".join(f"p225_00{i}.wav real 0\n" for i in range(n)))
        for i in range(n):
            zf.writestr(f"st-codecfake/train/p225_00{i}.wav", b"RIFF" + bytes([i]) * 400)
    data = buf.getvalue()
    half = len(data) // 2
    return {"st-codecfake.zip.001": data[:half], "st-codecfake.zip.002": data[half:]}


def test_download_checks_md5_joins_parts_and_lays_out_the_root(server: FakeZenodo, tmp_path: Path) -> None:
    server.files = _fake_main_part()
    out = tmp_path / "st"
    result = download_st_codecfake(out, part="main", api_url=server.url)
    assert result.label_counts == {"train.txt": 3}
    assert result.extracted == 4
    assert sorted(p.name for p in (out / "train").iterdir()) == ["p225_000.wav", "p225_001.wav", "p225_002.wav"]
    assert (out / "label" / "train.txt").is_file()
    assert not list(out.glob(".staging*"))
    server.requests.clear()
    download_st_codecfake(out, part="main", api_url=server.url)  # rerun: md5 matches, nothing fetched again
    assert _file_ranges(server) == []


def test_split_zip_record_is_read_in_place(server: FakeZenodo, tmp_path: Path) -> None:
    """A record shipped as `x.z01 ... x.zip` (how the authors' earlier dataset was split) extracts fully."""
    from ncst.corpora.fakes import write_split_zip

    single = _fake_main_part(n=5)
    data = single["st-codecfake.zip.001"] + single["st-codecfake.zip.002"]
    parts = write_split_zip(data, tmp_path / "segments", "st-codecfake", segment_bytes=700)
    assert len(parts) >= 3
    server.files = {p.name: p.read_bytes() for p in parts}
    out = tmp_path / "st"
    result = download_st_codecfake(out, part="main", api_url=server.url)
    assert result.label_counts == {"train.txt": 5}
    assert result.extracted == 6
    assert len(list((out / "train").iterdir())) == 5
    assert not list((out / "downloads").glob("*joined*"))  # read in place: no second copy on disk


def test_interrupted_file_resumes_with_a_range_request(server: FakeZenodo, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    server.files = {"big.bin": data}
    dest = tmp_path / "big.bin"
    (tmp_path / "big.bin.part").write_bytes(data[:3000])
    download_file(f"{server.url}/files/big.bin", dest, md5=hashlib.md5(data).hexdigest(), size=len(data))
    assert dest.read_bytes() == data
    assert _file_ranges(server) == ["bytes=3000-"]


def test_md5_mismatch_is_refused_and_the_part_deleted(server: FakeZenodo, tmp_path: Path) -> None:
    server.files = _fake_main_part()
    entries = server.entries()
    for entry in entries:
        if entry["key"] == "st-codecfake.zip.002":
            entry["checksum"] = "md5:" + "0" * 32
    server.record = json.dumps({"id": 1, "files": entries}).encode()
    with pytest.raises(ChecksumError, match="md5"):
        download_st_codecfake(tmp_path / "st", api_url=server.url)
    assert not (tmp_path / "st" / "downloads" / "st-codecfake.zip.002.part").exists()


def test_partial_extraction_against_label_files_fails(server: FakeZenodo, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # the label file lists 3 files, the archive holds 1
        zf.writestr("label/train.txt", "a.wav real 0\nb.wav real 0\nc.wav real 0\n")
        zf.writestr("train/a.wav", b"x" * 10)
    server.files = {"main.zip": buf.getvalue()}
    with pytest.raises(ChecksumError, match="lists 3 files but 2 are not"):
        download_st_codecfake(tmp_path / "st", api_url=server.url)


def test_corrupt_zip_member_fails(server: FakeZenodo, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("train/a.wav", b"A" * 1000)
    data = bytearray(buf.getvalue())
    data[100] ^= 0xFF  # inside the stored member: CRC mismatch
    server.files = {"main.zip": bytes(data)}
    with pytest.raises(ChecksumError, match="CRC"):
        download_st_codecfake(tmp_path / "st", api_url=server.url)


def test_cli_download_draws_a_bar_per_file_and_per_archive(server: FakeZenodo, tmp_path: Path) -> None:
    server.files = _fake_main_part()
    result = CliRunner().invoke(app, ["download", "st-codecfake", "--out", str(tmp_path / "st"), "--api-url",
                                      server.url])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for key, data in server.files.items():  # bytes per download, with the record's size as total
        size = filesize.decimal(len(data))
        assert f"{key} " in text
        assert f"{size}/{size}" in text
    assert "extract st-codecfake.zip" in text
    assert "4/4 files" in text
    assert "2 files downloaded, 4 extracted" in text


def test_offline_message_and_exit_code(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="cannot reach .* rerun"):
        download_st_codecfake(tmp_path, api_url="http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["download", "st-codecfake", "--out", str(tmp_path), "--api-url",
                                      "http://127.0.0.1:9"])  # fmt: skip
    assert result.exit_code == 2
    assert "cannot reach" in result.output
    assert set(ZENODO_RECORDS.values()) == {"14631091", "14631085"}


def test_corpus_download_extracts_and_finds_the_root(server: FakeZenodo, tmp_path: Path) -> None:
    from ncst.corpora.fakes import write_vctk_092
    from ncst.corpora.vctk import download_vctk

    src = write_vctk_092(tmp_path / "src", {"p225": 1})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(src.parent).as_posix())
    server.files = {"VCTK-Corpus-0.92.zip": buf.getvalue()}
    root = download_vctk(tmp_path / "vctk", url=f"{server.url}/files/VCTK-Corpus-0.92.zip")
    assert root.name == "VCTK-Corpus-0.92"
    assert (root / "speaker-info.txt").is_file()
    server.requests.clear()
    assert download_vctk(tmp_path / "vctk", url="http://127.0.0.1:9/none.zip") == root  # .completed: no request


def test_tar_archive_extracts_and_refuses_escaping_members(tmp_path: Path) -> None:
    import tarfile

    from ncst.corpora.download import extract_archive
    from ncst.errors import NcstError

    good = tmp_path / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tf:
        data = b"x" * 64
        info = tarfile.TarInfo("data_aishell3/train/content.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert [p.name for p in extract_archive(good, tmp_path / "out")] == ["content.txt"]
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tf:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(NcstError, match="escape.txt.* refusing"):
        extract_archive(bad, tmp_path / "out2")
    assert not (tmp_path / "escape.txt").exists()


# --- Hardening II: crafted records, roots and label files ------------------------------------------------
from ncst.errors import CorpusLayoutError, NcstError  # noqa: E402
from ncst.paths import UnsafeNameError  # noqa: E402
from ncst.recipes.download import RecordError, parse_record  # noqa: E402

_GOOD = {"key": "a.zip", "size": 10, "checksum": "md5:" + "0" * 32, "links": {"self": "https://h/a.zip"}}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([], r"record 9: expected a JSON object, got list"),
        ({"files": "a.zip"}, r"record 9: 'files' must be a list of files, got str"),
        ({"files": [5]}, r"record 9, files\[0\]: expected an object, got int"),
        ({"files": [{**_GOOD, "key": 7}]}, r"files\[0\]: key 7: expected a file name"),
        ({"files": [{**_GOOD, "key": "../x.zip"}]}, r"files\[0\]: key '\.\./x\.zip' has a '\.\.' component"),
        ({"files": [{**_GOOD, "key": "a/b.zip"}]}, r"key 'a/b\.zip' is not a plain file name"),
        ({"files": [{**_GOOD, "size": "10"}]}, r"key 'a\.zip': 'size' must be a whole number .* got str '10'"),
        ({"files": [{**_GOOD, "size": -1}]}, r"key 'a\.zip': 'size' .* got int -1"),
        ({"files": [{**_GOOD, "size": True}]}, r"'size' .* got bool True"),
        ({"files": [{k: v for k, v in _GOOD.items() if k != "checksum"}]}, r"'checksum' must be 'md5:'.*NoneType"),
        ({"files": [{**_GOOD, "checksum": "md5:xyz"}]}, r"key 'a\.zip': 'checksum' .* got str 'md5:xyz'"),
        ({"files": [{**_GOOD, "links": {"self": "file:///etc/passwd"}}]}, r"key 'a\.zip' link 'file:///etc/passwd'"),
        ({"files": [{**_GOOD, "links": ["x"]}]}, r"'links' must be an object"),
        ({"files": [_GOOD, {**_GOOD, "key": "A.zip"}]}, r"key 'A\.zip': listed twice"),
        ({"files": [{**_GOOD, "key": "a.zip.part"}]}, r"ncst's own partial files"),
    ],
)
def test_parse_record_names_record_key_and_value(payload: object, expected: str) -> None:
    with pytest.raises((RecordError, UnsafeNameError), match=expected):
        parse_record(payload, "9")


def test_record_that_is_not_json_or_too_large_is_one_error(tmp_path: Path) -> None:
    from ncst.corpora.download import Limits
    from ncst.recipes.download import fetch_record

    with FakeZenodo() as srv:
        srv.record = b"\xff\xfe{"
        with pytest.raises(RecordError, match="record 14631091 is not JSON"):
            fetch_record("14631091", api_url=srv.url)
        srv.record = b" " * 2000 + b"{}"
        with pytest.raises(RecordError, match="larger than 1000 bytes"):
            fetch_record("14631091", api_url=srv.url, limits=Limits(max_record_bytes=1000))


def _labelled_zip(
    listed: int, present: int, *, top: str = "st-codecfake", extra: dict[str, bytes] | None = None
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{top}/label/train.txt", "".join(f"f{i}.wav real 0\n" for i in range(listed)))
        for i in range(present):
            zf.writestr(f"{top}/train/f{i}.wav", b"RIFF" + bytes([i]))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_readme_beside_the_archive_keeps_the_label_check(tmp_path: Path) -> None:
    with FakeZenodo() as srv:
        srv.files = {"README.md": b"# the dataset\n", "st.zip": _labelled_zip(listed=3, present=1)}
        with pytest.raises(ChecksumError, match="lists 3 files but 2 are not"):
            download_st_codecfake(tmp_path / "st", api_url=srv.url)


def test_extra_top_level_file_inside_the_archive_keeps_the_label_check(tmp_path: Path) -> None:
    with FakeZenodo() as srv:
        srv.files = {"st.zip": _labelled_zip(listed=3, present=1, extra={"README.txt": b"hi"})}
        with pytest.raises(ChecksumError, match="lists 3 files but 2 are not"):
            download_st_codecfake(tmp_path / "st", api_url=srv.url)


def test_readme_record_lands_in_the_same_root_as_the_data(tmp_path: Path) -> None:
    with FakeZenodo() as srv:
        srv.files = {"README.md": b"# the dataset\n", "st.zip": _labelled_zip(listed=2, present=2)}
        result = download_st_codecfake(tmp_path / "st", api_url=srv.url)
    assert result.label_counts == {"train.txt": 2}
    assert sorted(p.name for p in (tmp_path / "st").iterdir()) == [".ncst-download-main.json", "README.md",
                                                                  "downloads", "label", "train"]  # fmt: skip


def test_labels_in_one_place_and_data_in_another_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("label/train.txt", "")
        zf.writestr("other/train/f0.wav", b"RIFF")
    with FakeZenodo() as srv:
        srv.files = {"st.zip": buf.getvalue()}
        with pytest.raises(ChecksumError, match="dataset folders at 2 places"):
            download_st_codecfake(tmp_path / "st", api_url=srv.url)


def test_main_part_without_label_files_is_not_trusted(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("st-codecfake/train/f0.wav", b"RIFF")
    with FakeZenodo() as srv:
        srv.files = {"st.zip": buf.getvalue()}
        with pytest.raises(ChecksumError, match="cannot be checked"):
            download_st_codecfake(tmp_path / "st", api_url=srv.url)


def test_label_file_with_bad_encoding_names_file_and_line(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("label/train.txt", b"f0.wav real 0\nf\xff1.wav real 0\n")
        zf.writestr("train/f0.wav", b"RIFF")
    with FakeZenodo() as srv:
        srv.files = {"st.zip": buf.getvalue()}
        with pytest.raises(CorpusLayoutError, match=r"train\.txt:2: not UTF-8"):
            download_st_codecfake(tmp_path / "st", api_url=srv.url)


def test_label_line_leaving_its_folder_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("label/train.txt", "../label/train.txt real 0\n")
        zf.writestr("train/f0.wav", b"RIFF")
    with FakeZenodo() as srv:
        srv.files = {"st.zip": buf.getvalue()}
        with pytest.raises(CorpusLayoutError, match=r"train\.txt:1: column 1"):
            download_st_codecfake(tmp_path / "st", api_url=srv.url)


def test_rerun_of_a_finished_part_is_a_no_op(tmp_path: Path) -> None:
    with FakeZenodo() as srv:
        srv.files = {"st.zip": _labelled_zip(listed=2, present=2)}
        download_st_codecfake(tmp_path / "st", api_url=srv.url)
        inode = (tmp_path / "st" / "train" / "f0.wav").stat().st_ino
        srv.requests.clear()
        again = download_st_codecfake(tmp_path / "st", api_url=srv.url)
    assert srv.requests == []  # not even the record
    assert again.already_done
    assert (tmp_path / "st" / "train" / "f0.wav").stat().st_ino == inode


def test_archive_file_where_my_folder_is_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "st"
    (out / "train").mkdir(parents=True)
    (out / "train" / "mine.wav").write_bytes(b"mine")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("label/train.txt", "")
        zf.writestr("train", b"a file named like my folder")
    with FakeZenodo() as srv:
        srv.files = {"st.zip": buf.getvalue()}
        with pytest.raises(NcstError, match="train"):
            download_st_codecfake(out, api_url=srv.url)
    assert (out / "train" / "mine.wav").read_bytes() == b"mine"


def test_remove_archives_deletes_only_the_record_files(tmp_path: Path) -> None:
    out = tmp_path / "st"
    (out / "downloads").mkdir(parents=True)
    (out / "downloads" / "mine.txt").write_bytes(b"mine")
    with FakeZenodo() as srv:
        srv.files = _fake_main_part()
        download_st_codecfake(out, api_url=srv.url, keep_archives=False)
    assert sorted(p.name for p in (out / "downloads").iterdir()) == ["mine.txt"]


def test_byte_parts_beside_a_file_of_the_joined_name_are_refused(tmp_path: Path) -> None:
    with FakeZenodo() as srv:
        srv.files = {**_fake_main_part(), "st-codecfake.zip": b"another archive"}
        with pytest.raises(RecordError, match="besides a file of that name"):
            download_st_codecfake(tmp_path / "st", api_url=srv.url)


def test_cli_refuses_a_file_link_in_one_line(tmp_path: Path) -> None:
    with FakeZenodo() as srv:
        srv.record = json.dumps({"files": [{**_GOOD, "links": {"self": "file:///etc/passwd"}}]}).encode()
        result = CliRunner().invoke(app, ["download", "st-codecfake", "--out", str(tmp_path / "st"),
                                          "--api-url", srv.url])  # fmt: skip
    assert result.exit_code == 2
    assert result.output.count("error:") == 1
    assert "file:///etc/passwd" in result.output
