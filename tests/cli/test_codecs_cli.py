from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.codecs import get_card

runner = CliRunner()


def test_codecs_list_json_has_the_six_codecs_with_class_ids() -> None:
    result = runner.invoke(app, ["codecs", "list", "--json"])
    assert result.exit_code == 0, result.output
    cards = {c["spec"]: c for c in json.loads(result.stdout)}
    expected = {"mimi": 1, "speechtokenizer": 2, "funcodec": 3, "encodec": 4, "snac": 6}
    for name, class_id in expected.items():
        default = get_card(name)
        assert cards[default.spec]["class_id"] == class_id
        assert cards[default.spec]["file_prefix"] == name
    assert cards["encodec@3kbps"]["file_prefix"] == "C4-1"


def test_codecs_list_table() -> None:
    result = runner.invoke(app, ["codecs", "list"])
    assert result.exit_code == 0
    assert "encodec@6kbps" in result.output


def test_codecs_check_encodec_json() -> None:
    pytest.importorskip("encodec")
    result = runner.invoke(app, ["codecs", "check", "encodec", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"]
    assert report["sample_rate_hz"] == 24000
    assert report["measured_bitrate_bps"] == pytest.approx(6000, rel=0.01)
    assert report["length_ok"]
    assert report["deterministic"]
    assert report["distinct_codes"] > 8


def test_codecs_check_unknown_codec_fails() -> None:
    result = runner.invoke(app, ["codecs", "check", "nosuch"])
    assert result.exit_code == 2
    assert "unknown codec 'nosuch'" in result.output


def test_codecs_check_contract_passes_the_fake_codec() -> None:
    result = runner.invoke(app, ["codecs", "check", "--contract", "fakecodec", "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert checks["conformance"] == "ok"


def test_codecs_check_contract_lists_failures_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    import ncst.codecs.registry as registry
    from ncst.testing import FakeCodec

    card = FakeCodec.VARIANTS["16k"].to_dict()
    card.pop("spec")
    card.update(name="brokencard", source="pip", pip_extra="broken", upstream_package="")
    broken = type("BrokenCard", (FakeCodec,), {"VARIANTS": {"16k": FakeCodec.VARIANTS["16k"].from_dict(card)}})
    monkeypatch.setitem(registry._REGISTERED, "brokencard", broken)
    result = runner.invoke(app, ["codecs", "check", "--contract", "brokencard"], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output
    assert "missing_extra" in result.output


def test_codecs_check_contract_unknown_spec_exits_2() -> None:
    result = runner.invoke(app, ["codecs", "check", "--contract", "nosuch"])
    assert result.exit_code == 2
    assert "unknown codec 'nosuch'" in result.output
