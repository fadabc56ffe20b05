"""NCSSD reader (Hugging Face dataset `walkerhyf/NCSSD`, gated; CC BY-NC 4.0, research use only).

ST-Codecfake's NCSSD sets use 5,000 utterances of the recorded English subset `R-EN` and 5,000 of the
recorded Chinese subset `R-ZH`, under flattened names `{subset}_{turn}_{speaker}_d{dialogue}`, e.g.
`R-ZH_3_14_d501` (`docs/reference_system.md` §5.3). NCSSD itself stores DailyTalk-style names
`{turn}_{speaker}_d{dialogue}.wav` inside per-subset and per-dialogue folders; the exact folder tree of the
gated repository is not public, so the reader takes the subset from the nearest path component named
`R-EN`, `R-ZH`, `C-EN` or `C-ZH` and accepts already-flattened names as they are. Reading never touches
the network; `download_ncssd` does, with a Hugging Face token of an account that accepted the terms.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ncst.audio import PathLike
from ncst.corpora.base import Utterance
from ncst.errors import CorpusLayoutError, NcstError
from ncst.io import atomic_write_text
from ncst.paths import inside

__all__ = ["HF_REPO_ID", "SUBSETS", "flat_ncssd_id", "read_ncssd", "download_ncssd"]

log = logging.getLogger(__name__)

HF_REPO_ID = "walkerhyf/NCSSD"
SUBSETS = ("R-EN", "R-ZH", "C-EN", "C-ZH")
_LOCAL = re.compile(r"^(?P<turn>\d+)_(?P<spk>\d+)_d(?P<dlg>\d+)$")
_FLAT = re.compile(r"^(?P<subset>[RC]-(?:EN|ZH))_(?P<turn>\d+)_(?P<spk>\d+)_d(?P<dlg>\d+)$")


def flat_ncssd_id(subset: str, stem: str) -> str:
    """`("R-ZH", "3_14_d501")` -> `"R-ZH_3_14_d501"`; an already flat stem is returned unchanged.

    Raises:
        CorpusLayoutError: `stem` is neither `{turn}_{speaker}_d{dialogue}` nor a flat NCSSD name.
    """
    if _FLAT.match(stem):
        return stem
    if _LOCAL.match(stem) is None:
        raise CorpusLayoutError(f"NCSSD file name {stem!r}: expected '<turn>_<speaker>_d<dialogue>', e.g. 3_14_d501")
    return f"{subset}_{stem}"


def _subset_of(path: Path, root: Path) -> str | None:
    for part in reversed(path.relative_to(root).parts[:-1]):
        key = part.upper().replace("_", "-")
        if key in SUBSETS:
            return key
    return None


def read_ncssd(corpus_dir: PathLike, *, subsets: tuple[str, ...] = ("R-EN", "R-ZH")) -> Iterator[Utterance]:
    """Yields NCSSD utterances of `subsets`, sorted by flat id.

    Args:
        corpus_dir: The downloaded snapshot (any depth), or a folder of already-flattened files.
        subsets: Which subsets to keep; ST-Codecfake uses `R-EN` and `R-ZH`.

    Yields:
        Utterances with flat ids (`R-ZH_3_14_d501`), speaker `{subset}_{speaker}` (speaker 0 of the R
        subsets is the fixed host), corpus `ncssd`, language `en`/`zh`, and `extra` = `subset`,
        `dialogue`, `turn`; text from a `.lab` file next to the audio when present.

    Raises:
        CorpusLayoutError: The folder is missing, no file of the subsets was found, or two files flatten to
            the same id.
    """
    wanted = [s.upper() for s in subsets]
    bad = [s for s in wanted if s not in SUBSETS]
    if bad:
        raise CorpusLayoutError(f"unknown NCSSD subsets {bad}; choose from {list(SUBSETS)}")
    root = Path(corpus_dir).expanduser().absolute()
    if not root.is_dir():
        raise CorpusLayoutError(f"NCSSD folder not found: {root}")
    found: dict[str, Path] = {}
    skipped = 0
    for path in root.rglob("*.wav"):
        flat = _FLAT.match(path.stem)
        subset = flat.group("subset") if flat else _subset_of(path, root)
        if subset is None or (flat is None and _LOCAL.match(path.stem) is None):
            skipped += 1
            continue
        if subset not in wanted:
            continue
        utt_id = flat_ncssd_id(subset, path.stem)
        if utt_id in found:
            raise CorpusLayoutError(f"NCSSD id {utt_id} appears twice: {found[utt_id]} and {path}")
        found[utt_id] = path
    if skipped:
        log.warning(
            "%s: %d .wav files skipped (not under an R-EN/R-ZH/C-EN/C-ZH folder or not named "
            "<turn>_<speaker>_d<dialogue>.wav)",
            root,
            skipped,
        )
    if not found:
        raise CorpusLayoutError(
            f"{root}: no NCSSD audio of subsets {wanted}; expected <subset>/.../<turn>_<speaker>_d<dialogue>.wav "
            "(e.g. R-ZH/d501/3_14_d501.wav) or flat names such as R-ZH_3_14_d501.wav"
        )
    for utt_id in sorted(found):
        match = _FLAT.match(utt_id)
        if match is None:  # cannot happen: ids are built flat
            raise CorpusLayoutError(f"internal: bad flat NCSSD id {utt_id!r}")
        path = found[utt_id]
        lab = path.with_suffix(".lab")
        yield Utterance(
            utt_id=utt_id,
            path=path,
            speaker=f"{match.group('subset')}_{match.group('spk')}",
            corpus="ncssd",
            language=match.group("subset")[-2:].lower(),
            text=lab.read_text(encoding="utf-8", errors="replace").strip() if lab.is_file() else None,
            extra={
                "subset": match.group("subset"),
                "dialogue": int(match.group("dlg")),
                "turn": int(match.group("turn")),
            },
        )
    log.info("NCSSD %s: %d utterances from %s", wanted, len(found), root)


def download_ncssd(
    target_dir: PathLike,
    *,
    subsets: tuple[str, ...] = ("R-EN", "R-ZH"),
    token: str | None = None,
    force: bool = False,
) -> Path:
    """Downloads the NCSSD subsets from the gated Hugging Face repository into `target_dir`.

    Needs an account that accepted the dataset's terms on https://huggingface.co/datasets/walkerhyf/NCSSD
    and its token (`token`, else `HF_TOKEN` or a `huggingface-cli login`). Files already present are
    kept (huggingface_hub resumes and skips them).

    Raises:
        NcstError: Access is refused (no token, terms not accepted) or the hub cannot be reached.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError

    target = Path(target_dir).expanduser().absolute()
    marker = target / ".completed"
    if marker.is_file() and not force:
        return target
    patterns = [f"*{s}*" for s in subsets] + [f"*{s.replace('-', '_')}*" for s in subsets]
    try:
        snapshot_download(
            repo_id=HF_REPO_ID,
            repo_type="dataset",
            local_dir=str(target),
            allow_patterns=patterns,
            token=token or os.environ.get("HF_TOKEN"),
        )
    except GatedRepoError as err:
        raise NcstError(
            f"NCSSD is gated: accept its terms at https://huggingface.co/datasets/{HF_REPO_ID} with your account, "
            "then pass its token (--hf-token or HF_TOKEN)"
        ) from err
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as err:
        raise NcstError(f"cannot download {HF_REPO_ID} ({err}); check the network and your token, then rerun") from err
    atomic_write_text(inside(target, ".completed", what="marker"), ",".join(subsets) + "\n")
    return target
