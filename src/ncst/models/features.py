"""On-disk cache of frozen front-end features (W2V2-AASIST's XLS-R layer 5), so an epoch does not rerun XLS-R.

One cache per set: ``<cache_dir>/<set>.npy`` (a float32 or float16 `[N, T, H]` memory map), ``<set>.done.npy``
(which rows are filled, so an interrupted fill resumes) and ``<set>.json`` (what the features depend on:
model, front end, layer, normalisation, input length, the list of files, the array's shape). A cache whose
description differs, or whose files do not have the described shape and dtype, is rebuilt; the number of
rows is the number of files listed, and a row's size comes from the model (bounded by its checked config),
never from a number in the cache. Only models whose features do not depend on the batch are cached (W2V2-AASIST with
per-utterance normalisation); with the reference's batch-global normalisation the front end runs every step.
The full 70,000-utterance training set takes 57.6 GB as float32 (201 x 1024 per utterance), 28.8 GB as float16.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ncst.errors import NcstError
from ncst.io import read_json
from ncst.models.base import N_SAMPLES
from ncst.models.data import Item, WaveformDataset

__all__ = ["FeatureDataset", "cached_features"]

log = logging.getLogger(__name__)


def _describe(model: nn.Module, items: list[Item], n_samples: int, dtype: str) -> dict[str, Any]:
    files = hashlib.sha256("\n".join(f"{it.path}\t{it.label}" for it in items).encode()).hexdigest()
    get_config = getattr(model, "config", None)
    config = get_config() if callable(get_config) else {}
    keys = ("frontend", "layer", "normalization", "frontend_seed")
    return {
        "model": str(getattr(model, "name", type(model).__name__)),
        "frontend": {k: config.get(k) for k in keys},
        "n_samples": n_samples,
        "n_items": len(items),
        "files_sha256": files,
        "dtype": dtype,
    }


def _read_meta(path: Path) -> Any:
    """The cache's description, or None when it cannot be read (the cache is then rebuilt)."""
    try:
        return read_json(path)
    except NcstError:
        return None


#: Most elements one cached feature row may have (XLS-R 300M: 201 x 1024 = 205,824 per 64,600 samples).
MAX_ROW_ELEMENTS = 1 << 26


def _check_cache_size(shape: tuple[int, ...], set_name: str) -> None:
    row = int(np.prod(shape[1:], dtype=np.int64))
    if any(d <= 0 for d in shape[1:]) or row > MAX_ROW_ELEMENTS:
        raise NcstError(f"feature cache of {set_name}: rows of shape {shape[1:]} are out of range (model config?)")


def _cache_fits(data_path: Path, done_path: Path, meta: dict[str, Any]) -> bool:
    """Whether the cache files are what the description says: the shape, dtype and row count, read from
    their headers only (a crafted or damaged cache is rebuilt, never trusted to size anything)."""
    shape = meta.get("shape")
    if not (data_path.is_file() and done_path.is_file() and isinstance(shape, list) and shape):
        return False
    try:
        data = np.load(data_path, mmap_mode="r")
        done = np.load(done_path, mmap_mode="r")
    except (OSError, ValueError, EOFError):
        return False
    ok = list(data.shape) == shape and str(data.dtype) == meta["dtype"] and shape[0] == meta["n_items"]
    return bool(ok and done.shape == (meta["n_items"],) and done.dtype == np.bool_)


def cached_features(
    model: nn.Module,
    items: list[Item],
    cache_dir: Path,
    set_name: str,
    *,
    batch_size: int = 24,
    device: str | torch.device = "cpu",
    workers: int = 0,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
) -> np.memmap:
    """Returns the `[N, T, H]` front-end features of `items`, computing the missing rows first."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    data_path, done_path, meta_path = (cache_dir / f"{set_name}{s}" for s in (".npy", ".done.npy", ".json"))
    dataset = WaveformDataset(items, int(getattr(model, "n_samples", N_SAMPLES)))
    meta = _describe(model, items, dataset.n_samples, dtype)
    saved = _read_meta(meta_path) if meta_path.is_file() else None
    if isinstance(saved, dict):
        meta["shape"] = saved.get("shape")  # the one field not known before the first batch
    fresh = not (saved == meta and _cache_fits(data_path, done_path, meta))
    if fresh:
        with torch.no_grad():
            probe = model.extract_features(dataset[0][0].unsqueeze(0).to(device))  # type: ignore[operator]
        shape = (len(items), *probe.shape[1:])
        _check_cache_size(shape, set_name)
        np.lib.format.open_memmap(data_path, mode="w+", dtype=dtype, shape=shape).flush()
        np.save(done_path, np.zeros(len(items), dtype=bool))
        meta_path.write_text(json.dumps({**meta, "shape": list(shape)}, indent=2))
        log.info("Caching front-end features of %s: %s %s in %s", set_name, shape, dtype, data_path)
    done = np.array(np.load(done_path), dtype=bool)
    todo = np.flatnonzero(~done)
    if len(todo):
        feats = np.load(data_path, mmap_mode="r+")
        loader = DataLoader(torch.utils.data.Subset(dataset, todo.tolist()), batch_size=batch_size, num_workers=workers)
        with torch.no_grad():
            for wave, _, index in loader:
                out = model.extract_features(wave.to(device))  # type: ignore[operator]
                idx = index.numpy()
                feats[idx] = out.cpu().numpy().astype(dtype)
                done[idx] = True
                feats.flush()
                np.save(done_path, done)
                if progress:
                    progress(int(done.sum()), len(done))
        del feats
    return np.load(data_path, mmap_mode="r")


class FeatureDataset(Dataset):
    """Rows of a feature cache: `dataset[i] -> (features [T, H] float32, label, i)`."""

    def __init__(self, features: np.ndarray, items: list[Item]) -> None:
        self.features = features
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        row = np.array(self.features[index], dtype=np.float32)
        return torch.from_numpy(row), self.items[index].label, index
