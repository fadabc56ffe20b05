"""`DATASET.html`: one static page, no network: inline CSS and script, relative links to the audio and figures.

The page is built from plain data (`CardPage`) so it can be tested without audio. Every text from the
dataset (file names, specs, notes) is escaped; every link is a percent-encoded relative path, so the
folder can be moved, zipped or served as it is. A Content-Security-Policy forbids anything but the
folder's own files.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from ncst.cards.dataset import ClassGroup, DatasetView, class_name
from ncst.cards.quality import QualityTable, quality_note
from ncst.codecs.card import CodecCard

__all__ = ["CardPage", "Sample", "render_card_html"]

log = logging.getLogger(__name__)

_CSP = (
    "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
)

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:18px 24px 48px}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:20px;margin:28px 0 8px;border-bottom:1px solid #d5d9de}
h3{font-size:16px;margin:0 0 6px}.muted{color:#5b6470}
.warn{background:#fff0f0;border:2px solid #c62828;color:#8e0000;padding:10px 14px;border-radius:6px;font-weight:600}
table{border-collapse:collapse;background:#fff;margin:6px 0 10px;font-size:14px}
th,td{border:1px solid #d5d9de;padding:4px 8px;text-align:left;vertical-align:middle}
th{background:#eef1f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
nav a{margin-right:12px}
.cls{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:12px 14px;margin:10px 0}
.cls dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0 8px;font-size:13px}
.cls dt{color:#5b6470}.cls dd{margin:0}
audio{height:32px;width:260px}img.fig{max-width:100%;background:#fff;border:1px solid #d5d9de}
code{font-size:13px}
"""

#: One player at a time: starting one pauses the others.
_SCRIPT = """
document.addEventListener('play',function(e){
  document.querySelectorAll('audio').forEach(function(a){if(a!==e.target){a.pause();}});
},true);
"""


@dataclass(frozen=True, slots=True)
class Sample:
    """One row of a class's players: the utterance, its fake file and the paired real file (relative paths)."""

    utt_id: str
    fake: str
    real: str | None


@dataclass(slots=True)
class CardPage:
    """Everything the page shows.

    Attributes:
        view: The dataset.
        cards: Codec card per group key (absent: the codec is not registered here).
        samples: Players per group key.
        quality: The quality table, or None when it was not measured.
        figure: Relative path of the spectrogram grid, or None.
        figure_utt: The utterance the grid shows.
        hours: (hours, estimated) per group key (`group_hours`).
        links: (text, relative path) of files beside the page (DATASET.md, quality.csv, manifest.csv).
        generated: Who and when (`ncst 0.1.0, 2026-01-01 12:00 UTC`).
    """

    view: DatasetView
    cards: Mapping[str, CodecCard] = field(default_factory=dict)
    samples: Mapping[str, Sequence[Sample]] = field(default_factory=dict)
    quality: QualityTable | None = None
    figure: str | None = None
    figure_utt: str = ""
    hours: Mapping[str, tuple[float, bool]] = field(default_factory=dict)
    links: Sequence[tuple[str, str]] = ()
    generated: str = ""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _url(rel: str) -> str:
    return _e(quote(rel, safe="/"))


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _anchor(set_name: str) -> str:
    return "set-" + "".join(c if c.isalnum() else "-" for c in set_name)


def render_card_html(page: CardPage) -> str:
    """The whole page as one string."""
    view = page.view
    n_files = sum(len(g.files) for g in view.groups)
    hours = sum(page.hours.get(g.key, (0.0, False))[0] for g in view.groups)
    estimated = any(page.hours.get(g.key, (0.0, False))[1] for g in view.groups)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(view.title)}: dataset card</title><style>{_STYLE}</style></head><body><main>",
        f"<h1>{_e(view.title)}</h1>",
        f'<p class="muted">{_e(view.layout)} layout, {n_files} files in {len(view.groups)} classes and sets, '
        f"{'about ' if estimated else ''}{hours:.3f} h of audio. {_e(page.generated)}</p>",
    ]
    if view.random_weight_files:
        parts.append(
            f'<p class="warn" id="random-weights">RANDOM WEIGHTS: {view.random_weight_files} of {len(view.rows)} '
            "files were made with randomly initialised codecs. They are for smoke tests only, not a dataset.</p>"
        )
    nav = ['<a href="#overview">overview</a>']
    if page.figure:
        nav.append('<a href="#spectrograms">spectrograms</a>')
    if page.quality is not None:
        nav.append('<a href="#quality">quality</a>')
    nav += [f'<a href="#{_anchor(s)}">{_e(s)}</a>' for s in view.sets]
    nav += [f'<a href="{_url(rel)}">{_e(text)}</a>' for text, rel in page.links]
    parts.append("<nav>" + " ".join(nav) + "</nav>")
    parts += _overview(page)
    if page.figure:
        parts += [
            '<h2 id="spectrograms">One utterance through every class</h2>',
            f'<p class="muted">Utterance <code>{_e(page.figure_utt)}</code>; one dB scale for all panels; grey marks '
            "frequencies above a file's Nyquist frequency.</p>",
            f'<img class="fig" src="{_url(page.figure)}" alt="spectrograms of {_e(page.figure_utt)}">',
        ]
    if page.quality is not None:
        parts += _quality(page.quality)
    for set_name in view.sets:
        parts.append(f'<h2 id="{_anchor(set_name)}">{_e(set_name)}</h2>')
        for group in view.groups:
            if group.set_name == set_name:
                parts += _group(page, group)
    parts += [f"</main><script>{_SCRIPT}</script></body></html>", ""]
    return "\n".join(parts)


def _hours(page: CardPage, group: ClassGroup) -> str:
    hours, estimated = page.hours.get(group.key, (0.0, False))
    return f"{'~' if estimated else ''}{hours:.3f}"


def _overview(page: CardPage) -> list[str]:
    rows = [
        '<h2 id="overview">Classes and sets</h2><table><tr><th>set</th><th>class</th><th>codec</th><th>files</th>'
        "<th>hours</th><th>rate (Hz)</th><th>card kbps</th><th>measured kbps</th><th>weights</th></tr>"
    ]
    measured = {(r.set_name, r.class_id, r.codec_spec): r for r in page.quality.rows} if page.quality else {}
    for g in page.view.groups:
        card = page.cards.get(g.key)
        q = measured.get((g.set_name, g.class_id, g.codec_spec))
        bitrate = None if q is None or q.measured_bitrate_bps is None else q.measured_bitrate_bps / 1000
        weights = sorted({f.row.weights for f in g.files if f.row is not None})
        rows.append(
            f"<tr><td>{_e(g.set_name)}</td><td>{g.class_id} {_e(g.name.split(' (')[0])}</td>"
            f"<td><code>{_e(g.codec_spec or '-')}</code></td><td class=n>{len(g.files)}</td>"
            f"<td class=n>{_hours(page, g)}</td><td class=n>{card.sample_rate_hz if card else '-'}</td>"
            f"<td class=n>{_num(card.effective_bitrate_bps / 1000 if card else None, 2)}</td>"
            f"<td class=n>{_num(bitrate, 2)}</td><td>{_e(', '.join(weights) or '-')}</td></tr>"
        )
    return rows + ["</table>"]


def _quality(table: QualityTable) -> list[str]:
    rows = [
        '<h2 id="quality">Quality against the real recording</h2><table><tr><th>set</th><th>class</th>'
        "<th>codec</th><th>measured</th><th>STOI</th><th>PESQ-WB</th><th>SI-SDR (dB)</th><th>LSD (dB)</th></tr>"
    ]
    for r in table.rows:
        rows.append(
            f"<tr><td>{_e(r.set_name)}</td><td>{r.class_id} {_e(class_name(r.class_id))}</td>"
            f"<td><code>{_e(r.codec_spec or '-')}</code></td>"
            f"<td class=n>{r.measured}/{r.files}</td><td class=n>{_num(r.stoi, 3)}</td>"
            f"<td class=n>{_num(r.pesq_wb, 2)}</td><td class=n>{_num(r.si_sdr_db, 1)}</td>"
            f"<td class=n>{_num(r.lsd_db, 2)}</td></tr>"
        )
    rows += ["</table>", f'<p class="muted">{_e(quality_note(table))}</p>']
    return rows


def _group(page: CardPage, group: ClassGroup) -> list[str]:
    card = page.cards.get(group.key)
    out = [f'<div class="cls" id="{_e(_anchor(group.key))}"><h3>{group.class_id} {_e(group.name)}</h3>']
    out.append(f'<p class="muted">{len(group.files)} files, {_hours(page, group)} h</p>')
    if card is not None:
        fields = [
            ("family", card.family), ("sample rate", f"{card.sample_rate_hz} Hz"),
            ("codebooks", f"{card.n_quantizers} x {card.codebook_size} entries at {card.frame_rate_hz:g} frames/s"),
            ("bitrate", f"{card.nominal_bitrate_bps / 1000:g} kbps nominal, {card.effective_bitrate_bps / 1000:g} "
                        "kbps effective"),
            ("quantiser / decoder", f"{card.quantizer} / {card.decoder_type}"),
            ("checkpoint", card.checkpoint), ("licence", card.licence),
        ]  # fmt: skip
        out.append("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in fields) + "</dl>")
        if card.notes:
            out.append(f"<details><summary>notes</summary><p>{_e(card.notes)}</p></details>")
    samples = page.samples.get(group.key, ())
    if samples:
        head = "<th>recording</th>" if group.is_real else "<th>real (source)</th><th>through this codec</th>"
        out.append(f"<table><tr><th>utterance</th>{head}</tr>")
        for s in samples:
            fake = f'<audio controls preload="metadata" src="{_url(s.fake)}"></audio>'
            if group.is_real:
                cells = f"<td>{fake}</td>"
            else:
                real = f'<audio controls preload="metadata" src="{_url(s.real)}"></audio>' if s.real else "not found"
                cells = f"<td>{real}</td><td>{fake}</td>"
            out.append(f'<tr><td><code title="{_e(s.fake)}">{_e(s.utt_id)}</code></td>{cells}</tr>')
        out.append("</table>")
    out.append("</div>")
    return out
