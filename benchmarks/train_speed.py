"""Training throughput of the three baselines, in utterances per second, on the CPU and (when present) a GPU.

One training step = forward, cross-entropy, backward and an Adam step on a batch of 64,600-sample waveforms
(4.04 s at 16 kHz), random weights, fp32. W2V2-AASIST is timed in its two parts: the back end training on cached
features (every epoch) and the frozen XLS-R 300M front end (random weights of the real size, the 6 of 24
blocks that `hidden_states[5]` needs), which runs once per utterance to fill the feature cache. Prints one line
per model and the time an epoch of the full 70,000-utterance training set takes.

Run: ``python benchmarks/train_speed.py [--threads 2] [--cpu-batch 4] [--gpu-batch 24] [--steps 3]``.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from ncst.models import build_model
from ncst.models.w2v2_aasist import W2V2AASIST, XLSR_300M_CONFIG

N_TRAIN = 70_000


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_steps(step, device: str, steps: int) -> float:  # type: ignore[no-untyped-def]
    step()  # warm-up (cuDNN autotune, allocator)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - t0) / steps


def train_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, features: bool = False):  # type: ignore[no-untyped-def]
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=5e-4, weight_decay=5e-4)

    def step() -> None:
        logits = model.forward_features(x)[1] if features else model(x)[1]  # type: ignore[operator]
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def report(name: str, device: str, batch: int, seconds: float, what: str = "train") -> None:
    ups = batch / seconds
    epoch_min = N_TRAIN / ups / 60
    head = f"{name:<22} {device:<5} {what:<18} batch {batch:>3}"
    print(f"{head}: {ups:8.1f} utt/s  -> 70,000 utterances: {epoch_min:7.1f} min")


def run(device: str, batch: int, steps: int) -> None:
    x = torch.randn(batch, 64_600, device=device)
    y = torch.arange(batch, device=device) % 7
    for name in ("mel-lcnn", "aasist"):
        model = build_model(name).to(device).train()
        report(name, device, batch, time_steps(train_step(model, x, y), device, steps))
        del model
    w2v2 = W2V2AASIST(frontend=XLSR_300M_CONFIG).to(device).train()
    feats = w2v2.extract_features(x)
    report("w2v2-aasist back end", device, batch, time_steps(train_step(w2v2, feats, y, features=True), device, steps))
    with torch.no_grad():
        sec = time_steps(lambda: w2v2.extract_features(x), device, steps)
    report("w2v2-aasist front end", device, batch, sec, what="features (cache)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    parser.add_argument("--cpu-batch", type=int, default=4)
    parser.add_argument("--gpu-batch", type=int, default=24)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--no-cpu", action="store_true", help="time the GPU only")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    if not args.no_cpu:
        run("cpu", args.cpu_batch, args.steps)
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name(0)}")
        torch.backends.cudnn.benchmark = True
        run("cuda", args.gpu_batch, max(args.steps, 10))


if __name__ == "__main__":
    main()
