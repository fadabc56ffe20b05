"""Inference: run a model over every set of a dataset root and write the dumps `run-protocol --dumps` reads.

For each set (the training bank included: the OOD detectors fit on it) one ``<dumps_dir>/<set>.npz`` with
utterance ids, logits `[N, 7]`, embeddings `[N, D]` and labels (`ncst.benchmark.dumps`). Eval mode,
no gradients, batch 24, file order of the label file (folder sets: sorted names), the same loading as
training. ``<dumps_dir>/dumps.json`` records which checkpoint (sha256) and dataset root made each dump, so
a rerun reuses the dumps already written and recomputes only missing or stale ones. A taxonomy checkpoint
(`ncst.models.taxonomy`) adds each axis head's logits and its taxonomy metadata to every dump.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ncst.audio import sha256_file
from ncst.benchmark.dumps import dump_path, save_dump
from ncst.errors import NcstError, WeightsError
from ncst.io import PathLike, read_json
from ncst.models.base import N_SAMPLES
from ncst.models.checkpoint import load_model
from ncst.models.data import Item, WaveformDataset, check_audio, list_sets, read_set
from ncst.models.validate import check_device
from ncst.sets import discover_sets

__all__ = ["predict", "write_dumps", "protocol_sets", "run_taxonomy_protocol"]

log = logging.getLogger(__name__)

#: Called with (set name, utterances done, utterances in the set).
InferProgress = Callable[[str, int, int], None]


def predict(
    model: nn.Module,
    items: list[Item],
    *,
    batch_size: int = 24,
    device: str | torch.device = "cpu",
    workers: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Returns `(logits [N, 7], embeddings [N, D])` of `items`, float32, in item order."""
    model.eval()
    dataset = WaveformDataset(items, int(getattr(model, "n_samples", N_SAMPLES)))
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers)
    logits, embeddings, done = [], [], 0
    with torch.no_grad():
        for wave, _, _ in loader:
            emb, out = model(wave.to(device))
            logits.append(out.float().cpu().numpy())
            embeddings.append(emb.float().cpu().numpy())
            done += wave.shape[0]
            if progress:
                progress(done, len(items))
    return np.concatenate(logits), np.concatenate(embeddings)


def protocol_sets(protocol_names: Iterable[str], data_dir: PathLike | None = None) -> list[str]:
    """Dump names the given protocols read (every alternative of an OOD condition), in first-use order.

    With `data_dir`, an open-set protocol also reads every OOD set the root holds beyond the paper's
    (`ncst.sets.discover_sets`: ``eval_ood12`` from ``label/eval_ood12.txt``), which it scores as
    extension conditions.
    """
    from ncst.protocols import load_protocol

    names: list[str] = []
    for name in protocol_names:
        proto = load_protocol(name)
        names += [s.dump for s in proto.sets]
        if proto.kind == "open_set":
            names += [proto.bank_dump, proto.id_dump]
            names += [d for cond in proto.conditions for option in cond.dumps for d in option]
            if data_dir is not None:
                names += [
                    s.name for s in discover_sets(data_dir)
                    if s.role == "ood" or any(c >= proto.ood_label_min for c in s.class_ids)
                ]  # fmt: skip
    return list(dict.fromkeys(names))


def _read_index(path: Path) -> dict[str, Any]:
    """The dumps index (which checkpoint and data root made each dump); a damaged one only costs a rerun."""
    if not path.is_file():
        return {}
    try:
        index = read_json(path)
    except NcstError as err:
        log.warning("%s; every dump will be written again", err)
        return {}
    return index if isinstance(index, dict) else {}


def write_dumps(
    checkpoint: PathLike,
    data_dir: PathLike,
    dumps_dir: PathLike,
    *,
    sets: Iterable[str] | None = None,
    model_name: str | None = None,
    batch_size: int = 24,
    device: str = "cpu",
    workers: int = 0,
    progress: InferProgress | None = None,
) -> dict[str, Path]:
    """Writes one dump per set of `data_dir` that exists (only those in `sets` when given).

    Dumps written earlier by the same checkpoint from the same root are reused.

    Before the model runs on any file, everything it reads is checked: the device, the checkpoint
    (`load_model`: layout, config, weights' keys and shapes, one forward pass), every label file (names
    inside their folders, class ids in range) and every audio file (`check_audio`).

    Returns:
        Set name -> dump path, for every set now dumped.

    Raises:
        NcstError: The root holds none of the requested sets, or one of those checks fails; the message
            names the file.
    """
    data_dir, dumps_dir = Path(data_dir), Path(dumps_dir)
    wanted = None if sets is None else set(sets)
    present = [s.name for s in list_sets(data_dir) if wanted is None or s.name in wanted]
    if not present:
        raise NcstError(f"{data_dir} holds none of the sets {sorted(wanted) if wanted else 'of the official layout'}")
    check_device(device)
    if not Path(checkpoint).is_file():
        raise WeightsError(f"checkpoint {str(checkpoint)!r} is not a file")
    ckpt_sha = sha256_file(checkpoint)
    index_path = dumps_dir / "dumps.json"
    index = _read_index(index_path)
    key = {"checkpoint_sha256": ckpt_sha, "data_dir": str(data_dir.resolve()), "model": model_name}
    written: dict[str, Path] = {}
    todo: dict[str, list[Item]] = {}
    for name in present:
        path = dump_path(dumps_dir, name)
        if path.is_file() and index.get(name) == key:
            log.info("Reusing %s", path)
            written[name] = path
            continue
        todo[name] = read_set(data_dir, name)
    if not todo:
        return written
    model, ckpt = load_model(checkpoint, model_name=model_name, device=device)
    taxonomy = _taxonomy_heads(ckpt, Path(checkpoint), model, device)
    for items in todo.values():  # every file is read once before the model runs on any
        check_audio(items)
    for name, items in todo.items():
        path = dump_path(dumps_dir, name)
        if not items:
            log.warning("Set %s in %s has no audio; skipped", name, data_dir)
            continue

        def _report(done: int, total: int, set_name: str = name) -> None:
            if progress:
                progress(set_name, done, total)

        logits, embeddings = predict(
            model, items, batch_size=batch_size, device=device, workers=workers, progress=_report
        )
        save_dump(
            path,
            utt_ids=[it.utt_id for it in items],
            logits=logits,
            embeddings=embeddings,
            labels=np.array([it.label for it in items], dtype=np.int64),
            **({} if taxonomy is None else _axis_arrays(taxonomy, embeddings, device)),
        )
        index[name] = key
        dumps_dir.mkdir(parents=True, exist_ok=True)
        index_path.write_text(json.dumps(index, indent=2, sort_keys=True))
        log.info("Wrote %s (%d utterances)", path, len(items))
        written[name] = path
    return {name: written[name] for name in present if name in written}


def _taxonomy_heads(ckpt: dict[str, Any], path: Path, model: nn.Module, device: str) -> Any:
    """The checked taxonomy heads and metadata of a taxonomy checkpoint, or None (class-only checkpoint)."""
    from ncst.models.taxonomy import embedding_width, load_taxonomy_heads

    if ckpt.get("task", "class") == "class":
        return None
    return load_taxonomy_heads(ckpt, path=path, embedding_dim=embedding_width(model, device), device=device)


def _axis_arrays(taxonomy: Any, embeddings: np.ndarray, device: str) -> dict[str, Any]:
    """`save_dump` keywords holding each axis head's logits on `embeddings` and the taxonomy metadata."""
    from ncst.models.taxonomy import head_logits

    heads, meta = taxonomy
    return {"axis_logits": head_logits(heads, embeddings, device), "taxonomy": json.dumps(meta, sort_keys=True)}


def run_taxonomy_protocol(
    checkpoint: PathLike,
    data_dir: PathLike,
    out_dir: PathLike,
    *,
    dumps_dir: PathLike | None = None,
    device: str = "cpu",
    plots: bool = False,
) -> Any:
    """Dumps a taxonomy checkpoint on every set of `data_dir` but train/dev, scores `taxonomy`, writes the report.

    What `run-protocol taxonomy --checkpoint CKPT --data ROOT` does, for callers without the CLI (the demo).

    Returns:
        The `ncst.benchmark.results.ProtocolResult`.
    """
    from ncst.benchmark.scoring import run_protocol
    from ncst.models.taxonomy import taxonomy_sets

    dumps = Path(dumps_dir) if dumps_dir is not None else Path(checkpoint).parent / "dumps"
    write_dumps(checkpoint, data_dir, dumps, sets=taxonomy_sets(data_dir), device=device)
    return run_protocol("taxonomy", out_dir, plots=plots, dumps_dir=dumps, data_dir=data_dir, n_bootstrap=0)
