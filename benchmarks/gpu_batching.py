"""GPU resynthesis throughput: one file per codec call (the naive loop) against length-bucketed batches.

For each codec (default EnCodec and Mimi, seeded random weights, so no download), the same clips go
through the codec twice on one device, in one process: one clip per `resynthesize` call, then through
`ncst.codecs.batching.resynthesize_many` with batch limits chosen from the device's free memory. Both
sides include host-to-device copies and the copy back; model load and a warm-up call are excluded from
both. The clips are the bundled demo recordings (1.1 to 5.3 s of real speech) repeated to `--files`.
Batched outputs are also compared with the unbatched ones (max absolute difference, batch-safe codecs).

Prints one line per codec and, last, ``ratio=<smallest batched / naive throughput over the codecs>``.
Sized to finish in well under 5 minutes on one GPU:
``python benchmarks/gpu_batching.py [--codecs encodec mimi] [--files 256] [--device cuda]``.
"""

from __future__ import annotations

import argparse
import time

import soxr
import torch

from ncst.audio import read_audio, to_mono
from ncst.codecs import get_codec
from ncst.codecs.batching import choose_batch_limits, resynthesize_many
from ncst.corpora.demo import read_demo


def load_clips(rate_hz: int, n_files: int) -> list[torch.Tensor]:
    base = []
    for utt in read_demo():
        audio, sr = read_audio(utt.path)
        base.append(torch.from_numpy(soxr.resample(to_mono(audio), sr, rate_hz, quality="HQ")))
    return [base[i % len(base)] for i in range(n_files)]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_codec(spec: str, n_files: int, device: torch.device) -> float:
    codec = get_codec(spec, device=device).load("random", seed=0)
    clips = load_clips(codec.card.sample_rate_hz, n_files)
    audio_s = sum(c.numel() for c in clips) / codec.card.sample_rate_hz
    codec.resynthesize(clips[0][None])  # warm-up (kernels, allocator)
    synchronize(device)

    start = time.perf_counter()
    naive = [codec.resynthesize(c[None])[0] for c in clips]
    synchronize(device)
    naive_s = time.perf_counter() - start

    limits = choose_batch_limits(codec, longest_samples=max(c.numel() for c in clips))
    resynthesize_many(codec, clips[: min(8, n_files)], limits)  # warm-up at batch shapes
    synchronize(device)
    start = time.perf_counter()
    batched = resynthesize_many(codec, clips, limits)
    synchronize(device)
    batched_s = time.perf_counter() - start

    max_diff = max(float((a - b).abs().max()) for a, b in zip(naive, batched))
    ratio = naive_s / batched_s
    print(
        f"{spec}: files={n_files} audio_s={audio_s:.1f} naive_s={naive_s:.2f} batched_s={batched_s:.2f} "
        f"naive={audio_s / naive_s:.1f} batched={audio_s / batched_s:.1f} audio_s/s "
        f"max_items={limits.max_items} max_samples={limits.max_samples} batch_safe={codec.batch_safe} "
        f"max_abs_diff={max_diff:.2e} ratio={ratio:.2f}",
        flush=True,
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codecs", nargs="+", default=["encodec", "mimi"])
    parser.add_argument("--files", type=int, default=256)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device={device} ({name}) torch={torch.__version__}", flush=True)
    ratios = [bench_codec(spec, args.files, device) for spec in args.codecs]
    print(f"ratio={min(ratios):.3f}")


if __name__ == "__main__":
    main()
