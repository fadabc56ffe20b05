"""Score your own source-tracing model with ncst: write one dump per set, then run the protocols on them.

    python docs/examples/write_dumps.py --data st-codecfake/ --out my_dumps/
    run-protocol id_closed_set --dumps my_dumps/ --data st-codecfake/
    run-protocol ood_open_set --dumps my_dumps/

Replace `load_my_model` with your model: anything that maps waveforms `[B, 64600]` (16 kHz, the reference's
head crop / repeat padding) to `(embedding [B, D], logits [B, 7])`. The stand-in below is an untrained
spectral-band model, so its scores are meaningless; it only shows the plumbing.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.utils.data import DataLoader

from ncst.benchmark import dump_path, save_dump
from ncst.models.data import WaveformDataset, list_sets, read_set


class BandEnergies(torch.nn.Module):
    """Stand-in model: log energies of 16 frequency bands (embedding) and a fixed random 7-way head."""

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Linear(16, 7)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        power = torch.stft(wave, 512, 128, window=torch.hann_window(512), return_complex=True).abs() ** 2
        bands = torch.stack([b.mean(dim=(1, 2)) for b in power.chunk(16, dim=1)], dim=1)
        embedding = torch.log(bands + 1e-8)
        return embedding, self.head(embedding)


def load_my_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return BandEnergies().eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="dataset root in the official layout")
    parser.add_argument("--out", required=True, help="folder for <set>.npz dumps")
    parser.add_argument("--batch-size", type=int, default=24)
    args = parser.parse_args()
    model = load_my_model()
    for source in list_sets(args.data):  # train (the OOD bank), dev, eval_id, eval_ood*, folder sets
        items = read_set(args.data, source.name)
        embeddings, logits = [], []
        with torch.no_grad():
            for wave, _, _ in DataLoader(WaveformDataset(items), batch_size=args.batch_size):
                emb, out = model(wave)
                embeddings.append(emb.numpy())
                logits.append(out.numpy())
        path = save_dump(
            dump_path(args.out, source.name),
            utt_ids=[it.utt_id for it in items],
            logits=np.concatenate(logits),
            embeddings=np.concatenate(embeddings),
            labels=[it.label for it in items],
        )
        print(f"{source.name}: {len(items)} utterances -> {path}")


if __name__ == "__main__":
    main()
