"""Tiny datasets in the official ST-Codecfake layout and a tiny W2V2 front end, for the model tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from ncst.models import SourceTracingModel
from ncst.models.train import TrainConfig

RATE = 16_000
#: A W2V2 front end small enough for CPU tests (2 layers so hidden_states[1] is a block output).
TINY_W2V2 = {
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "conv_dim": [8, 8],
    "conv_kernel": [10, 4],
    "conv_stride": [5, 4],
    "num_conv_pos_embeddings": 8,
    "num_conv_pos_embedding_groups": 2,
    "do_stable_layer_norm": True,
    "feat_extract_norm": "layer",
}


def _tone(label: int, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    wave = 0.3 * np.sin(2 * np.pi * 150 * (label + 1) * t + k) + 0.02 * rng.standard_normal(n)
    return wave.astype(np.float32)


def make_tiny_root(
    root: Path, *, per_class: int = 2, n_samples: int = 1200, classes: tuple[int, ...] = tuple(range(7))
) -> Path:
    """Writes train/dev/eval_id/eval_ood + label files and two folder sets; labels are tone frequencies."""
    rng = np.random.default_rng(0)
    (root / "label").mkdir(parents=True)
    splits = {
        "train": (classes, "train"),
        "dev": (classes, "dev"),
        "eval_id": (classes, "eval_id"),
        "eval_ood7": ((7,), "eval_ood"),
    }
    for split, (labels, folder) in splits.items():
        (root / folder).mkdir(exist_ok=True)
        lines = []
        for label in labels:
            for k in range(per_class):
                name = f"c{label}_{split}_{k}.wav"
                sf.write(root / folder / name, _tone(label, k, n_samples, rng), RATE)
                lines.append(f"{name} {'real' if label == 0 else 'fake'} {label}")
        (root / "label" / f"{split}.txt").write_text("\n".join(lines) + "\n")
    for folder, label in (("ID_unseen_real/19LA", 0), ("ID_diff_config/C3-1", 3)):
        (root / folder).mkdir(parents=True)
        for k in range(per_class):
            sf.write(root / folder / f"x{k}.wav", _tone(label, k, n_samples // 2, rng), RATE)
    return root


class ToyModel(SourceTracingModel):
    """A third-party model for the entry-point tests: mean-pooled frames through one linear layer."""

    name = "toy"
    embedding_dim = 8

    def __init__(self, n_samples: int = 1200, frame: int = 100, **extra: object) -> None:
        super().__init__(n_samples=n_samples, frame=frame, **extra)
        self.frame = frame
        self.proj = torch.nn.Linear(frame, 8)
        self.head = torch.nn.Linear(8, 7)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = wave[:, : wave.shape[1] // self.frame * self.frame].reshape(wave.shape[0], -1, self.frame)
        embedding = torch.tanh(self.proj(frames.abs())).mean(dim=1)
        return embedding, self.head(embedding)


class NeedyModel(ToyModel):
    """An entry-point model whose constructor needs an argument."""

    def __init__(self, weights_path: str, **extra: object) -> None:
        super().__init__(weights_path=weights_path, **extra)


#: A Mel-LCNN small enough for the hostile-input tests (2,048-sample crops).
LCNN = {"n_samples": 2048}


class Stepped(Exception):
    """Raised at the first training step: the run got past every check."""


def stop(*args: object) -> None:
    raise Stepped


def tiny_config(root: Path, out: Path, **kw: Any) -> TrainConfig:
    """A one-epoch Mel-LCNN training config over `root` (keyword arguments override)."""
    base = {"model": "mel-lcnn", "data_dir": root, "out_dir": out, "model_config": LCNN, "epochs": 1, "batch_size": 14}
    return TrainConfig(**{**base, **kw})
