"""Reading a dataset root in the official ST-Codecfake layout: sets, label files, fixed-length waveforms.

Layout (`docs/reference_system.md` §1): label-file sets ``label/{train,dev,eval_id,eval_ood7,eval_ood8-11}.txt``
(lines ``<file> <real|fake> <class id>``, the file relative to ``train/``, ``dev/``, ``eval_id/`` or
``eval_ood/``) and folder sets with one constant label (``ID_unseen_real/19LA``, ``ID_diff_config/C3-1``,
``OOD_voc/19LA_spoof``, ``ALM/moshi``, ...). ``ALM`` may be spelt in either letter case, and Mini-Omni's
files may sit in ``ALM/mini-omni/A1-A2/`` (where the official code reads them) or in ``ALM/mini-omni/``.
A folder set with a label file ``label/<folder with - for />.txt``, as ``ncst build-recipe`` and
``ncst ingest`` write it, is read from that file instead of a folder listing. Loading follows the
reference code (`docs/reference_system.md` §7): mono, 16 kHz, head crop or repeat pad to 64,600 samples, no other
processing. Resampling uses soxr HQ (the reference used librosa's default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from ncst.audio import read_audio, resample
from ncst.errors import AudioError, CorpusLayoutError
from ncst.io import PathLike
from ncst.layout import read_label_file
from ncst.models.base import N_SAMPLES, SAMPLE_RATE_HZ
from ncst.sets import (
    OFFICIAL_FOLDER_SETS,
    OFFICIAL_LABEL_SETS,
    OFFICIAL_SUBFOLDERS,
    corpus_files,
    discover_sets,
    find_set,
    resolve_folder,
)

__all__ = [
    "SetSource",
    "Item",
    "LABEL_FILE_SETS",
    "FOLDER_SETS",
    "OFFICIAL_SUBFOLDERS",
    "fix_length",
    "load_waveform",
    "check_audio",
    "MAX_CLASS_ID",
    "label_file_items",
    "list_sets",
    "read_set",
    "resolve_folder",
    "WaveformDataset",
]

log = logging.getLogger(__name__)

_AUDIO_SUFFIXES = (".wav", ".flac")
#: Largest class id a label file may give (the official ones use 0-11).
MAX_CLASS_ID = 1023

#: Label-file sets of the official layout: dump name -> (audio folder, label file). Other sets are found
#: by `ncst.sets.discover_sets` (recipe.json and every label file).
LABEL_FILE_SETS: dict[str, tuple[str, str]] = {n: (f, lf) for n, (f, lf, _) in OFFICIAL_LABEL_SETS.items()}

#: Folder sets of the official layout: dump name -> (audio folder, constant true label).
FOLDER_SETS: dict[str, tuple[str, int]] = {n: (f, lab) for n, (f, lab, _) in OFFICIAL_FOLDER_SETS.items()}


@dataclass(frozen=True, slots=True)
class Item:
    """One utterance of a set: its id (as written in dumps), audio path and true class id."""

    utt_id: str
    path: Path
    label: int
    origin: str = ""  # where the item was listed (``label/train.txt:3``), for error messages


@dataclass(frozen=True, slots=True)
class SetSource:
    """Where a set's audio and labels are, relative to the dataset root."""

    name: str
    audio_dir: str
    label_file: str | None = None
    label: int | None = None

    def to_dict(self) -> dict[str, object]:
        """Returns the source as a JSON-ready dict."""
        return {s: getattr(self, s) for s in self.__slots__}


def fix_length(wave: np.ndarray, n_samples: int = N_SAMPLES) -> np.ndarray:
    """Head crop to `n_samples`, or tile the whole waveform and cut (repeat padding); `[T]` -> `[n_samples]`."""
    if wave.shape[0] == 0:
        raise CorpusLayoutError("cannot pad an empty waveform")
    if wave.shape[0] >= n_samples:
        return wave[:n_samples]
    repeats = n_samples // wave.shape[0] + 1
    return np.tile(wave, repeats)[:n_samples]


def load_waveform(path: PathLike, n_samples: int = N_SAMPLES) -> np.ndarray:
    """Reads a file as mono float32 at 16 kHz and fixes its length: `[n_samples]`.

    Raises:
        AudioError: The file is missing, undecodable, empty or holds NaN/Inf; the message names it.
    """
    audio, rate_hz = read_audio(path)
    _check_samples(path, audio)
    return fix_length(resample(audio, rate_hz, SAMPLE_RATE_HZ), n_samples)


def _check_samples(path: PathLike, audio: np.ndarray) -> None:
    if audio.size == 0:
        raise AudioError(f"{path}: empty audio (0 samples)")
    finite = np.isfinite(audio)
    if not finite.all():
        raise AudioError(f"{path}: {int((~finite).sum())} NaN/Inf samples")


def check_audio(items: list[Item], *, progress: Callable[[int, int], None] | None = None) -> None:
    """Reads every item's audio once and checks it: present, decodable, not empty, no NaN/Inf.

    Training and inference call this before they start, so a bad file stops the run at once with its
    name, not after hours of training (or in a DataLoader worker).

    Raises:
        AudioError: The first bad file; the message names it (and the label line that lists it).
    """
    for done, item in enumerate(items, start=1):
        try:
            audio, _ = read_audio(item.path)
            _check_samples(item.path, audio)
        except AudioError as err:
            raise AudioError(f"{err} (listed at {item.origin})" if item.origin else str(err)) from err
        if progress:
            progress(done, len(items))


def label_file_items(path: PathLike, audio_dir: PathLike) -> list[Item]:
    """The items of a label file (`ncst.layout.read_label_file`), class ids in [0, MAX_CLASS_ID].

    Only columns 1 (file) and 3 (class id) matter here; the layout's parser has already refused names that
    would leave the audio folder.

    Raises:
        CorpusLayoutError: The file is missing or a line breaks the label-file rule (file and line named).
    """
    path, audio_dir = Path(path), Path(audio_dir)
    lines = read_label_file(path, class_ids=range(MAX_CLASS_ID + 1))
    return [Item(ln.file, audio_dir / ln.file, ln.class_id, f"{path}:{ln.line}") for ln in lines]


def _folder_items(folder: Path, label: int) -> list[Item]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in _AUDIO_SUFFIXES and p.is_file())
    return [Item(p.relative_to(folder).as_posix(), p, label, str(folder)) for p in files]


def list_sets(root: PathLike) -> list[SetSource]:
    """The sets present under a dataset root (`ncst.sets.discover_sets`): official names first, then the rest."""
    return [SetSource(s.name, s.audio_dir, label_file=s.label_file, label=s.label) for s in discover_sets(root)]


def read_set(root: PathLike, name: str) -> list[Item]:
    """The utterances of set `name` under `root` (label-file order, or sorted file names for folder sets).

    A folder where the ASVspoof 2019 LA or In-the-Wild download was dropped in (``ID_unseen_real/19LA``)
    gives only the files its own protocol marks bona fide (``OOD_voc/*_spoof``: spoof), see
    `ncst.sets.corpus_files`.

    Raises:
        CorpusLayoutError: The set is unknown, or its label file or folder is missing, or a corpus folder
            lacks its protocol file.
    """
    root = Path(root)
    info = find_set(root, name)
    if info.label_file is not None:
        return label_file_items(root / info.label_file, root / info.audio_dir)
    folder = root / info.audio_dir
    label = int(info.label if info.label is not None else 0)
    files = corpus_files(info, folder)
    if files is not None:
        return [Item(p.relative_to(folder).as_posix(), p, label, str(folder)) for p in files]
    return _folder_items(folder, label)


class WaveformDataset(Dataset):
    """Fixed-length waveforms of a list of items: `dataset[i] -> (wave [64600] float32, label, i)`."""

    def __init__(self, items: list[Item], n_samples: int = N_SAMPLES) -> None:
        self.items = list(items)
        self.n_samples = n_samples

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        item = self.items[index]
        wave = load_waveform(item.path, self.n_samples)
        return torch.from_numpy(np.ascontiguousarray(wave)), item.label, index
