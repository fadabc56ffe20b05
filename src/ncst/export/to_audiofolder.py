"""A Hugging Face `audiofolder`: one folder per set with a `metadata.jsonl` and the audio beside it.

The `datasets` audiofolder builder links each audio file to its metadata through the `file_name` column,
read as a path relative to the folder of the `metadata.jsonl`, and refuses names that leave that folder
(absolute paths, `..`). The audio therefore has to be found under the export: by default each file is a
symbolic link to the source audio (absolute target, nothing copied, so the source must stay where it
is); with `copy_audio` the files are copied and the export stands alone.

Layout::

    OUT/README.md               YAML `configs`: one split per set, so `load_dataset(OUT)` keeps every set
    OUT/<set>/metadata.jsonl    file_name, split, label, class_id, codec_spec, ... (one line per file)
    OUT/<set>/<file name>       link to (or copy of) the source file

A set folder is named after the set with `/` as `-` (`ID_diff_config-C3-1`), so no set folder holds
another (`ALM` and `ALM/moshi` would otherwise share files).

`load_dataset("audiofolder", data_dir=OUT/<set>)` loads one set; `load_dataset(OUT)` loads them all,
each as a split named after its set with non-word characters as `_` (`ID_diff_config_C3_1`).
`load_dataset("audiofolder", data_dir=OUT)` would guess splits from the folder names instead (merging
`eval_id` and `eval_ood` into `test`, dropping `ID_diff_config-C3-1`), so the docs point to the other two.

The metadata is JSON lines, not CSV: `datasets` 3.x reads a CSV through pandas, and under pandas 3 its
`file_name` column arrives as `large_string`, which the builder refuses. `datasets` itself is not needed
to write the export.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ncst.export.entries import ExportEntry
from ncst.export.paths import ExportError, check_set_names, hf_split_name, safe_target, set_file_name
from ncst.io import atomic_write_text

__all__ = ["write_audiofolder", "METADATA_COLUMNS", "METADATA_FILE"]

log = logging.getLogger(__name__)

_METADATA_NAMES = ("metadata.csv", "metadata.jsonl", "metadata.parquet")

METADATA_FILE = "metadata.jsonl"

#: Keys of every `metadata.jsonl` line, in order. No value is ever null (an empty string stands for
#: unknown text), so every line and every set has the same column types.
METADATA_COLUMNS = [
    "file_name", "split", "label", "class_id", "codec_spec", "utt_id", "speaker", "corpus", "language",
    "sample_rate_hz", "num_samples", "duration_s", "source_file",
]  # fmt: skip


def write_audiofolder(entries: Sequence[ExportEntry], out: Path, *, copy_audio: bool = False) -> list[Path]:
    """Writes the audiofolder layout (see the module docstring) into `out`; returns the metadata files and README.

    Raises:
        ExportError: Two sets map to the same split name, or a target would leave `out`.
    """
    by_set: dict[str, list[ExportEntry]] = {}
    for entry in entries:
        by_set.setdefault(entry.split, []).append(entry)
    check_set_names(list(by_set))
    names = {hf_split_name(split): split for split in by_set}
    written: list[Path] = []
    for split, group in by_set.items():
        lines: list[str] = []
        for e in group:
            name = Path(e.file).name
            if name in _METADATA_NAMES:
                raise ExportError(f"{e.file}: an audio file named {name} would replace the set's metadata file")
            _place_audio(e.path, safe_target(out, f"{set_file_name(split)}/{name}"), copy_audio)
            row = {
                "file_name": name, "split": split, "label": e.label, "class_id": e.class_id,
                "codec_spec": e.codec_spec or "", "utt_id": e.utt_id or "", "speaker": e.speaker or "",
                "corpus": e.corpus or "", "language": e.language or "", "sample_rate_hz": e.sample_rate_hz,
                "num_samples": e.num_samples, "duration_s": float(round(e.duration_s, 6)), "source_file": e.file,
            }  # fmt: skip
            lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        target = safe_target(out, f"{set_file_name(split)}/{METADATA_FILE}")
        written.append(atomic_write_text(target, "".join(lines)))
        log.info("audiofolder: %s: %d files (%s)", split, len(group), "copied" if copy_audio else "linked")
    written.append(atomic_write_text(safe_target(out, "README.md"), _readme(names)))
    return written


def _place_audio(source: Path, target: Path, copy_audio: bool) -> None:
    """Links (absolute target) or copies `source` to `target`, replacing what `safe_target` left there."""
    if target.exists():
        target.unlink()
    if copy_audio:
        shutil.copyfile(source, target)
    else:
        os.symlink(source, target)


def _readme(names: dict[str, str]) -> str:
    """A dataset card whose YAML `configs` give one split per set folder (read by `load_dataset(OUT)`)."""
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for name, split in names.items():
        lines += [f"  - split: {name}", f'    path: "{_glob_escape(set_file_name(split))}/*"']
    lines += [
        "---",
        "",
        "# ncst export (Hugging Face audiofolder)",
        "",
        "One folder per set, each with a `metadata.jsonl` (`file_name` relative to it) and its audio.",
        'Load every set with `datasets.load_dataset("<this folder>")`, or one set with',
        '`datasets.load_dataset("audiofolder", data_dir="<this folder>/<set>")`.',
        "",
    ]
    return "\n".join(lines)


def _glob_escape(folder: str) -> str:
    """A folder name as a literal glob inside a YAML double-quoted string."""
    escaped = "".join(f"[{c}]" if c in "*?[]" else c for c in folder)
    return escaped.replace("\\", "\\\\").replace('"', '\\"')
