"""`ncst download st-codecfake` against a fake Zenodo record served on loopback (never the network)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich import filesize
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.corpora.download import DownloadError, download_file
from ncst.errors import ChecksumError
from ncst.recipes.download import ZENODO_RECORDS, download_st_codecfake


class _Server:
    """Serves `/api/records/<id>` and `/files/<key>` with HTTP Range support; records the Range headers."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.md5_override: dict[str, str] = {}
        self.ranges: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/api/records/"):
                    base = f"http://127.0.0.1:{outer.port}"
                    body = json.dumps({"files": [
                        {"key": k, "size": len(v),
                         "checksum": "md5:" + outer.md5_override.get(k, hashlib.md5(v).hexdigest()),
                         "links": {"self": f"{base}/files/{k}"}}
                        for k, v in outer.files.items()
                    ]}).encode()  # fmt: skip
                    self._send(200, body)
                    return
                key = self.path.rsplit("/", 1)[-1]
                data = outer.files.get(key)
                if data is None:
                    self._send(404, b"")
                    return
                header = self.headers.get("Range")
                outer.ranges.append(header)
                if header:
                    start = int(header.split("=")[1].split("-")[0])
                    self._send(206, data[start:], {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
                else:
                    self._send(200, data)

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    yield srv
    srv.httpd.shutdown()


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


def test_download_checks_md5_joins_parts_and_lays_out_the_root(server: _Server, tmp_path: Path) -> None:
    server.files = _fake_main_part()
    out = tmp_path / "st"
    result = download_st_codecfake(out, part="main", api_url=server.url)
    assert result.label_counts == {"train.txt": 3} and result.extracted == 4
    assert sorted(p.name for p in (out / "train").iterdir()) == ["p225_000.wav", "p225_001.wav", "p225_002.wav"]
    assert (out / "label" / "train.txt").is_file() and not list(out.glob(".staging*"))
    server.ranges.clear()
    download_st_codecfake(out, part="main", api_url=server.url)  # rerun: md5 matches, nothing fetched again
    assert server.ranges == []


def test_split_zip_record_is_read_in_place(server: _Server, tmp_path: Path) -> None:
    """A record shipped as `x.z01 ... x.zip` (how the authors' earlier dataset was split) extracts fully."""
    from ncst.corpora.fakes import write_split_zip

    single = _fake_main_part(n=5)
    data = single["st-codecfake.zip.001"] + single["st-codecfake.zip.002"]
    parts = write_split_zip(data, tmp_path / "segments", "st-codecfake", segment_bytes=700)
    assert len(parts) >= 3
    server.files = {p.name: p.read_bytes() for p in parts}
    out = tmp_path / "st"
    result = download_st_codecfake(out, part="main", api_url=server.url)
    assert result.label_counts == {"train.txt": 5} and result.extracted == 6
    assert len(list((out / "train").iterdir())) == 5
    assert not list((out / "downloads").glob("*joined*"))  # read in place: no second copy on disk


def test_interrupted_file_resumes_with_a_range_request(server: _Server, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    server.files = {"big.bin": data}
    dest = tmp_path / "big.bin"
    (tmp_path / "big.bin.part").write_bytes(data[:3000])
    download_file(f"{server.url}/files/big.bin", dest, md5=hashlib.md5(data).hexdigest(), size=len(data))
    assert dest.read_bytes() == data and server.ranges == ["bytes=3000-"]


def test_md5_mismatch_is_refused_and_the_part_deleted(server: _Server, tmp_path: Path) -> None:
    server.files = _fake_main_part()
    server.md5_override["st-codecfake.zip.002"] = "0" * 32
    with pytest.raises(ChecksumError, match="md5"):
        download_st_codecfake(tmp_path / "st", api_url=server.url)
    assert not (tmp_path / "st" / "downloads" / "st-codecfake.zip.002.part").exists()


def test_partial_extraction_against_label_files_fails(server: _Server, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # the label file lists 3 files, the archive holds 1
        zf.writestr("label/train.txt", "a.wav real 0\nb.wav real 0\nc.wav real 0\n")
        zf.writestr("train/a.wav", b"x" * 10)
    server.files = {"main.zip": buf.getvalue()}
    with pytest.raises(ChecksumError, match="lists 3 files but 2 are not"):
        download_st_codecfake(tmp_path / "st", api_url=server.url)


def test_corrupt_zip_member_fails(server: _Server, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("train/a.wav", b"A" * 1000)
    data = bytearray(buf.getvalue())
    data[100] ^= 0xFF  # inside the stored member: CRC mismatch
    server.files = {"main.zip": bytes(data)}
    with pytest.raises(ChecksumError, match="CRC"):
        download_st_codecfake(tmp_path / "st", api_url=server.url)


def test_cli_download_draws_a_bar_per_file_and_per_archive(server: _Server, tmp_path: Path) -> None:
    server.files = _fake_main_part()
    result = CliRunner().invoke(app, ["download", "st-codecfake", "--out", str(tmp_path / "st"), "--api-url",
                                      server.url])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for key, data in server.files.items():  # bytes per download, with the record's size as total
        size = filesize.decimal(len(data))
        assert f"{key} " in text and f"{size}/{size}" in text
    assert "extract st-codecfake.zip" in text and "4/4 files" in text
    assert "2 files downloaded, 4 extracted" in text


def test_offline_message_and_exit_code(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="cannot reach .* rerun"):
        download_st_codecfake(tmp_path, api_url="http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["download", "st-codecfake", "--out", str(tmp_path), "--api-url",
                                      "http://127.0.0.1:9"])  # fmt: skip
    assert result.exit_code == 2 and "cannot reach" in result.output
    assert set(ZENODO_RECORDS.values()) == {"14631091", "14631085"}


def test_corpus_download_extracts_and_finds_the_root(server: _Server, tmp_path: Path) -> None:
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
    assert root.name == "VCTK-Corpus-0.92" and (root / "speaker-info.txt").is_file()
    server.ranges.clear()
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
