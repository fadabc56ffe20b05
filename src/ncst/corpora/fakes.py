"""Tiny fake corpora in the real on-disk layouts of VCTK 0.92/0.80, AISHELL-3, NCSSD, ASVspoof 2019 LA and
In-the-Wild, for tests and offline demos of the readers and recipes. Clips are short noisy sines at each
corpus's real rate; nothing is real speech. `write_split_zip` writes a zip as a split (`.zNN`) archive."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

DURATION_S = 0.25


def _clip(rate: int, seed: int, duration_s: float = DURATION_S) -> np.ndarray:
    n = int(rate * duration_s)
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    return (0.3 * np.sin(2 * np.pi * (150 + 20 * (seed % 17)) * t) + 0.02 * rng.standard_normal(n)).astype(np.float32)


def write_vctk_092(base: Path, speakers: dict[str, int] | None = None, *, top: str = "VCTK-Corpus-0.92") -> Path:
    """VCTK 0.92 under `base/top`: speaker-info.txt, txt/, wav48_silence_trimmed/ with mic1+mic2 FLAC at 48 kHz.

    p315 has no transcripts (as in the real corpus). Returns the corpus root.
    """
    speakers = speakers or {"p225": 4, "p315": 4}
    root = base / top if top else base
    root.mkdir(parents=True, exist_ok=True)
    rows = ["ID  AGE  GENDER  ACCENTS  REGION COMMENTS "]
    for i, (spk, n) in enumerate(sorted(speakers.items())):
        rows.append(f"{spk}  23  F    English    Southern  England")
        for k in range(1, n + 1):
            utt = f"{spk}_{k:03d}"
            for mic in ("mic1", "mic2"):
                path = root / "wav48_silence_trimmed" / spk / f"{utt}_{mic}.flac"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, _clip(48000, 100 * i + k), 48000, format="FLAC")
            if spk != "p315":
                txt = root / "txt" / spk / f"{utt}.txt"
                txt.parent.mkdir(parents=True, exist_ok=True)
                txt.write_text(f"Sentence {k} of {spk}.\n", encoding="utf-8")
    (root / "speaker-info.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def write_vctk_080(base: Path, speakers: dict[str, int] | None = None) -> Path:
    """VCTK 0.80 (`VCTK-Corpus/`): speaker-info.txt with ids without `p`, wav48/ WAV files."""
    speakers = speakers or {"p225": 2, "p226": 2}
    root = base / "VCTK-Corpus"
    rows = ["ID  AGE  GENDER  ACCENTS  REGION"]
    for i, (spk, n) in enumerate(sorted(speakers.items())):
        rows.append(f"{spk[1:]}  23  F    English    Southern  England")
        for k in range(1, n + 1):
            path = root / "wav48" / spk / f"{spk}_{k:03d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, _clip(48000, 50 * i + k), 48000, subtype="PCM_16")
    (root / "speaker-info.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def write_aishell3(base: Path, parts: dict[str, dict[str, int]] | None = None, *, rate: int = 44100) -> Path:
    """AISHELL-3 under `base/data_aishell3`: spk-info.txt, <part>/content.txt, <part>/wav/SSBxxxx/*.wav."""
    parts = parts or {"train": {"SSB0005": 3, "SSB0009": 2}, "test": {"SSB0011": 3}}
    root = base / "data_aishell3"
    root.mkdir(parents=True, exist_ok=True)
    info = ["# fake spk-info", "# speaker\tage\tgender\taccent"]
    for part, speakers in parts.items():
        content = []
        for i, (spk, n) in enumerate(sorted(speakers.items())):
            info.append(f"{spk}\tB\tfemale\tnorth")
            for k in range(1, n + 1):
                utt = f"{spk}{k:04d}"
                path = root / part / "wav" / spk / f"{utt}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, _clip(rate, 7 * i + k), rate, subtype="PCM_16")
                content.append(f"{utt}.wav\t广 guang3 州 zhou1")
        (root / part / "content.txt").write_text("\n".join(content) + "\n", encoding="utf-8")
    (root / "spk-info.txt").write_text("\n".join(info) + "\n", encoding="utf-8")
    return root


def write_ncssd(base: Path, per_subset: int = 3) -> Path:
    """NCSSD-like snapshot: <subset>/d<dialogue>/<turn>_<speaker>_d<dialogue>.wav (16 kHz) + .lab, R and C subsets."""
    root = base / "NCSSD"
    for j, subset in enumerate(("R-EN", "R-ZH", "C-EN")):
        for k in range(per_subset):
            dialogue = 100 + k
            turn, speaker = k, 0 if k % 2 == 0 else 3
            path = root / subset / f"d{dialogue}" / f"{turn}_{speaker}_d{dialogue}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, _clip(16000, 30 * j + k), 16000, subtype="PCM_16")
            path.with_suffix(".lab").write_text(f"turn {turn}\n", encoding="utf-8")
    return root


def write_asvspoof2019_la(base: Path) -> Path:
    """LA/ with an eval CM protocol (2 bona fide, 1 spoof) and their FLAC files."""
    root = base / "LA"
    rows = [("LA_0039", "LA_E_1000001", "-", "bonafide"), ("LA_0039", "LA_E_1000002", "A11", "spoof"),
            ("LA_0040", "LA_E_1000003", "-", "bonafide")]  # fmt: skip
    proto = root / "ASVspoof2019_LA_cm_protocols" / "ASVspoof2019.LA.cm.eval.trl.txt"
    proto.parent.mkdir(parents=True)
    proto.write_text("".join(f"{s} {u} - {sys} {k}\n" for s, u, sys, k in rows), encoding="utf-8")
    for i, (_, utt, _, _) in enumerate(rows):
        path = root / "ASVspoof2019_LA_eval" / "flac" / f"{utt}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, _clip(16000, i), 16000, format="FLAC")
    return root


def write_in_the_wild(base: Path) -> Path:
    """release_in_the_wild/ with meta.csv (a quoted speaker with a comma) and 3 clips."""
    root = base / "release_in_the_wild"
    root.mkdir(parents=True)
    (root / "meta.csv").write_text(
        'file,speaker,label\n0.wav,Alec Guinness,spoof\n1.wav,"Biden, Joe",bona-fide\n2.wav,Alec Guinness,bona-fide\n',
        encoding="utf-8",
    )
    for i in range(3):
        sf.write(root / f"{i}.wav", _clip(16000, i), 16000, subtype="FLOAT")
    return root


_CD_FIXED = "<4s6H3L5H2L"  # central file header (APPNOTE 4.3.12), 46 bytes
_EOCD = "<4s4H2LH"  # end of central directory record (4.3.16), 22 bytes


def write_split_zip(
    data: bytes,
    folder: Path,
    stem: str,
    *,
    segment_bytes: int | None = None,
    marker: bool = True,
    zip64_fields: bool = False,
    zip64_end: bool = False,
    hole_bytes: int = 0,
) -> list[Path]:
    """Writes the single-disk zip `data` as the split archive `stem.z01, ..., stem.zip` that `zip -s` makes.

    Written independently of `ncst.corpora.spanned_zip`, to test it on layouts `zip -s` cannot be asked
    for: no split marker, zip64 extra fields for every offset and disk, a zip64 end record, and a sparse
    hole that pushes later segments past 4 GiB.

    Args:
        data: An archive made by `zipfile` (no zip64 records of its own).
        segment_bytes: Cut the entries' bytes every this many bytes (None: one segment per entry).
        marker: Start the first segment with the split marker `PK\\x07\\x08`, as `zip -s` does.
        zip64_fields: Give every entry's disk and offset in a zip64 extra field (0xFFFF / 0xFFFFFFFF).
        zip64_end: Add a zip64 end record and locator, and saturate the plain end record.
        hole_bytes: Extend the first segment by a sparse hole (only with segment_bytes None, where the next
            entry starts its own segment, so no offset moves).

    Returns:
        The segment files, last (`stem.zip`) last.
    """
    eocd_at = data.rfind(b"PK\x05\x06")
    _, _, _, _, entries, _, cd_offset, comment_len = struct.unpack_from(_EOCD, data, eocd_at)
    comment = data[eocd_at + 22 : eocd_at + 22 + comment_len]
    records, position = [], cd_offset
    for _ in range(entries):
        fixed = list(struct.unpack_from(_CD_FIXED, data, position))
        size = 46 + fixed[10] + fixed[11] + fixed[12]
        records.append((fixed, data[position + 46 : position + size]))
        position += size
    prefix = b"PK\x07\x08" if marker else b""
    stream = prefix + data[:cd_offset]
    if segment_bytes is None:
        starts = sorted({len(prefix) + fixed[16] for fixed, _ in records}) + [len(stream)]
        cuts = [0] + starts[1:]
    else:
        cuts = list(range(0, len(stream), segment_bytes)) + [len(stream)]
    chunks = [stream[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    directory = bytearray()
    for fixed, variable in records:
        absolute = len(prefix) + fixed[16]
        disk = max(i for i, cut in enumerate(cuts[:-1]) if cut <= absolute)
        relative = absolute - cuts[disk]
        name_len, extra_len = fixed[10], fixed[11]
        name, extra = variable[:name_len], variable[name_len : name_len + extra_len]
        rest = variable[name_len + extra_len :]
        if zip64_fields:
            extra = struct.pack("<2HQL", 0x0001, 12, relative, disk) + extra
            fixed[13], fixed[16] = 0xFFFF, 0xFFFFFFFF
        else:
            fixed[13], fixed[16] = disk, relative
        fixed[11] = len(extra)
        directory += struct.pack(_CD_FIXED, *fixed) + name + extra + rest
    last_disk = len(chunks) - 1
    tail = bytearray(chunks[-1])
    cd_relative = len(tail)
    tail += directory
    if zip64_end:
        z64_relative = len(tail)
        tail += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, last_disk, last_disk, entries, entries,
                            len(directory), cd_relative)  # fmt: skip
        tail += struct.pack("<4sLQL", b"PK\x06\x07", last_disk, z64_relative, last_disk + 1)
        tail += struct.pack(_EOCD, b"PK\x05\x06", 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    else:
        tail += struct.pack(_EOCD, b"PK\x05\x06", last_disk, last_disk, entries, entries, len(directory),
                            cd_relative, len(comment))  # fmt: skip
    tail += comment
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, chunk in enumerate(chunks[:-1]):
        path = folder / f"{stem}.z{index + 1:02d}"
        path.write_bytes(chunk)
        if index == 0 and hole_bytes:
            os.truncate(path, len(chunk) + hole_bytes)
        paths.append(path)
    paths.append(folder / f"{stem}.zip")
    paths[-1].write_bytes(bytes(tail))
    return paths


class FakeZenodo:
    """A loopback HTTP server that plays Zenodo for tests: `/api/records/<id>` and `/files/<key>`.

    `files` maps keys to bytes; the record lists them with their size, md5 and `links.self`, unless
    `record` (raw bytes of the answer) is set. `misbehave[key]` makes one file's transfer go wrong:
    `"truncate"` (announces the full length, sends half, closes), `"extra"` (sends 500 bytes more than the
    file and announces them), `"no-length"` (no Content-Length, body until close), `"ignore-range"`
    (answers a Range request with the whole file). `requests` records `(path, Range header)`.
    Use as a context manager; it binds 127.0.0.1 only and never reaches the network.
    """

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.files: dict[str, bytes] = {}
        self.record: bytes | None = None
        self.misbehave: dict[str, str] = {}
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                header = self.headers.get("Range")
                outer.requests.append((self.path, header))
                if self.path.startswith("/api/records/"):
                    self._send(200, outer.record if outer.record is not None else outer.record_json())
                    return
                key = self.path.rsplit("/", 1)[-1]
                data = outer.files.get(key)
                if data is None:
                    self._send(404, b"")
                    return
                how = outer.misbehave.get(key, "")
                start = int(header.split("=")[1].split("-")[0]) if header and how != "ignore-range" else 0
                if start >= len(data) and header and how != "ignore-range":
                    self._send(416, b"")
                    return
                body = data[start:]
                headers = {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"} if header and start else {}
                code = 206 if headers else 200
                if how == "truncate":
                    self._send(code, body[: len(body) // 2], headers, length=len(body))
                elif how == "extra":
                    self._send(code, body + b"X" * 500, headers)
                elif how == "no-length":
                    self._send(code, body, headers, length=-1)
                else:
                    self._send(code, body, headers)

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None, length: int = 0) -> None:
                self.send_response(code)
                if length >= 0:
                    self.send_header("Content-Length", str(length or len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def entries(self) -> list[dict[str, object]]:
        """The record's `files` list for the current `files` (honest sizes and md5s)."""
        import hashlib

        return [
            {"key": k, "size": len(v), "checksum": "md5:" + hashlib.md5(v).hexdigest(),
             "links": {"self": f"{self.url}/files/{k}"}}
            for k, v in self.files.items()
        ]  # fmt: skip

    def record_json(self) -> bytes:
        import json

        return json.dumps({"id": 1, "files": self.entries()}).encode()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "FakeZenodo":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
