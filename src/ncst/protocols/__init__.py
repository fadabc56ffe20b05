"""The paper's four benchmark protocols (Tables 3-6 of arXiv 2501.06514), defined as TOML data.

``load_protocol("id_robustness")`` returns a frozen `Protocol`; see ``docs/protocols.md``.
"""

from __future__ import annotations

from ncst.protocols.loader import (
    PROTOCOL_NAMES,
    ConditionSpec,
    Protocol,
    SetSpec,
    list_protocols,
    load_protocol,
)

__all__ = ["PROTOCOL_NAMES", "ConditionSpec", "Protocol", "SetSpec", "list_protocols", "load_protocol"]
