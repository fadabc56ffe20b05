"""The dataset card written with every recipe build: `DATASET.md` plus one spectrogram figure.

The card says what is in the folder (files and hours per subset and class), how it was made (codec table
with the bitrate measured from the codes of this build, weights, seed, split origin), what is missing,
and under which licences the sources are. A build with random weights is marked at the top.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ncst.build_dataset.records import ProvenanceRow
from ncst.io import atomic_write_text
from ncst.recipes.plan import RecipePlan

__all__ = ["CORPUS_LICENCES", "write_dataset_card", "plot_spectrograms"]

log = logging.getLogger(__name__)

CARD_FILE = "DATASET.md"
#: What each pairing means, for the card's reader.
_PAIRING_NOTE = {
    "paired": "every class of a set resynthesises the same real utterances as class 0",
    "independent": "each class of train and dev drew its own utterances",
}
FIGURE_FILE = "DATASET_spectrograms.png"

#: Source corpora: name, where it comes from, licence.
CORPUS_LICENCES: dict[str, tuple[str, str]] = {
    "vctk": ("CSTR VCTK Corpus 0.92 (Edinburgh DataShare 10283/3443)", "CC BY 4.0"),
    "aishell3": ("AISHELL-3 (OpenSLR 93)", "Apache-2.0"),
    "ncssd": ("NCSSD R-EN/R-ZH (huggingface.co/datasets/walkerhyf/NCSSD, gated)", "CC BY-NC 4.0, research use"),
}


def write_dataset_card(
    out: Path, plan: RecipePlan, rows: Sequence[ProvenanceRow], *, corpora_paths: Mapping[str, Path | None]
) -> Path:
    """Writes `DATASET.md` (and the spectrogram figure) into the build folder; returns the card path."""
    by_file = {r.file: r for r in rows}
    recipe = plan.recipe
    random_rows = sum(1 for r in rows if r.weights == "random")
    lines = [f"# {recipe.title or recipe.name}", ""]
    if random_rows:
        lines += [
            f"> **RANDOM WEIGHTS**: {random_rows} of {len(rows)} files were made with randomly initialised codecs. "
            "They are for smoke tests only, not a dataset.",
            "",
        ]
    present = [f for f in plan.files if f.job.rel_path in by_file]
    total_s = sum(by_file[f.job.rel_path].output_samples / by_file[f.job.rel_path].sample_rate_hz for f in present)
    lines += [
        f"Recipe `{recipe.name}` ({recipe.path}); split: {plan.split_origin}; pairing: {plan.pairing} "
        f"({_PAIRING_NOTE.get(plan.pairing, plan.pairing)}); seed {rows[0].seed if rows else '-'}.",
        f"{len(present)} of {len(plan.files)} planned files present, {total_s / 3600:.3f} h of audio.",
        "",
        "## Files per folder and class",
        "",
        "| folder | label file | class | codec | planned | present | duration (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str, int, str], list[float | None]] = {}
    for f in plan.files:
        row = by_file.get(f.job.rel_path)
        key = (f.folder, f.label_file, f.class_id, f.job.card.spec)
        groups.setdefault(key, []).append(row.output_samples / row.sample_rate_hz if row else None)
    for (folder, label_file, class_id, spec), durations in groups.items():
        done = [d for d in durations if d is not None]
        lines.append(
            f"| {folder} | {label_file} | {class_id} | {spec} | {len(durations)} | {len(done)} | {sum(done):.1f} |"
        )
    lines += ["", "## Codecs", "", "| spec | class | rate (Hz) | n_q | card bps | measured bps | weights | licence |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    cards = {f.job.card.spec: (f.job.card, f.class_id) for f in plan.files}
    bitrates: dict[str, list[float]] = {}
    weights: dict[str, set[str]] = {}
    for r in rows:  # one pass over provenance
        if "measured_bitrate_bps" in r.extra:
            bitrates.setdefault(r.codec_spec, []).append(float(r.extra["measured_bitrate_bps"]))
        weights.setdefault(r.codec_spec, set()).add(r.weights)
    for spec, (card, class_id) in cards.items():
        measured = f"{np.mean(bitrates[spec]):.1f}" if spec in bitrates else "-"
        used = ", ".join(sorted(weights.get(spec, ()))) or "-"
        lines.append(
            f"| {spec} | {class_id} | {card.sample_rate_hz} | {card.n_quantizers} | {card.effective_bitrate_bps:g} | "
            f"{measured} | {used} | {card.licence} |"
        )
    deviations = [
        (spec, str(card.extra["deviation"])) for spec, (card, _) in cards.items() if card.extra.get("deviation")
    ]
    if deviations:
        lines += ["", "## Deviations from the paper", ""] + [f"- `{spec}`: {text}" for spec, text in deviations]
    if plan.missing_codecs or plan.skipped_subsets:
        lines += ["", "## Not built", ""]
        for spec, folders in sorted(plan.missing_codecs.items()):
            lines.append(f"- codec `{spec}` is not in the registry: {', '.join(sorted(set(folders)))}")
        for folder, reason in sorted(plan.skipped_subsets.items()):
            lines.append(f"- `{folder}`: {reason}")
    lines += ["", "## Sources and licences", "", "| corpus | source | licence | path |", "|---|---|---|---|"]
    for name, path in corpora_paths.items():
        source, licence = CORPUS_LICENCES.get(name, (name, "see the corpus"))
        lines.append(f"| {name} | {source} | {licence} | {path if path else 'not given'} |")
    lines += [
        "",
        "Generated audio inherits the licence of its source corpus; NCSSD-derived folders are non-commercial.",
    ]
    figure = plot_spectrograms(out, plan, by_file)
    if figure is not None:
        lines += ["", "## One utterance through every codec", "", f"![spectrograms]({figure.name})"]
    path = out / CARD_FILE
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def plot_spectrograms(out: Path, plan: RecipePlan, by_file: Mapping[str, ProvenanceRow]) -> Path | None:
    """Plots the eval utterance that the most codecs have, through each of them; None if nothing is built."""
    from ncst.audio import read_audio

    per_utt: dict[str, dict[str, Path]] = {}
    for f in plan.files:
        if f.job.rel_path in by_file:
            per_utt.setdefault(f.job.utterance.utt_id, {}).setdefault(
                f"{f.class_id:02d} {f.job.card.spec}", out / f.job.rel_path
            )
    if not per_utt:
        return None
    utt_id = max(sorted(per_utt), key=lambda u: len(per_utt[u]))
    files = per_utt[utt_id]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(files), 1, figsize=(8, 1.6 * len(files)), squeeze=False)
    for ax, (spec, path) in zip(axes[:, 0], sorted(files.items())):
        audio, rate = read_audio(path)
        n_fft = 512 if rate <= 24000 else 1024
        if audio.size < n_fft:
            audio = np.pad(audio, (0, n_fft - audio.size))
        ax.specgram(audio, NFFT=n_fft, Fs=rate, noverlap=n_fft // 2, cmap="magma")
        ax.set_ylabel("Hz")
        ax.set_title(f"class {spec}  ({path.relative_to(out)})", fontsize=8)
    axes[-1, 0].set_xlabel("s")
    fig.suptitle(f"utterance {utt_id}", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    target = out / FIGURE_FILE
    tmp = target.with_name(f".{target.name}.tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(target)
    return target
