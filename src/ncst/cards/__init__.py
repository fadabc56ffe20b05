"""Dataset cards: `DATASET.html` with players, codec cards, spectrograms and a quality table.

`write_html_card(folder)` is what `ncst card DIR` runs; builds call it at their end. `quality_markdown`
gives the quality table for `DATASET.md`.
"""

from __future__ import annotations

from ncst.cards.card import (
    CARD_HTML,
    QUALITY_CSV,
    CardResult,
    card_after_build,
    measure_dataset_quality,
    write_html_card,
)
from ncst.cards.dataset import CardFile, ClassGroup, DatasetView, class_name, read_dataset
from ncst.cards.metrics import log_spectral_distance, pesq_available, pesq_wb, si_sdr, stoi
from ncst.cards.order import natural_key
from ncst.cards.quality import (
    DEFAULT_PER_CLASS,
    QualityRow,
    QualityTable,
    measure_quality,
    quality_markdown,
    write_quality_csv,
)

__all__ = [
    "CARD_HTML",
    "DEFAULT_PER_CLASS",
    "QUALITY_CSV",
    "CardFile",
    "CardResult",
    "ClassGroup",
    "DatasetView",
    "QualityRow",
    "QualityTable",
    "card_after_build",
    "class_name",
    "log_spectral_distance",
    "measure_dataset_quality",
    "measure_quality",
    "natural_key",
    "pesq_available",
    "pesq_wb",
    "quality_markdown",
    "read_dataset",
    "si_sdr",
    "stoi",
    "write_html_card",
    "write_quality_csv",
]
