"""Extracting a split zip in place (`SpannedZipView`) against extracting the joined single-file archive.

The same archive (`--members` files of `--member-mb` MB of random bytes, stored, so the test measures
I/O and CRC work, not inflate) is written once as one zip and once as a split archive of `--segment-mb`
segments. Each is then extracted with `ncst.corpora.download.extract_archive` (CRC check of every member,
extraction, size check), alternating, `--repeats` times; medians are compared. The joined archive is the
alternative a user has without ncst: `zip -s 0` first (a full extra copy on disk), then extract.
``ratio=<split time / joined time>``: about 1.0 means reading in place costs nothing over a joined copy
(and saves the copy's disk space and the time to write it).

A third job extracts the joined archive the two-pass way `extract_archive` used before (`testzip` over
every member, then `extractall`); the last line printed is ``ratio_two_pass=<two-pass time / one-pass
time>``, what checking CRCs while writing saves.

Run: ``python benchmarks/spanned_zip.py [--members 8] [--member-mb 32] [--segment-mb 64] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from ncst.corpora.download import extract_archive
from ncst.corpora.fakes import write_split_zip


def _build(folder: Path, members: int, member_mb: int, segment_mb: int) -> tuple[Path, Path]:
    single = folder / "single" / "arc.zip"
    single.parent.mkdir(parents=True)
    with zipfile.ZipFile(single, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(members):
            zf.writestr(f"data/file{i:03d}.bin", os.urandom(member_mb << 20))
    parts = write_split_zip(single.read_bytes(), folder / "split", "arc", segment_bytes=segment_mb << 20)
    return single, parts[-1]


def _extract(archive: Path, dest: Path) -> float:
    if dest.exists():
        shutil.rmtree(dest)
    start = time.perf_counter()
    extract_archive(archive, dest)
    return time.perf_counter() - start


def _extract_two_pass(archive: Path, dest: Path) -> float:
    if dest.exists():
        shutil.rmtree(dest)
    start = time.perf_counter()
    with zipfile.ZipFile(archive) as zf:
        if zf.testzip() is not None:
            raise SystemExit(f"{archive}: CRC error")
        zf.extractall(dest)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--member-mb", type=int, default=32)
    parser.add_argument("--segment-mb", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ncst-bench-zip-") as tmp:
        folder = Path(tmp)
        single, split = _build(folder, args.members, args.member_mb, args.segment_mb)
        n_segments = len(list(split.parent.iterdir()))
        size_mb = single.stat().st_size / 2**20
        print(f"archive: {size_mb:.0f} MB, {args.members} members; split into {n_segments} segments")
        joined_s, split_s, two_pass_s = [], [], []
        for _ in range(args.repeats):
            joined_s.append(_extract(single, folder / "out"))
            split_s.append(_extract(split, folder / "out"))
            two_pass_s.append(_extract_two_pass(single, folder / "out"))
        joined, spanned, two_pass = (statistics.median(t) for t in (joined_s, split_s, two_pass_s))
        for label, median, runs in (
            ("joined zip: ", joined, joined_s),
            ("split, view:", spanned, split_s),
            ("two-pass:   ", two_pass, two_pass_s),
        ):
            print(f"{label} {median:.2f} s ({size_mb / median:.0f} MB/s), runs {[round(t, 2) for t in runs]}")
        print(f"ratio={spanned / joined:.3f}")
        print(f"ratio_two_pass={two_pass / joined:.3f}")


if __name__ == "__main__":
    main()
