from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ncst.build_dataset import Shard, output_name, parse_shard, plan_jobs
from ncst.codecs import get_card
from ncst.corpora import Utterance
from ncst.corpora.base import MAX_FILE_PREFIX_BYTES
from ncst.errors import NcstError


def _utts(n: int) -> list[Utterance]:
    return [Utterance(utt_id=f"p225_{i:03d}", path=Path(f"/x/{i}.wav")) for i in range(n)]


def test_output_name_uses_card_prefix() -> None:
    assert output_name(get_card("fakecodec"), "p225_001") == "fake_p225_001.wav"


@pytest.mark.parametrize("text,expected", [("0/1", Shard(0, 1)), ("3/4", Shard(3, 4)), (" 1 / 2 ", Shard(1, 2))])
def test_parse_shard_accepts_zero_based(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["4/4", "1", "a/b", "-1/2", "0/0"])
def test_parse_shard_rejects_bad_values(text: str) -> None:
    with pytest.raises(NcstError, match="shard"):
        parse_shard(text)


def test_shards_cover_all_jobs_once_and_are_stable_under_reordering() -> None:
    cards = [get_card("fakecodec"), get_card("fakecodec@24k")]
    utts = _utts(50)
    everything = {j.file_name for j in plan_jobs(utts, cards)}
    parts = [{j.file_name for j in plan_jobs(utts, cards, shard=Shard(i, 3))} for i in range(3)]
    assert set().union(*parts) == everything
    assert sum(map(len, parts)) == 100
    assert all(10 < len(p) < 60 for p in parts)
    reordered = {j.file_name for j in plan_jobs(list(reversed(utts)), cards, shard=Shard(1, 3))}
    assert reordered == parts[1]


def test_same_variant_twice_runs_once() -> None:
    assert len(plan_jobs(_utts(2), [get_card("fakecodec"), get_card("fakecodec@16k")])) == 2


def test_limit_applies_before_sharding() -> None:
    assert [j.utterance.utt_id for j in plan_jobs(_utts(5), [get_card("fakecodec")], limit=2)] == [
        "p225_000",
        "p225_001",
    ]


def test_codec_prefix_longer_than_the_file_name_budget_is_refused() -> None:
    card = dataclasses.replace(get_card("fakecodec"), file_prefix="p" * MAX_FILE_PREFIX_BYTES)
    with pytest.raises(NcstError, match=r"file prefix 'p+' is longer than the 31 bytes"):
        plan_jobs(_utts(1), [card])
