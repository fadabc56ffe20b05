"""ncst.classes: the one class table (0-11) agrees with the paper, the protocols and the codec cards."""

from __future__ import annotations

import subprocess
import sys

from ncst.benchmark.predictions import PREFIX_LABELS
from ncst.classes import CLASSES, ID_CLASS_IDS, OOD_CLASS_IDS, class_by_id, class_by_key, prefix_labels
from ncst.codecs import codec_class
from ncst.codecs.registry import BUILTIN_CODECS
from ncst.protocols import load_protocol


def test_class_table_has_ids_0_to_11() -> None:
    assert [c.class_id for c in CLASSES] == list(range(12))
    assert ID_CLASS_IDS == tuple(range(7))
    assert OOD_CLASS_IDS == tuple(range(7, 12))
    assert class_by_id(0).file_prefix == ""
    assert class_by_key("wavtokenizer").class_id == 7
    assert [class_by_id(i).key for i in range(1, 7)] == [
        "mimi", "speechtokenizer", "funcodec", "encodec", "facodec", "snac"
    ]  # fmt: skip


def test_prefix_labels_are_the_official_eval_id_prefixes() -> None:
    assert prefix_labels() == PREFIX_LABELS == {
        "mimi_": 1, "speechtokenizer_": 2, "funcodec_": 3, "encodec_": 4, "facodec_": 5, "snac_": 6
    }  # fmt: skip
    assert prefix_labels(official_only=False)["dac_"] == 9


def test_closed_set_protocol_uses_the_id_classes() -> None:
    assert tuple(load_protocol("id_closed_set").class_ids) == ID_CLASS_IDS


#: Built-in codecs that make no class of the paper (extension classes get their id from a recipe).
EXTENSION_CODECS = ("vocos",)


def test_builtin_cards_agree_with_the_class_table() -> None:
    for key in BUILTIN_CODECS:
        if key in EXTENSION_CODECS:
            continue
        cls = codec_class(key)
        row = class_by_key(key)
        default = cls.VARIANTS[cls.DEFAULT_VARIANT]
        assert default.file_prefix == row.file_prefix, key
        for card in cls.VARIANTS.values():
            assert card.class_id == row.class_id, card.spec


def test_extension_codec_cards_claim_no_paper_class() -> None:
    for key in EXTENSION_CODECS:
        for card in codec_class(key).VARIANTS.values():
            assert card.class_id is None, card.spec


def test_class_table_imports_without_torch() -> None:
    code = "import sys, ncst.classes; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
