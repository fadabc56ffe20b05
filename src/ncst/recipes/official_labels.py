"""What a `--labels` folder says: the official label files of the selected sets, `eval_id.txt` (or its lines
rebuilt from an official `result_id.txt`), and the result files that name the shared NCSSD recordings.

Label files are parsed by `ncst.layout.read_label_file` (the one parser); result files (`<file> <predicted
id> <score>`) only lend their first column, each name checked as a plain file name.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ncst.classes import prefix_labels
from ncst.errors import CorpusLayoutError
from ncst.io import read_text
from ncst.layout import LabelLine, read_label_file
from ncst.paths import check_file_name, show
from ncst.recipes.recipe import Recipe, SubsetEntry

__all__ = [
    "NCSSD_RESULT_FILES",
    "check_label_lines",
    "eval_labels",
    "grouped_source_names",
    "read_labels",
    "result_names",
]

log = logging.getLogger(__name__)

#: Official result files (`<file> <pred> <score>`) of the sets made from the shared NCSSD recordings, each
#: name being an NCSSD id after an optional codec or ALM prefix (`mimi_R-ZH_0_0_d2289.wav`). Looked for in
#: `--labels` under these paths (the `alm` folder in either case) or directly in it.
NCSSD_RESULT_FILES = (
    "id_unseen_real/result_unseenreal_ncssd.txt",
    "id_diff_source/result_ncssd_mimi.txt",
    "id_diff_source/result_ncssd_snac.txt",
    "alm/moshi.txt",
    "alm/miniomni.txt",
)


def read_labels(recipe: Recipe, entries: Sequence[SubsetEntry], labels_dir: Path) -> dict[str, list[LabelLine]]:
    """The label files of `labels_dir` that the selected entries use, plus `eval_id.txt` (or its results).

    Raises:
        CorpusLayoutError: `labels_dir` is not a folder, or a label file holds a bad line, a file twice, or a
            class its subsets do not have (the message names the file and line).
    """
    if not labels_dir.is_dir():
        raise CorpusLayoutError(f"--labels {labels_dir}: not a folder; give the folder that holds train.txt, ...")
    classes: dict[str, set[int]] = {}
    for entry in recipe.subsets:
        classes.setdefault(entry.label_file, set()).update(entry.classes)
    labels: dict[str, list[LabelLine]] = {}
    for entry in entries:
        path = labels_dir / entry.label_file
        if entry.label_file not in labels and path.is_file():
            labels[entry.label_file] = read_label_file(path, class_ids=classes[entry.label_file])
    if "eval_id.txt" not in labels:
        derived = eval_labels(labels_dir)
        if derived:
            path = labels_dir / ("eval_id.txt" if (labels_dir / "eval_id.txt").is_file() else "result_id.txt")
            labels["eval_id.txt"] = check_label_lines(derived, path, classes.get("eval_id.txt", set(recipe.classes)))
    return labels


def eval_labels(labels_dir: Path) -> list[LabelLine]:
    """`eval_id.txt` of `labels_dir`, or its lines rebuilt from an official `result_id.txt`.

    The official repository ships no label files, but its `pretrained_model/<model>/result/result_id.txt`
    lists every eval_id file in label-file order (`<file> <predicted id> <score>`); the true class is the
    file-name prefix (`ncst.classes`), real files having none.
    """
    path = labels_dir / "eval_id.txt"
    if path.is_file():
        return read_label_file(path)
    results = labels_dir / "result_id.txt"
    if not results.is_file():
        return []
    prefixes = prefix_labels(official_only=True)
    lines = []
    for lineno, text in enumerate(read_text(results, error=CorpusLayoutError).splitlines(), 1):
        if not text.strip():
            continue
        name = check_file_name(text.split()[0], f"{results}:{lineno}", error=CorpusLayoutError)
        class_id = next((c for p, c in prefixes.items() if name.startswith(p)), 0)
        lines.append(LabelLine(name, "real" if class_id == 0 else "fake", class_id, lineno))
    log.info("eval_id split taken from %s (%d files)", results, len(lines))
    return lines


def check_label_lines(lines: list[LabelLine], path: Path, classes: set[int]) -> list[LabelLine]:
    """Returns `lines` after checking that each names a class of the subsets that use the label file.

    A line of another class would be dropped without a word (each class picks its own lines), so it is an
    error, as is a file listed twice.

    Raises:
        CorpusLayoutError: A class outside `classes`, or a file listed twice (the message names file and line).
    """
    first: dict[str, int] = {}
    for ln in lines:
        if ln.class_id not in classes:
            raise CorpusLayoutError(
                f"{path}:{ln.line}: class {ln.class_id} is not a class of the subsets this file feeds {sorted(classes)}"
            )
        if first.setdefault(ln.file, ln.line) != ln.line:
            raise CorpusLayoutError(
                f"{path}:{ln.line}: {show(ln.file)} is listed twice (first on line {first[ln.file]})"
            )
    return lines


def grouped_source_names(recipe: Recipe, source: str, labels_dir: Path) -> tuple[Path, list[str]] | None:
    """(file, file names in file order) of the first label or result file that lists `source`'s utterances."""
    for entry in recipe.subsets:
        path = labels_dir / entry.label_file
        if entry.source == source and path.is_file():
            return path, [ln.file for ln in read_label_file(path, class_ids=entry.classes)]
    if "ncssd" not in recipe.sources[source].readers:
        return None
    for rel in NCSSD_RESULT_FILES:
        folder, file = rel.split("/")
        for path in (labels_dir / rel, labels_dir / folder.upper() / file, labels_dir / file):
            if path.is_file():
                return path, result_names(path)
    return None


def result_names(results: Path) -> list[str]:
    """The file names (first column) of an official result file, each checked as a plain file name."""
    names = []
    for lineno, text in enumerate(read_text(results, error=CorpusLayoutError).splitlines(), 1):
        if text.strip():
            names.append(check_file_name(text.split()[0], f"{results}:{lineno}", error=CorpusLayoutError))
    return names
