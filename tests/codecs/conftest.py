from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _downloads_are_stubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests stand in for the network by stubbing each upstream download function.

    With `HF_HUB_OFFLINE` set (as CI sets it), `Codec.load("pretrained")` would stop before the stub with
    its offline message, so it is unset here; tests of the offline path set it themselves
    (tests/cli/test_weights_cli.py).
    """
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("NCST_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
