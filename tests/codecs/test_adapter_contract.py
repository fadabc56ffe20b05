"""The adapter contract (`ncst.codecs.contract.check_adapter_contract`), run on every registered codec.

Built-ins and installed plug-ins get every check without being listed here: the card's architecture
source and padding, conformance with random weights (length, rate, determinism, bitrate, padding
multiple, architecture source), the missing-extra error, a local round trip through `save_local`,
refusal of a crafted pickle in its local layout, and `pretrained` loading from stubbed downloads. One
test per (codec, check), so a failure names both; a check the function skips (upstream package missing,
no `save_local`, no public checkpoint) is skipped here with its reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ncst.codecs import Codec, available_codecs
from ncst.codecs.contract import CONTRACT_CHECKS, check_adapter_contract
from ncst.errors import ContractError, MissingDependencyError
from ncst.testing import FakeCodec

#: Built-ins and installed plug-ins (not the toy codecs tests register at run time).
CODECS = available_codecs(runtime=False)


@pytest.mark.parametrize("check", CONTRACT_CHECKS)
@pytest.mark.parametrize("name", CODECS)
def test_adapter_contract(name: str, check: str, tmp_path: Path) -> None:
    report = check_adapter_contract(name, checks=(check,), work_dir=tmp_path)
    (result,) = report.checks
    if result.status == "skipped":
        pytest.skip(result.detail)
    assert result.status == "ok", result.detail


def _broken_card_codec() -> type[Codec]:
    card = dict(FakeCodec.VARIANTS["16k"].to_dict())
    card.pop("spec")
    card.update(source="pip", pip_extra="fake", upstream_package="", upstream_version="")
    cls = type("BrokenCard", (FakeCodec,), {"VARIANTS": {"16k": FakeCodec.VARIANTS["16k"].from_dict(card)}})
    return cls


def test_contract_report_lists_every_failure() -> None:
    report = check_adapter_contract(_broken_card_codec(), checks=("card", "missing_extra", "conformance"))
    assert [c.name for c in report.failures] == ["card", "missing_extra"]
    with pytest.raises(ContractError, match="2 failed.*card: .*missing_extra: "):
        report.raise_for_failures()


def test_contract_passes_the_fake_codec_class() -> None:
    report = check_adapter_contract(FakeCodec, raise_on_failure=True)
    assert {c.name: c.status for c in report.checks}["conformance"] == "ok"


def test_missing_extra_error_of_a_card_without_extra_names_its_package() -> None:
    card = dict(FakeCodec.VARIANTS["16k"].to_dict())
    card.pop("spec")
    card.update(source="pip", upstream_package="mycodec-upstream")
    codec = type("NeedsPkg", (FakeCodec,), {"VARIANTS": {"16k": FakeCodec.VARIANTS["16k"].from_dict(card)}})(None)
    with pytest.raises(MissingDependencyError, match=r"pip install mycodec-upstream\b"):
        codec._import_upstream("no_such_module_for_ncst_tests")
