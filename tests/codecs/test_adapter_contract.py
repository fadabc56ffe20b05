"""The common adapter checks, run on every registered codec (built-ins and installed plug-ins).

A new codec gets these without being listed here: conformance with random weights (length, rate,
determinism, bitrate, padding multiple, architecture source), the missing-extra error, a local round
trip through `save_local`, refusal of a crafted pickle in its local layout, and `pretrained` loading
from stubbed downloads. Codecs whose upstream package is missing are skipped (except the
missing-extra check, which needs no package).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ncst.codecs import Codec, available_codecs, codec_class, get_card
from ncst.codecs.conformance import check_codec
from ncst.testing import (
    check_crafted_checkpoint_refused,
    check_local_round_trip,
    check_missing_extra,
    check_mocked_pretrained,
)

#: Built-ins and installed plug-ins (not the toy codecs tests register at run time).
CODECS = available_codecs(runtime=False)


def _require_upstream(name: str) -> None:
    card = get_card(name)
    for dist in (p.strip() for p in card.upstream_package.split(",") if p.strip()):
        module = _IMPORT_NAMES.get(dist, dist.replace("-", "_"))
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{name}: upstream package {dist} is not installed (pip install ncst[{card.pip_extra}])")


#: Distribution -> import name, where they differ.
_IMPORT_NAMES = {"descript-audio-codec": "dac", "ms-funcodec": "funcodec"}


@pytest.mark.parametrize("name", CODECS)
def test_conformance_with_random_weights(name: str) -> None:
    _require_upstream(name)
    report = check_codec(name, weights="random", duration_s=0.25)
    assert report.ok, report.to_dict()


@pytest.mark.parametrize("name", CODECS)
def test_missing_upstream_package_names_the_extra(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    card = get_card(name)
    if card.source == "port" or not card.pip_extra:
        pytest.skip(f"{name} needs no optional package (a port, or core dependencies only)")
    check_missing_extra(name, monkeypatch)


def _require_save_local(name: str) -> None:
    if codec_class(name).save_local is Codec.save_local:
        pytest.skip(f"{name}: the adapter does not implement save_local(folder), which this check needs")


@pytest.mark.parametrize("name", CODECS)
def test_local_checkpoint_round_trip(name: str, tmp_path: Path) -> None:
    _require_upstream(name)
    _require_save_local(name)
    check_local_round_trip(name, tmp_path / "local")


@pytest.mark.parametrize("name", CODECS)
def test_crafted_checkpoint_never_runs_without_trust(name: str, tmp_path: Path) -> None:
    _require_upstream(name)
    _require_save_local(name)
    check_crafted_checkpoint_refused(name, tmp_path / "crafted")


@pytest.mark.parametrize("name", CODECS)
def test_pretrained_loads_from_stubbed_downloads(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not get_card(name).checkpoint:
        pytest.skip(f"{name}: no public checkpoint (the card names none), so 'pretrained' is refused by design")
    _require_upstream(name)
    _require_save_local(name)
    check_mocked_pretrained(name, tmp_path, monkeypatch)


@pytest.mark.parametrize("name", CODECS)
def test_card_states_architecture_source_and_padding(name: str) -> None:
    for card in codec_class(name).VARIANTS.values():
        if card.source == "pip" and card.pip_extra:  # an optional package: name it and pin its version
            assert card.upstream_package, card.spec
            assert card.upstream_version, card.spec
        elif card.source == "pip":  # core dependencies only (e.g. the real class)
            assert card.upstream_package, card.spec
        else:
            assert card.upstream_repo, card.spec
            assert len(card.upstream_commit) == 40, card.spec
        assert card.pad_multiple >= 1
