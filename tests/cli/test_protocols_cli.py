"""`ncst protocols list` and `show`: the protocols as data, on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ncst.cli.main import app
from ncst.protocols import PROTOCOL_NAMES


def test_protocols_list_json_names_the_four_protocols() -> None:
    result = CliRunner().invoke(app, ["protocols", "list", "--json"])
    assert [p["name"] for p in json.loads(result.output)] == list(PROTOCOL_NAMES)


def test_protocols_list_table_names_the_paper_tables() -> None:
    result = CliRunner().invoke(app, ["protocols", "list"])
    assert "Table 5" in result.output


def test_protocols_show_lists_the_sets_of_table_4() -> None:
    result = CliRunner().invoke(app, ["protocols", "show", "id_robustness"])
    assert "C3-1" in result.output


def test_protocols_show_lists_the_ood_conditions() -> None:
    result = CliRunner().invoke(app, ["protocols", "show", "ood_open_set"])
    assert "19LA_spoof" in result.output


def test_protocols_show_reads_a_protocol_file(tmp_path: Path) -> None:
    from ncst.protocols import loader

    source = Path(loader.__file__).with_name("alm_backend.toml").read_text(encoding="utf-8")
    mine = tmp_path / "mine.toml"
    mine.write_text(source.replace('name = "alm_backend"', 'name = "my_alm"'), encoding="utf-8")
    result = CliRunner().invoke(app, ["protocols", "show", str(mine), "--json"])
    assert json.loads(result.output)["name"] == "my_alm"


def test_protocols_show_unknown_name_is_one_error_line() -> None:
    result = CliRunner().invoke(app, ["protocols", "show", "table_99"])
    assert result.exit_code == 2
