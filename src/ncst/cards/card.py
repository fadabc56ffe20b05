"""`write_html_card`: the `DATASET.html` of a build folder or dataset root, with `quality.csv` and figures.

What it writes into the folder::

    DATASET.html                      the page (see `ncst.cards.html`)
    quality.csv                       per class and set: STOI, PESQ-WB, SI-SDR, LSD, measured bitrate
    DATASET_files/spectrograms.png    one utterance through every class, one dB scale
    DATASET_files/sources/*.wav       flat builds only: the source recordings the page plays beside the fakes

Rerunning rewrites all of them; audio already copied is kept.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import ncst
from ncst.cards.dataset import CardFile, ClassGroup, DatasetView, class_name, group_hours, read_dataset
from ncst.cards.html import CardPage, Sample, render_card_html
from ncst.cards.quality import DEFAULT_PER_CLASS, QualityTable, measure_quality, quality_markdown, write_quality_csv
from ncst.cards.samples import ASSET_DIR, PairResolver, pick_files, rank_utterances
from ncst.cards.spectrograms import plot_spectrogram_grid
from ncst.codecs.card import CodecCard
from ncst.errors import NcstError, UnknownCodecError
from ncst.io import PathLike, atomic_write_text

__all__ = ["CARD_HTML", "QUALITY_CSV", "CardResult", "card_after_build", "measure_dataset_quality", "write_html_card"]

log = logging.getLogger(__name__)

CARD_HTML = "DATASET.html"
QUALITY_CSV = "quality.csv"
FIGURE = f"{ASSET_DIR}/spectrograms.png"
#: Most panels in the spectrogram grid (the full ST-Codecfake layout has 22 fake groups on eval utterances).
MAX_PANELS = 40


@dataclass(frozen=True, slots=True)
class CardResult:
    """What `write_html_card` wrote and measured."""

    html: Path
    quality_csv: Path | None
    figure: Path | None
    quality: QualityTable | None
    seconds: float


def write_html_card(
    root: PathLike,
    *,
    samples_per_class: int = 3,
    quality_per_class: int = DEFAULT_PER_CLASS,
    seed: int = 0,
) -> CardResult:
    """Writes `DATASET.html`, `quality.csv` and the figures into `root` (see the module docstring).

    Args:
        root: A flat build folder or a dataset root in the ST-Codecfake layout.
        samples_per_class: Players per class and set (the same utterances across classes where possible).
        quality_per_class: Files measured per class and set (0: no quality table).
        seed: Seed of the quality sample.

    Raises:
        CorpusLayoutError: `root` is not a dataset, or one of its label files or `recipe.json` is malformed.
    """
    start = time.perf_counter()
    view = read_dataset(Path(root))
    pairs = PairResolver(view)
    ranking = rank_utterances(view)
    samples = {}
    for group in view.groups:
        picked = pick_files(view, group, ranking, samples_per_class)
        samples[group.key] = [Sample(f.utt_id, f.rel, pairs.real_for(group, f)) for f in picked]
    figure, figure_utt = _figure(view, pairs, ranking)
    quality = None
    quality_csv = None
    if quality_per_class > 0:
        quality = measure_quality(view, pairs, per_class=quality_per_class, seed=seed)
        quality_csv = write_quality_csv(quality, view.root / QUALITY_CSV)
        _quality_into_markdown_card(view.root / "DATASET.md", quality)
    links = [(name, name) for name in ("DATASET.md", QUALITY_CSV, "manifest.csv") if (view.root / name).is_file()]
    page = CardPage(
        view=view,
        cards=_cards(view),
        samples=samples,
        quality=quality,
        figure=FIGURE if figure else None,
        figure_utt=figure_utt,
        hours={g.key: group_hours(view.root, g, seed=seed) for g in view.groups},
        links=links,
        generated=f"Written by ncst {ncst.__version__} on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
    )
    html_path = atomic_write_text(view.root / CARD_HTML, render_card_html(page))
    seconds = time.perf_counter() - start
    log.info("wrote %s in %.1f s", html_path, seconds)
    return CardResult(html_path, quality_csv, figure, quality, seconds)


_QUALITY_BEGIN = "<!-- BEGIN quality (ncst card) -->"
_QUALITY_END = "<!-- END quality (ncst card) -->"


def _quality_into_markdown_card(path: Path, quality: QualityTable) -> None:
    """Puts the quality table into `DATASET.md` (a recipe build's card), replacing the one a run before put there.

    The table sits between two markers, so running `ncst card` again replaces it instead of adding another.
    """
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    section = f"{_QUALITY_BEGIN}\n## Quality per class\n\n{quality_markdown(quality)}\n{_QUALITY_END}\n"
    if _QUALITY_BEGIN in text and _QUALITY_END in text:
        head, rest = text.split(_QUALITY_BEGIN, 1)
        text = head + section + rest.split(_QUALITY_END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    atomic_write_text(path, text)


def measure_dataset_quality(root: PathLike, *, per_class: int = DEFAULT_PER_CLASS, seed: int = 0) -> QualityTable:
    """The quality table of a folder without writing the page (for `DATASET.md`: `quality_markdown(table)`).

    A flat build's sources are still copied into `DATASET_files/sources/` (they are the real side of each pair).
    """
    view = read_dataset(Path(root))
    return measure_quality(view, PairResolver(view), per_class=per_class, seed=seed)


def card_after_build(root: PathLike, *, quality_per_class: int = DEFAULT_PER_CLASS) -> CardResult | None:
    """`write_html_card` for the end of a build: a failure is logged as a warning, never raised.

    A build that wrote its files must not fail because its card could not be drawn (a corrupt file, a full
    disk); `ncst card DIR` can write the card later.
    """
    try:
        return write_html_card(root, quality_per_class=quality_per_class)
    except (NcstError, OSError, ValueError, RuntimeError) as err:
        log.warning("could not write %s in %s: %s (run `ncst card %s` to retry)", CARD_HTML, root, err, root)
        return None


def _cards(view: DatasetView) -> dict[str, CodecCard]:
    from ncst.codecs import get_card

    cards: dict[str, CodecCard] = {}
    for group in view.groups:
        if group.codec_spec is None:
            continue
        try:
            cards[group.key] = get_card(group.codec_spec)
        except UnknownCodecError as err:
            log.warning("no codec card for %s: %s", group.codec_spec, err)
    return cards


def _figure(view: DatasetView, pairs: PairResolver, ranking: list[str]) -> tuple[Path | None, str]:
    """The grid of the best-covered utterance that exists on disk (real first), or None."""
    top = ranking[:20]
    wanted = set(top)
    by_utt: dict[str, list[tuple[ClassGroup, CardFile]]] = {}
    for group in view.groups:  # one pass over the files: a full build lists about 2.6 million
        seen: set[str] = set()
        for f in group.files:
            if f.utt_id in wanted and f.utt_id not in seen and (view.root / f.rel).is_file():
                seen.add(f.utt_id)
                by_utt.setdefault(f.utt_id, []).append((group, f))
    has_real_class = any(g.is_real for g in view.groups)
    for utt in top:
        panels = [(_panel_title(view, group), view.root / f.rel) for group, f in by_utt.get(utt, [])]
        if panels and not has_real_class:
            group, f = by_utt[utt][0]
            real = pairs.real_for(group, f)
            if real is not None:
                panels.insert(0, ("real (source)", view.root / real))
        if len(panels) > 1:
            target = plot_spectrogram_grid(panels[:MAX_PANELS], view.root / FIGURE, title=f"utterance {utt}")
            return target, utt
    return None, ""


def _panel_title(view: DatasetView, group: ClassGroup) -> str:
    name = group.codec_spec or class_name(group.class_id)
    if group.is_real:
        name = "real"
    return name if view.layout == "flat" else f"{group.set_name}: {name}"
