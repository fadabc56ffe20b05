"""`ncst verify`: check any folder ncst writes or reads, whatever it is.

A flat build folder (`build-dataset`: `wav/`, `label.txt`, `manifest.csv`, provenance) is checked by
`ncst.build_dataset.verify.verify_build`; a dataset root (a recipe build, an ingest target, the official
download) by `ncst.recipes.verify.verify_recipe_build`. Choosing between them needs both packages, so the
choice lives here, above them, and neither verify module imports the other.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ncst.build_dataset.verify import verify_build
from ncst.io import PathLike
from ncst.layout import VerifyReport
from ncst.recipes.verify import is_recipe_layout, verify_recipe_build

__all__ = ["VerifyReport", "verify"]

log = logging.getLogger(__name__)


def verify(path: PathLike) -> VerifyReport:
    """Verifies a build folder or a dataset root; see the two verify modules for what each checks.

    Raises:
        CorpusLayoutError: `path` is neither a build folder (no provenance) nor a dataset root.
    """
    root = Path(path)
    if is_recipe_layout(root):
        return verify_recipe_build(root)
    return verify_build(root)
