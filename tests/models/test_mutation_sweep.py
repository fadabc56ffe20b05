"""Seeded mutation sweep over what `train` and `run-protocol --checkpoint` read: checkpoints and label files.

Each case mutates a tiny checkpoint written by ncst's own trainer (its structure: wrong types, missing or
extra keys, wrong shapes and dtypes, NaN, huge numbers, path-like keys; or its bytes: truncated, flipped)
or the training label file (wrong fields, huge or negative classes, path-like names, bad UTF-8), runs the
command's library call, and asserts that only NcstError subclasses escape and that nothing is written
outside the run's output folder. A run that passes every check stops at its first training step.
"""

from __future__ import annotations

import copy
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from tiny_data import Stepped, stop, tiny_config

from ncst.errors import NcstError
from ncst.models.infer import write_dumps
from ncst.models.train import train

SEED = int(os.environ.get("NCST_SWEEP_SEED", "1515"))
N_CHECKPOINT_CASES = int(os.environ.get("NCST_SWEEP_CASES", "150"))
N_LABEL_CASES = int(os.environ.get("NCST_SWEEP_LABEL_CASES", "60"))


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` outside `skip`, with size and mtime."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and skip not in p.parents
    }


_ODD_VALUES: list[Any] = [
    None, "x", "../../evil", "/etc/passwd", "", [], {}, [1, 2], {"a": 1}, -1, 0, 10**30, 400_000_000, 4e8,
    float("nan"), float("inf"), True, torch.zeros(0), torch.zeros(3, 3), torch.tensor(float("nan")),
    torch.zeros(2, dtype=torch.complex64), torch.ones(4, dtype=torch.int64), torch.zeros(1 << 10, dtype=torch.uint8),
]  # fmt: skip


def _nodes(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every dict value and list item (tensors are leaves)."""
    found = [path] if path else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _nodes(value, (*path, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            found += _nodes(value, (*path, i))
    return found


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        tree = tree[key]
    return tree


def _mutate_tree(ckpt: dict[str, Any], rng: random.Random) -> str:
    top = rng.choice(list(ckpt))  # every top-level key equally often, then any node below it
    path = rng.choice([(top,), *_nodes(ckpt[top], (top,))])
    parent, key = _parent(ckpt, path), path[-1]
    value = parent[key]
    op = rng.choice(["delete", "replace", "reshape", "nan", "dtype", "rename", "extra", "huge"])
    if op == "delete":
        if isinstance(parent, dict):
            del parent[key]
        else:
            parent.pop(key)
    elif op == "reshape" and isinstance(value, torch.Tensor):
        parent[key] = torch.zeros(tuple(rng.randint(0, 5) for _ in range(rng.randint(0, 3))), dtype=value.dtype)
    elif op == "nan" and isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel():
        parent[key] = value.clone().view(-1).index_fill_(0, torch.tensor([0]), float("nan")).view(value.shape)
    elif op == "dtype" and isinstance(value, torch.Tensor):
        parent[key] = value.to(rng.choice([torch.int64, torch.bool, torch.float16, torch.complex64]))
    elif op == "rename" and isinstance(parent, dict):
        parent[rng.choice(["../../evil.pt", "/etc/passwd", "a\x00b", "", 7])] = parent.pop(key)
    elif op == "extra" and isinstance(parent, dict):
        parent[rng.choice(["extra.weight", "../x", "format"])] = rng.choice(_ODD_VALUES)
    elif op == "huge":
        parent[key] = rng.choice([10**30, 400_000_000, 1 << 40, -(1 << 40), 1e308])
    else:
        parent[key] = copy.deepcopy(rng.choice(_ODD_VALUES))
    return f"{op} {'/'.join(map(str, path))}"


def _write_mutant(source: Path, dest: Path, rng: random.Random) -> str:
    if rng.random() < 0.2:  # byte-level damage
        data = bytearray(source.read_bytes())
        if rng.random() < 0.5:
            cut = rng.randrange(len(data))
            dest.write_bytes(bytes(data[:cut]))
            return f"truncate at {cut}"
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        dest.write_bytes(bytes(data))
        return "flip bytes"
    ckpt = torch.load(source, weights_only=True)
    what = _mutate_tree(ckpt, rng)
    torch.save(ckpt, dest)
    return what


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-step Mel-LCNN run on the tiny root (best.pt, last.pt) and its data."""
    from tiny_data import make_tiny_root

    base = tmp_path_factory.mktemp("sweep")
    make_tiny_root(base / "data")
    train(tiny_config(base / "data", base / "run"))
    return base


def _run(case: str, action: Any, root: Path, out: Path, escaped: list[str]) -> None:
    before = _snapshot(root, out)
    try:
        action()
    except (NcstError, Stepped):
        pass
    except Exception as err:  # noqa: BLE001 - the sweep reports every other type
        escaped.append(f"{case}: {type(err).__name__}: {err}"[:300])
    if _snapshot(root, out) != before:
        escaped.append(f"{case}: wrote outside {out}")


def test_checkpoint_mutations_raise_only_ncst_errors(trained: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    escaped: list[str] = []
    for i in range(N_CHECKPOINT_CASES):
        out = tmp_path / f"case{i}"
        out.mkdir()
        if i % 2:  # resume from a mutated last.pt and run one step of epoch 2
            what = _write_mutant(trained / "run" / "last.pt", out / "last.pt", rng)
            action = lambda out=out: train(tiny_config(trained / "data", out, epochs=2), on_step=stop)  # noqa: E731
        else:  # run-protocol --checkpoint: load a mutated best.pt and dump the dev set
            what = _write_mutant(trained / "run" / "best.pt", out / "best.pt", rng)
            action = lambda out=out: write_dumps(out / "best.pt", trained / "data", out / "dumps", sets=["dev"])  # noqa: E731
        _run(f"case {i} ({what})", action, tmp_path.parent, out, escaped)
    assert escaped == [], "\n".join(escaped)


_LABEL_FIELDS = [
    "../../x.wav", "/etc/passwd", "C:\\x.wav", "a\x00b.wav", "..", ".", "sub/../../x.wav", "-1", "7", "12",
    "99999999999999999999", "1e9", "nan", "٣", "", "real", "fake fake", "c0_train_0.wav",
]  # fmt: skip


def _mutate_labels(text: str, rng: random.Random) -> bytes:
    lines = text.splitlines()
    op = rng.choice(["field", "field", "drop", "dup", "bytes", "empty", "extra"])
    i = rng.randrange(len(lines))
    if op == "field":
        fields = lines[i].split(" ")
        fields[rng.randrange(len(fields))] = rng.choice(_LABEL_FIELDS)
        lines[i] = " ".join(fields)
    elif op == "drop":
        lines[i] = " ".join(lines[i].split(" ")[:-1])
    elif op == "dup":
        lines.insert(i, lines[i])
    elif op == "empty":
        lines = []
    elif op == "extra":
        lines.insert(i, f"{rng.choice(_LABEL_FIELDS)} fake {rng.choice(_LABEL_FIELDS)}")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if op == "bytes":
        at = rng.randrange(len(data))
        data = data[:at] + bytes([rng.choice([0x80, 0xFF, 0xC3, 0x00])]) + data[at:]
    return data


def test_label_file_mutations_raise_only_ncst_errors(trained: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    root = tmp_path / "data"
    shutil.copytree(trained / "data", root)
    label = root / "label" / "train.txt"
    original = label.read_text()
    escaped: list[str] = []
    for i in range(N_LABEL_CASES):
        label.write_bytes(_mutate_labels(original, rng))
        out = tmp_path / f"case{i}"
        _run(f"case {i} ({label.read_bytes()[:80]!r})", lambda out=out: train(tiny_config(root, out), on_step=stop),
             tmp_path.parent, out, escaped)  # fmt: skip
        label.write_text(original)
    assert escaped == [], "\n".join(escaped)
