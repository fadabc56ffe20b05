"""Seeded mutation sweep: crafted Zenodo records served on loopback against `download_st_codecfake`.

Each trial mutates an honest record (wrong types, missing keys, hostile keys and links, sizes and md5s that
lie, transfers cut short or padded, bodies that are not JSON, archives with hostile members) and checks the
two promises of the downloads: only ncst's own errors escape, and nothing outside the target folder changes.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import random
import stat
import tarfile
import zipfile
from pathlib import Path

from ncst.corpora.fakes import FakeZenodo
from ncst.errors import NcstError
from ncst.recipes.download import download_st_codecfake

_ESCAPE = "/tmp/ncst-sweep-escape.txt"
_TRIALS = 200


def _zip(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "../../victim.txt")
    return buf.getvalue()


def _tar_with_link() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        link = tarfile.TarInfo("st-codecfake/train/link.wav")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../victim.txt"
        tf.addfile(link)
    return buf.getvalue()


_DATA = {
    "st-codecfake/label/train.txt": b"a.wav real 0\nb.wav fake 1\n",
    "st-codecfake/train/a.wav": b"RIFF" + bytes(300),
    "st-codecfake/train/b.wav": b"RIFF" + bytes(200),
}
_GOOD = {"st.zip": _zip(_DATA), "README.md": b"# ST-Codecfake (fake)\n"}
_HOSTILE_ARCHIVES = {
    "evil.zip": _zip({"../victim.txt": b"pwned"}),
    "evil2.zip": _zip({"st-codecfake\\..\\..\\victim.txt": b"pwned"}),
    "evil3.zip": _zip({_ESCAPE: b"pwned"}),
    "evil4.zip": _zip({"ok.txt": b"x"}, symlink="st-codecfake/train/c.wav"),
    "evil5.tar": _tar_with_link(),
    "bomb.zip": _zip({"zeros.bin": bytes(4 << 20)}),
}
_BAD_VALUES: list[object] = [None, 5, -3, "str", [], {}, True, 1.5, "md5:" + "z" * 32, 2**70]
_BAD_KEYS = ["../victim.txt", _ESCAPE, "a/b.zip", "..\\victim.txt", "x\x00.zip", "", ".", "..", "st.zip.part", "C:x"]


def _bad_links(url: str) -> list[str]:
    return ["file:///etc/hostname", "ftp://127.0.0.1/x", "http://127.0.0.1:1/x", f"{url}/files/../../etc/hostname",
            "javascript:alert(1)", "http://[::1", "//127.0.0.1/x", f"{url}/files/missing"]  # fmt: skip


def _mutate(rng: random.Random, srv: FakeZenodo) -> None:
    """Sets up one crafted record on `srv` (files, record body, misbehaviour)."""
    srv.files = dict(_GOOD)
    if rng.random() < 0.4:
        name = rng.choice(sorted(_HOSTILE_ARCHIVES))
        srv.files[name] = _HOSTILE_ARCHIVES[name]
    if rng.random() < 0.1:  # a flipped byte in the archive, with an md5 that matches it
        data = bytearray(srv.files["st.zip"])
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        srv.files["st.zip"] = bytes(data)
    srv.misbehave = {}
    srv.record = None
    entries = srv.entries()
    for _ in range(rng.choice([0, 1, 1, 2, 3])):  # 0: only the archives are crafted
        entry = rng.choice(entries)
        what = rng.randrange(9)
        if what == 0:
            entry.pop(rng.choice(["key", "size", "checksum", "links"]), None)
        elif what == 1:
            entry[rng.choice(["key", "size", "checksum", "links"])] = copy.deepcopy(rng.choice(_BAD_VALUES))
        elif what == 2:
            entry["key"] = rng.choice(_BAD_KEYS)
        elif what == 3:
            entry["links"] = {"self": rng.choice(_bad_links(srv.url))}
        elif what == 4 and isinstance(size := entry.get("size"), int):
            entry["size"] = max(0, size + rng.choice([-50, -1, 1, 50, 10**6]))
        elif what == 5:
            entry["checksum"] = "md5:" + hashlib.md5(rng.randbytes(8)).hexdigest()
        elif what == 6 and isinstance(key := entry.get("key"), str):
            srv.misbehave[key] = rng.choice(["truncate", "extra", "no-length", "ignore-range"])
        elif what == 7:
            entries.append(copy.deepcopy(entry))  # listed twice
        else:
            srv.record = rng.choice([b"", b"{", b"\xff\xfe", b"[]", b'{"files": null}', b"[" * 100_000,
                                     json.dumps({"files": entries})[:-5].encode()])  # fmt: skip
    if srv.record is None:
        srv.record = json.dumps({"files": entries}).encode()


def _snapshot(folder: Path, skip: Path) -> dict[str, bytes | None]:
    return {
        str(p): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(folder.rglob("*"))
        if skip not in p.parents and p != skip
    }


def test_crafted_records_raise_only_ncst_errors_and_write_only_inside_the_target(tmp_path: Path) -> None:
    rng = random.Random(20261204)
    (tmp_path / "victim.txt").write_bytes(b"untouched")
    Path(_ESCAPE).unlink(missing_ok=True)
    outcomes: dict[str, int] = {}
    with FakeZenodo() as srv:
        for trial in range(_TRIALS):
            _mutate(rng, srv)
            out = tmp_path / f"t{trial}" / "out"
            out.parent.mkdir()
            before = _snapshot(tmp_path, out)
            try:
                download_st_codecfake(out, api_url=srv.url, keep_archives=rng.random() < 0.5)
                outcome = "ok"
            except NcstError as err:  # anything else fails the test with its traceback
                outcome = type(err).__name__
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            assert _snapshot(tmp_path, out) == before, f"trial {trial} changed files outside {out}"
            assert not Path(_ESCAPE).exists(), f"trial {trial} wrote {_ESCAPE}"
    assert (tmp_path / "victim.txt").read_bytes() == b"untouched"
    assert outcomes.get("ok", 0) > 10, outcomes  # honest transfers of the right bytes still succeed
    assert sum(n for k, n in outcomes.items() if k != "ok") > _TRIALS // 2, outcomes  # most mutations are refused
