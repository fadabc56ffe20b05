"""Batched resynthesis: each output equals its unbatched output, whatever the batch and padding."""

from __future__ import annotations

import pytest
import torch

from ncst.codecs import Codes, get_codec
from ncst.codecs.batching import BatchLimits, plan_batches, resynthesize_many
from ncst.testing import FakeCodec

torch.set_num_threads(1)


class _MeanRemovingCodec(FakeCodec):
    """Subtracts the whole signal's mean: its output depends on the padding, so it is not batch-safe."""

    batch_safe = False

    def _encode(self, wav: torch.Tensor) -> Codes:
        return super()._encode(wav - wav.mean(dim=-1, keepdim=True))


class _OutOfMemoryCodec(FakeCodec):
    """Fails like a full GPU whenever a batch has more than two items."""

    batch_safe = True
    calls: list[int] = []

    def _encode(self, wav: torch.Tensor) -> Codes:
        type(self).calls.append(int(wav.shape[0]))
        if wav.shape[0] > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super()._encode(wav)


def _clips(lengths: list[int], seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [0.2 * torch.randn(n, generator=g) for n in lengths]


def _unbatched(codec, clips):  # noqa: ANN001, ANN202
    return [codec.resynthesize(x[None])[0] for x in clips]


def test_plan_batches_covers_every_item_once_within_limits() -> None:
    lengths = [100, 5000, 120, 130, 4900, 100, 90, 7000, 125, 101]
    limits = BatchLimits(max_items=3, max_samples=400, max_pad_ratio=1.5)
    batches = plan_batches(lengths, limits, exact_lengths=False)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert len(batch) <= 3
        assert len(batch) == 1 or longest * len(batch) <= 400
        assert longest <= 1.5 * min(lengths[i] for i in batch)
    assert [90, 100, 100] in [[lengths[i] for i in b] for b in batches]


def test_plan_batches_exact_lengths_groups_only_equal_lengths() -> None:
    lengths = [100, 101, 100, 100, 101, 7]
    batches = plan_batches(lengths, BatchLimits(max_items=8), exact_lengths=True)
    assert sorted(sorted(lengths[i] for i in b) for b in batches) == [[7], [100, 100, 100], [101, 101]]


def test_batch_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="batch limits"):
        BatchLimits(max_items=0)


def test_resynthesize_many_equals_unbatched_for_a_padding_sensitive_codec() -> None:
    codec = _MeanRemovingCodec("16k").load("random", seed=1)
    clips = _clips([800, 800, 1200, 801, 800])
    batched = resynthesize_many(codec, clips, BatchLimits(max_items=8))
    for got, want in zip(batched, _unbatched(codec, clips)):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    # the same codec with padding allowed would be wrong: proves the test can fail
    padded = torch.zeros(2, 1200)
    padded[0, :800], padded[1] = clips[0], clips[2]
    assert (codec.resynthesize(padded)[0, :800] - _unbatched(codec, clips[:1])[0]).abs().max() > 1e-3


def test_resynthesize_many_halves_batches_on_out_of_memory() -> None:
    codec = _OutOfMemoryCodec("16k").load("random", seed=1)
    clips = _clips([640, 650, 660, 670, 680])
    limits = BatchLimits(max_items=8)
    _OutOfMemoryCodec.calls.clear()
    batched = resynthesize_many(codec, clips, limits)
    assert limits.max_items <= 2
    assert _OutOfMemoryCodec.calls[0] == 5
    assert max(_OutOfMemoryCodec.calls[1:]) <= 2
    for got, want in zip(batched, _unbatched(codec, clips)):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_resynthesize_many_rejects_multichannel_items() -> None:
    codec = FakeCodec("16k").load("random", seed=1)
    with pytest.raises(ValueError, match="item 1"):
        resynthesize_many(codec, [torch.zeros(10), torch.zeros(2, 10)], BatchLimits())


@pytest.mark.parametrize("spec", ["encodec", "mimi"])
def test_batch_safe_codecs_match_unbatched_within_1e4(spec: str) -> None:
    codec = get_codec(spec).load("random", seed=0)
    assert codec.batch_safe
    rate = codec.card.sample_rate_hz
    clips = _clips([int(0.31 * rate) + 7, int(0.37 * rate) + 123, int(0.45 * rate)], seed=3)
    batched = resynthesize_many(codec, clips, BatchLimits(max_items=8, max_pad_ratio=2.0))
    for got, want in zip(batched, _unbatched(codec, clips)):
        assert got.shape == want.shape
        assert (got - want).abs().max().item() < 1e-4
