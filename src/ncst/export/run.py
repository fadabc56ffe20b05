"""`export_dataset()`: read a build folder or dataset root, check the output folder, write one format."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ncst.export.entries import ExportSource, read_export_source
from ncst.export.paths import ExportError, check_out_dir
from ncst.io import PathLike

__all__ = ["EXPORT_FORMATS", "ExportResult", "export_dataset"]

log = logging.getLogger(__name__)

#: Formats `ncst export --format` accepts.
EXPORT_FORMATS = ("lhotse", "hf-audiofolder", "parquet")


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        out_dir: The output folder (resolved).
        format: One of `EXPORT_FORMATS`.
        source: The source as read (layout, entries, label lines whose file is missing).
        written: Manifest, metadata or table files written (audio links and copies not listed).
    """

    out_dir: Path
    format: str
    source: ExportSource
    written: tuple[Path, ...]


def export_dataset(
    src_dir: PathLike, out_dir: PathLike, fmt: str, *, force: bool = False, copy_audio: bool = False
) -> ExportResult:
    """Exports every labelled file of `src_dir` to `out_dir` in format `fmt`.

    Args:
        src_dir: A `build-dataset` output folder or a dataset root (recipe build or official download).
        out_dir: Output folder; created; must be empty unless `force`.
        fmt: `lhotse`, `hf-audiofolder` or `parquet`.
        force: Write into a non-empty `out_dir` (replacing the files this export writes, keeping the rest).
        copy_audio: `hf-audiofolder` only: copy the audio instead of linking to it.

    Raises:
        ExportError: Unknown format, `copy_audio` with another format, or a refused output folder.
        CorpusLayoutError: The source is unusable (the message names the file and line).
        MissingDependencyError: The format's library is not installed (lhotse).
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if copy_audio and fmt != "hf-audiofolder":
        raise ExportError(f"--copy-audio applies to hf-audiofolder only; the {fmt} export always points at the source")
    if fmt == "lhotse":  # fail before reading a large source when the library is missing
        from ncst.export.to_lhotse import import_lhotse

        import_lhotse()
    source = read_export_source(src_dir)
    out = check_out_dir(source.root, source.audio_dirs, Path(out_dir), force=force)
    if not source.entries:
        log.warning("%s: no labelled file is on disk; writing an empty export", source.root)
    if fmt == "lhotse":
        from ncst.export.to_lhotse import write_lhotse

        written = write_lhotse(source.entries, out)
    elif fmt == "parquet":
        from ncst.export.to_parquet import write_parquet

        written = write_parquet(source.entries, out)
    else:
        from ncst.export.to_audiofolder import write_audiofolder

        written = write_audiofolder(source.entries, out, copy_audio=copy_audio)
    return ExportResult(out_dir=out, format=fmt, source=source, written=tuple(written))
