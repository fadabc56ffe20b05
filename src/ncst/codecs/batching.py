"""Batched resynthesis: length buckets, padding masks and an out-of-memory fallback.

On a GPU one utterance per call leaves the device mostly idle, so many utterances go through the codec
together. Utterances differ in length, so a batch is padded on the right with zeros to its longest item,
and each output is cropped back to its own length (the padding mask is the per-item length). That gives
each item exactly its unbatched output only when the codec's output for the first `T` samples does not
depend on what follows them or on the other items: causal codecs such as EnCodec 24 kHz and Mimi, whose
adapters set `Codec.batch_safe = True` (tests hold them to 1e-4). Every other codec is batched only
across items of identical length, which needs no padding at all.

Items are sorted by length and cut into buckets whose longest item is at most `max_pad_ratio` times the
shortest, so little compute goes into padding. A batch that runs out of device memory is split in halves
and retried, and the smaller size is kept for the rest of the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import torch

from ncst.codecs.base import Codec

__all__ = [
    "BatchLimits",
    "choose_batch_limits",
    "encode_decode_many",
    "is_out_of_memory",
    "plan_batches",
    "resynthesize_many",
]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchLimits:
    """How large a batch may get.

    Attributes:
        max_items: Utterances per batch.
        max_samples: Padded samples per batch (items x longest length), the memory-relevant size.
        max_pad_ratio: Longest / shortest item length allowed in one bucket of a batch-safe codec.
    """

    max_items: int = 1
    max_samples: int = 1 << 62
    max_pad_ratio: float = 1.25

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.max_samples < 1 or self.max_pad_ratio < 1.0:
            raise ValueError(f"batch limits must be >= 1 (max_pad_ratio >= 1.0), got {self}")


def plan_batches(lengths: Sequence[int], limits: BatchLimits, *, exact_lengths: bool) -> list[list[int]]:
    """Groups item indices into batches, shortest items first.

    Args:
        lengths: Samples per item.
        limits: Size limits of one batch.
        exact_lengths: Put only items of identical length together (for codecs that are not batch-safe).

    Returns:
        Batches of indices into `lengths`; every index appears exactly once.
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current:
            shortest, longest = lengths[current[0]], lengths[index]  # ascending order: this item is the longest
            fits = (
                len(current) < limits.max_items
                and longest * (len(current) + 1) <= limits.max_samples
                and (longest == shortest if exact_lengths else longest <= shortest * limits.max_pad_ratio)
            )
            if not fits:
                batches.append(current)
                current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def is_out_of_memory(err: BaseException) -> bool:
    """True for a CUDA (or other device) out-of-memory error."""
    if isinstance(err, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def resynthesize_many(codec: Codec, wavs: Sequence[torch.Tensor], limits: BatchLimits) -> list[torch.Tensor]:
    """Resynthesises mono `[T_i]` tensors in batches; returns `[T_i]` float32 CPU tensors in input order.

    `limits` is lowered in place when a batch runs out of memory, so later calls start at the size that fit.

    Raises:
        ValueError: An item is not one-dimensional or is empty.
        RuntimeError: A single item does not fit in memory (or the codec failed).
    """
    return [audio for audio, _ in encode_decode_many(codec, wavs, limits)]


def encode_decode_many(
    codec: Codec, wavs: Sequence[torch.Tensor], limits: BatchLimits
) -> list[tuple[torch.Tensor, float]]:
    """`resynthesize_many`, also giving each item's measured bitrate (that of the padded batch it ran in)."""
    for i, wav in enumerate(wavs):
        if wav.ndim != 1 or wav.numel() == 0:
            raise ValueError(f"item {i}: expected a non-empty mono [T] tensor, got shape {tuple(wav.shape)}")
    lengths = [int(w.shape[0]) for w in wavs]
    outputs: list[tuple[torch.Tensor, float] | None] = [None] * len(wavs)
    pending = plan_batches(lengths, limits, exact_lengths=not codec.batch_safe)
    while pending:
        batch = pending.pop(0)
        if len(batch) > limits.max_items:  # planned before an out-of-memory error lowered the limit
            step = limits.max_items
            pending[:0] = [batch[i : i + step] for i in range(0, len(batch), step)]
            continue
        try:
            results = _run_batch(codec, [wavs[i] for i in batch])
        except Exception as err:  # noqa: BLE001 - only out-of-memory is handled, everything else re-raised
            if not is_out_of_memory(err) or len(batch) == 1:
                raise
            _release_cached_memory(codec)
            half = len(batch) // 2
            limits.max_items = max(1, min(limits.max_items, half))
            log.warning("%s: out of memory with %d items; retrying with at most %d", codec.card.spec, len(batch), half)
            pending.insert(0, batch)  # re-cut at the lowered limit
            continue
        for i, out in zip(batch, results):
            outputs[i] = out
    missing = [i for i, o in enumerate(outputs) if o is None]
    if missing:
        raise RuntimeError(f"{codec.card.spec}: no output for items {missing[:5]}: batching bug")
    return [o for o in outputs if o is not None]


def _run_batch(codec: Codec, items: Sequence[torch.Tensor]) -> list[tuple[torch.Tensor, float]]:
    lengths = [int(x.shape[0]) for x in items]
    padded = torch.zeros(len(items), max(lengths), dtype=torch.float32)
    for row, x in enumerate(items):
        padded[row, : lengths[row]] = x
    codes = codec.encode(padded)
    out = codec.decode(codes, length=max(lengths)).cpu()
    bitrate = codes.bitrate_bps()
    return [(out[row, :n].clone(), bitrate) for row, n in enumerate(lengths)]


def _release_cached_memory(codec: Codec) -> None:
    if codec.device.type == "cuda":
        torch.cuda.empty_cache()


def choose_batch_limits(
    codec: Codec, *, longest_samples: int, memory_fraction: float = 0.6, max_items: int = 64
) -> BatchLimits:
    """Picks batch limits that fit the codec's device.

    On CUDA one item of `longest_samples` is run to measure peak memory per input sample, and batches get
    `memory_fraction` of the free memory; out-of-memory errors later still halve the batch. On a CPU
    batching buys little over one item per call (and a process per core is the faster way), so the
    limits there are a single item.
    """
    if codec.device.type != "cuda":
        return BatchLimits(max_items=1)
    probe_len = max(1, longest_samples)
    torch.cuda.synchronize(codec.device)
    torch.cuda.reset_peak_memory_stats(codec.device)
    base = torch.cuda.memory_allocated(codec.device)
    codec.resynthesize(torch.zeros(1, probe_len))
    torch.cuda.synchronize(codec.device)
    per_sample = max(1.0, (torch.cuda.max_memory_allocated(codec.device) - base) / probe_len)
    free_bytes, _ = torch.cuda.mem_get_info(codec.device)
    max_samples = max(probe_len, int(free_bytes * memory_fraction / per_sample))
    limits = BatchLimits(max_items=max_items, max_samples=max_samples)
    log.info(
        "%s on %s: %.0f bytes per input sample, batches up to %d items / %d samples",
        codec.card.spec,
        codec.device,
        per_sample,
        limits.max_items,
        limits.max_samples,
    )
    return limits
