"""`run_demo()`: the whole pipeline offline in minutes, from the bundled demo corpus to the four protocol tables.

Steps: cut the demo corpus into short clips; resynthesise them through the registry's codecs with random
weights (`build()`, resumable) into a miniature of the official ST-Codecfake layout; train Mel-LCNN for a few
epochs on CPU; write dumps for every set; score all four protocols; write one report linking their tables
and plots. Every step resumes, so a rerun after a kill continues where it stopped.

The numbers measure nothing but the pipeline: random-weight codecs, a few dozen one-second clips, a model
trained for a handful of steps. The ALM sets are stand-ins (copies of codec outputs of the matching class),
and sets whose codec or corpus is not available are left out and named in the report.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ncst.audio import read_audio, resample, write_audio_atomic
from ncst.corpora import read_demo
from ncst.corpora.base import Utterance
from ncst.corpora.manifest import write_manifest
from ncst.io import atomic_write_text

__all__ = ["DemoConfig", "DemoResult", "ExtensionClass", "run_demo", "make_clips", "choose_codecs", "extension_classes"]

log = logging.getLogger(__name__)

#: Reports a stage: (name, message).
StageCallback = Callable[[str, str], None]
_RATE = 16_000
# Cheapest first (measured on random weights); the demo uses one class of 8-11 besides WavTokenizer (7).
_OOD_PREFERENCE = ("soundstream", "audiodec", "dac")
_SPLIT_SIZES = {"train": 6, "dev": 2, "eval": 3, "ncssd": 3}
_ALM_STANDINS = {"moshi": ("ncssd", 1), "mini-omni": ("ncssd", 6), "speechgpt-gen": ("eval", 2), "valle": ("eval", 4)}


@dataclass(frozen=True)
class DemoConfig:
    """Settings of the demo (defaults: about five minutes on two busy cores)."""

    out_dir: Path = Path("ncst_demo")
    clip_s: float = 1.0
    epochs: int = 6
    batch_size: int = 8
    workers: int = 2
    seed: int = 0
    n_bootstrap: int = 200
    model_config: dict[str, int] = field(default_factory=dict)
    split_sizes: dict[str, int] = field(default_factory=lambda: dict(_SPLIT_SIZES))
    #: Extra OOD classes: `ncst.recipes.class_ids.AddedCodec`s (`--add-codec SPEC=OOD`).
    add_codecs: tuple[Any, ...] = ()
    #: A recipe (built-in name or TOML path) whose classes beyond st-codecfake's become extra OOD classes.
    recipe: str | None = None


@dataclass(frozen=True, slots=True)
class ExtensionClass:
    """An OOD class beyond the paper's 0-11 in the demo: label file `eval_ood<id>.txt`, audio in `eval_ood/`."""

    class_id: int
    spec: str

    @property
    def label_name(self) -> str:
        return f"eval_ood{self.class_id}"


@dataclass(slots=True)
class DemoResult:
    """Where the demo's outputs are, and what it could not make."""

    report: Path
    data_dir: Path
    checkpoint: Path
    protocol_reports: dict[str, Path]
    missing: list[str]
    timings_s: dict[str, float]


def make_clips(out_dir: Path, clip_s: float, sizes: dict[str, int], seed: int = 0) -> dict[str, list[Utterance]]:
    """Cuts the demo corpus into `clip_s`-second clips at 16 kHz and deals them to splits (seeded, disjoint)."""
    clips: list[Utterance] = []
    n = int(round(clip_s * _RATE))
    for utt in read_demo():
        audio, rate = read_audio(utt.path)
        audio = resample(audio, rate, _RATE)
        for k in range(len(audio) // n):
            piece = audio[k * n : (k + 1) * n]
            if float(np.sqrt(np.mean(piece**2))) < 1e-3:  # skip near-silent clips
                continue
            path = out_dir / f"{utt.utt_id}_c{k}.wav"
            if not path.is_file():
                write_audio_atomic(path, piece, _RATE)
            clips.append(Utterance(f"{utt.utt_id}_c{k}", path.absolute(), utt.speaker, "demo", utt.language))
    order = np.random.default_rng(seed).permutation(len(clips))
    need = sum(sizes.values())
    if need > len(clips):
        raise ValueError(f"the demo corpus gives {len(clips)} clips of {clip_s} s; the splits need {need}")
    splits, start = {}, 0
    for name, size in sizes.items():
        splits[name] = [clips[i] for i in sorted(order[start : start + size])]
        start += size
    return splits


def choose_codecs() -> tuple[dict[str, str], list[str]]:
    """Picks one registry variant per demo role; returns `(role -> codec spec, missing roles)`.

    Roles: ``id<k>`` (the official prefix of class k = 1-6), ``ood7`` (WavTokenizer), ``ood8-11`` (the
    cheapest available of classes 8-11), ``C3-1``..``C4-3`` (diff config) and ``small40``.
    """
    from ncst.classes import CLASSES
    from ncst.codecs import list_cards

    cards = list_cards()
    by_prefix = {c.file_prefix: c.spec for c in reversed(cards)}  # first variant of each prefix wins
    roles: dict[str, str] = {}
    missing: list[str] = []
    for cls in CLASSES:
        if 1 <= cls.class_id <= 7:
            role = f"id{cls.class_id}" if cls.class_id <= 6 else "ood7"
            if cls.file_prefix in by_prefix:
                roles[role] = by_prefix[cls.file_prefix]
            else:
                missing.append(f"class {cls.class_id} ({cls.family}): no codec registered")
    for key in _OOD_PREFERENCE:
        spec = next((c.spec for c in cards if c.spec.split("@")[0] == key and (c.class_id or 0) >= 8), None)
        if spec:
            roles["ood8-11"] = spec
            break
    else:
        missing.append("classes 8-11: no codec registered")
    for prefix in [f"C3-{i}" for i in range(1, 5)] + [f"C4-{i}" for i in range(1, 4)] + ["wavtokenizer_small40"]:
        if prefix in by_prefix:
            roles[prefix] = by_prefix[prefix]
        else:
            missing.append(f"{prefix}: no codec variant registered")
    return roles, missing


def extension_classes(config: DemoConfig) -> tuple[list[ExtensionClass], list[str]]:
    """The demo's extra OOD classes (from `config.recipe` and `config.add_codecs`) and what it leaves out.

    A recipe's classes beyond st-codecfake's (ids 12, ...) and each `--add-codec` become OOD classes with
    the ids `ncst.recipes.class_ids` gives them (an explicit id, else the next free one, new specs in sorted
    order). The demo builds OOD classes only: an ID class, a codec that is not registered, or one whose
    upstream package is not installed is named in the returned list instead. A spec given with
    `--add-codec` that no codec answers to is a typo, not a left-out class: it is refused before any work.

    Raises:
        RecipeError: A bad recipe or `--add-codec` (malformed, an id taken, a spec given twice, a codec that
            is not registered).
    """
    from ncst.codecs import get_card
    from ncst.codecs.contract import upstream_missing
    from ncst.errors import UnknownCodecError
    from ncst.recipes import RecipeError, load_recipe
    from ncst.recipes.class_ids import add_codecs_stably

    for added in config.add_codecs:
        try:
            get_card(added.spec)
        except UnknownCodecError as err:
            raise RecipeError(f"{added.describe()}: {err}; `ncst codecs list` names the registered codecs") from None
    base = load_recipe("st-codecfake")
    recipe = load_recipe(config.recipe) if config.recipe else base
    recipe = add_codecs_stably(recipe, list(config.add_codecs), {})
    extra: list[ExtensionClass] = []
    missing: list[str] = []
    for class_id, entry in sorted(recipe.classes.items()):
        if class_id in base.classes:
            continue
        if entry.set != "OOD":
            missing.append(f"class {class_id} ({entry.codec}, ID): the demo adds OOD classes only")
            continue
        try:
            card = get_card(entry.codec)
        except (UnknownCodecError, ImportError) as err:
            missing.append(f"class {class_id} ({entry.codec}): codec not available ({str(err)[:120]})")
            continue
        if upstream_missing(card):  # its build would fail every file: name it instead
            missing.append(f"class {class_id} ({card.spec}): {upstream_missing(card)}")
            continue
        extra.append(ExtensionClass(class_id, card.spec))
    return extra, missing


def _left_out(roles: dict[str, str], extra: list[ExtensionClass]) -> list[str]:
    """What the registry offers that the demo does not build: the other classes of 8-11, and unused codecs."""
    from ncst.classes import CLASSES
    from ncst.codecs import available_codecs, codec_class, parse_spec
    from ncst.codecs.registry import plugin_distribution
    from ncst.errors import UnknownCodecError

    used = {parse_spec(s).name for s in [*roles.values(), *(e.spec for e in extra)]}
    chosen = roles.get("ood8-11")
    stand_in = f"{chosen} stands for all of 8-11" if chosen else "none of 8-11 is built"
    others = [c for c in CLASSES if 8 <= c.class_id <= 11 and (chosen is None or c.key != parse_spec(chosen).name)]
    notes = [f"class {c.class_id} ({c.family}): {stand_in}" for c in others] if chosen else []
    class_keys = {c.key for c in CLASSES}
    for key in available_codecs():
        if key in used or key in class_keys:
            continue
        try:
            codec_class(key)
        except (UnknownCodecError, ImportError):
            continue
        dist = plugin_distribution(key)
        origin = f"plug-in {dist.name} {dist.version}" if dist else "registered"
        notes.append(f"codec {key} ({origin}): not built; add it with `ncst demo --add-codec {key}=OOD`")
    return notes


def _build(specs: list[str], clips: list[Utterance], work: Path, name: str, config: DemoConfig) -> Path:
    from ncst.build_dataset.runner import BuildConfig, build

    manifest = write_manifest(clips, work / f"{name}.csv")
    out = work / f"build_{name}"
    result = build(
        BuildConfig(codecs=tuple(specs), corpus=str(manifest), out_dir=out, weights="random", seed=config.seed,
                    workers=config.workers)
    )  # fmt: skip
    if result.failures:
        raise RuntimeError(f"demo build {name}: {len(result.failures)} files failed, e.g. {result.failures[0]}")
    return out / "wav"


def _place(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        return
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _write_taxonomy(root: Path, roles: dict[str, str], extra: Sequence[ExtensionClass]) -> None:
    """`taxonomy.csv` of the miniature: class id -> the codec spec that made it (reports name classes by it)."""
    from ncst.codecs import get_card
    from ncst.codecs.taxonomy import write_taxonomy_csv

    specs = {0: "real@16k", **{k: roles[f"id{k}"] for k in range(1, 7) if f"id{k}" in roles}}
    for role in ("ood7", "ood8-11"):
        if role in roles and get_card(roles[role]).class_id is not None:
            specs[int(get_card(roles[role]).class_id)] = roles[role]  # type: ignore[arg-type]
    specs.update({ext.class_id: ext.spec for ext in extra})
    write_taxonomy_csv(root, specs)


def _layout(
    root: Path,
    splits: dict[str, list[Utterance]],
    wavs: dict[str, Path],
    roles: dict[str, str],
    extra: Sequence[ExtensionClass] = (),
) -> None:
    """Places clips and codec outputs into the official layout and writes the label files."""
    from ncst.codecs import get_card

    prefix = {role: get_card(spec).file_prefix for role, spec in roles.items()}
    labels: dict[str, list[str]] = {}
    folder_of = {"train": "train", "dev": "dev", "eval": "eval_id"}
    for split, folder in folder_of.items():
        lines = labels.setdefault(folder, [])
        for utt in splits[split]:
            _place(utt.path, root / folder / f"{utt.utt_id}.wav")
            lines.append(f"{utt.utt_id}.wav real 0")
            for k in range(1, 7):
                if f"id{k}" in roles:
                    name = f"{prefix[f'id{k}']}_{utt.utt_id}.wav"
                    _place(wavs["main"] / name, root / folder / name)
                    lines.append(f"{name} fake {k}")
    for role, label_name in (("ood7", "eval_ood7"), ("ood8-11", "eval_ood8-11")):
        if role in roles:
            from ncst.codecs import get_card as card_of

            class_id = card_of(roles[role]).class_id
            lines = labels.setdefault(label_name, [])
            for utt in splits["eval"]:
                name = f"{prefix[role]}_{utt.utt_id}.wav"
                _place(wavs["eval"] / name, root / "eval_ood" / name)
                lines.append(f"{name} fake {class_id}")
    for ext in extra:  # an extension OOD class: its own label file, its audio next to classes 7-11
        lines = labels.setdefault(ext.label_name, [])
        for utt in splits["eval"]:
            name = f"{get_card(ext.spec).file_prefix}_{utt.utt_id}.wav"
            _place(wavs["eval"] / name, root / "eval_ood" / name)
            lines.append(f"{name} fake {ext.class_id}")
    for label_name, lines in labels.items():
        atomic_write_text(root / "label" / f"{label_name}.txt", "\n".join(lines) + "\n")
    _write_taxonomy(root, roles, extra)
    for set_folder, clips in (("19LA", "eval"), ("ITW", "eval"), ("NCSSD", "ncssd")):
        for utt in splits[clips]:
            _place(utt.path, root / "ID_unseen_real" / set_folder / f"{utt.utt_id}.wav")
    for role in [r for r in roles if r.startswith(("C3-", "C4-"))]:
        for utt in splits["eval"]:
            name = f"{role}_{utt.utt_id}.wav"
            _place(wavs["eval"] / name, root / "ID_diff_config" / role / name)
    for folder, role, where, clips in (
        ("ID_diff_source/NCSSD-mimi", "id1", "ncssd", "ncssd"),
        ("ID_diff_source/NCSSD-snac", "id6", "ncssd", "ncssd"),
        ("OOD_diff_source/NCSSD_wavtokenizer", "ood7", "ncssd", "ncssd"),
        ("OOD_diff_config/wavtokenizer_small40", "wavtokenizer_small40", "eval", "eval"),
    ):
        if role in roles:
            for utt in splits[clips]:
                name = f"{prefix[role]}_{utt.utt_id}.wav"
                _place(wavs[where] / name, root / folder / name)
    for alm, (clips, class_id) in _ALM_STANDINS.items():
        role = f"id{class_id}"
        if role in roles:
            src_dir = wavs["ncssd" if clips == "ncssd" else "main"]
            for utt in splits[clips]:
                name = f"{prefix[role]}_{utt.utt_id}.wav"
                _place(src_dir / name, root / "ALM" / alm / f"{alm}_{utt.utt_id}.wav")


def build_miniature(
    config: DemoConfig, progress: StageCallback | None = None
) -> tuple[Path, dict[str, str], list[str]]:
    """Builds the demo's miniature dataset root; returns `(root, role -> codec spec, missing)`.

    Extension OOD classes (`config.recipe`, `config.add_codecs`) get the role `ext<id>`.
    """
    out = Path(config.out_dir)
    work, root = out / "work", out / "data"
    extra, missing_extra = extension_classes(config)  # bad --add-codec / --recipe fail before any work
    splits = make_clips(work / "clips", config.clip_s, config.split_sizes, config.seed)
    roles, missing = choose_codecs()
    missing += missing_extra + _left_out(roles, extra)
    ids = [roles[r] for r in sorted(roles) if r.startswith("id")]
    evals = [roles[r] for r in sorted(roles) if r.startswith(("ood", "C3-", "C4-", "wavtokenizer_small40"))]
    evals += [e.spec for e in extra if e.spec not in evals]
    ncssd = [roles[r] for r in ("id1", "id6", "ood7") if r in roles]
    main_clips = splits["train"] + splits["dev"] + splits["eval"]
    wavs: dict[str, Path] = {}
    for name, specs, clips in (
        ("main", ids, main_clips),
        ("eval", evals, splits["eval"]),
        ("ncssd", ncssd, splits["ncssd"]),
    ):
        if progress:
            progress("build", f"{name}: {len(clips)} clips x {len(specs)} codecs ({', '.join(specs)})")
        wavs[name] = _build(specs, clips, work, name, config) if specs else work / f"build_{name}" / "wav"
    # Split "eval" outputs of ID codecs (for the ALM stand-ins) live in the main build.
    _layout(root, splits, wavs, roles, extra)
    roles.update({f"ext{e.class_id}": e.spec for e in extra})
    return root, roles, missing


def _ext_lines(roles: dict[str, str]) -> list[str]:
    """`ext12 = mycodec@16k (label/eval_ood12.txt)` for each extension role."""
    ext = sorted((int(r[3:]), s) for r, s in roles.items() if r.startswith("ext") and r[3:].isdigit())
    return [f"ext{c} = {s} (label/eval_ood{c}.txt)" for c, s in ext]


def _protocol_section(name: str, report_dir: Path, out: Path) -> list[str]:
    text = (report_dir / "report.md").read_text(encoding="utf-8")
    body = text.split("\n## Notes", 1)[0].splitlines()
    title = body[0].lstrip("# ") if body else name
    rel = report_dir.relative_to(out).as_posix()
    lines = [
        f"## {title}",
        "",
        f"Full report: [{rel}/report.md]({rel}/report.md) ([as a page]({rel}/report.html), plots with codec names)",
        "",
    ]
    lines += [line.replace("](", f"]({rel}/") if line.startswith("![") else line for line in body[1:]]
    lines += ["", *(f"![{png.stem}]({rel}/{png.name})" for png in sorted(report_dir.glob("*.png"))), ""]
    return lines


def run_demo(config: DemoConfig, progress: StageCallback | None = None) -> DemoResult:
    """Builds the miniature, trains Mel-LCNN (class and taxonomy heads), writes dumps, scores the four protocols
    and `taxonomy`, writes ``report.md``."""
    from ncst.benchmark.scoring import run_protocol
    from ncst.codecs.taxonomy import class_taxonomy_json
    from ncst.models.infer import write_dumps
    from ncst.models.train import TrainConfig, train
    from ncst.protocols import PROTOCOL_NAMES

    out = Path(config.out_dir)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    root, roles, missing = build_miniature(config, progress)
    timings["dataset"] = time.perf_counter() - t0

    from ncst.cards import card_after_build

    t = time.perf_counter()
    if progress:
        progress("card", "DATASET.html with players, spectrograms and quality per class")
    card = card_after_build(root)
    timings["card"] = time.perf_counter() - t

    t = time.perf_counter()
    if progress:
        progress("train", f"Mel-LCNN, {config.epochs} epochs, batch {config.batch_size}")
    train_cfg = TrainConfig(
        model="mel-lcnn",
        data_dir=root,
        out_dir=out / "model",
        epochs=config.epochs,
        batch_size=config.batch_size,
        seed=config.seed,
        model_config=dict(config.model_config),
        task="taxonomy",
        class_taxonomy=class_taxonomy_json(root),
    )  # fmt: skip  (one checkpoint: the class head for the four protocols, the axis heads for `taxonomy`)
    trained = train(train_cfg)
    timings["train"] = time.perf_counter() - t

    t = time.perf_counter()
    if progress:
        progress("dumps", "logits and embeddings of every set")
    dumps = write_dumps(trained.best_path, root, out / "dumps")
    timings["dumps"] = time.perf_counter() - t

    t = time.perf_counter()
    reports: dict[str, Path] = {}
    for name in (*PROTOCOL_NAMES, "taxonomy"):
        if progress:
            progress("score", name)
        run_protocol(
            name, out / "protocols" / name, dumps_dir=out / "dumps", data_dir=root, n_bootstrap=config.n_bootstrap,
            n_bootstrap_ood=min(config.n_bootstrap, 20), seed=config.seed, skip_missing=True,
        )  # fmt: skip
        reports[name] = out / "protocols" / name / "report.md"
    timings["score"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    model_rel = trained.best_path.relative_to(out).as_posix()
    dev_losses = ", ".join(f"{r['dev_loss']:.3f}" for r in trained.history)
    lines = [
        "# ncst demo report",
        "",
        "**These numbers show that the pipeline works end to end; they say nothing about the paper's accuracy.** "
        "The codecs run with random weights, the dataset is a few dozen one-second clips of the bundled demo "
        f"corpus, and Mel-LCNN trained for {config.epochs} epochs on them. The ALM sets are stand-ins "
        "(Moshi = Mimi and Mini-omni = SNAC outputs of the NCSSD stand-in clips; SpeechGPT-Gen = SpeechTokenizer "
        "and VALL-E = EnCodec outputs of the eval clips); the unseen-real sets are held-out real clips.",
        "",
        f"- dataset root: [{root.relative_to(out).as_posix()}]({root.relative_to(out).as_posix()}) "
        f"({sum(1 for _ in root.rglob('*.wav'))} files, sets: {', '.join(dumps)})",
        f"- codecs (random weights): {', '.join(f'{r} = {s}' for r, s in sorted(roles.items()))}",
        *(
            [f"- extension OOD classes (beyond the paper's 0-11): {', '.join(_ext_lines(roles))}"]
            if _ext_lines(roles)
            else []
        ),
        *(
            [
                f"- dataset card: [{card.html.relative_to(out).as_posix()}]({card.html.relative_to(out).as_posix()}) "
                "(listen to every class beside its source; quality per class in quality.csv)"
            ]
            if card is not None
            else []
        ),
        f"- not in this demo: {'; '.join(missing) if missing else 'nothing'}; the other-fake (voc) OOD condition "
        "needs ASVspoof 2019 / In-the-Wild spoofs, which are not bundled",
        f"- model: [{model_rel}]({model_rel}); dev loss per epoch: {dev_losses}",
        "- wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()),
        "",
    ]
    for name in reports:
        lines += _protocol_section(name, reports[name].parent, out)
    report = out / "report.md"
    atomic_write_text(report, "\n".join(lines) + "\n")
    return DemoResult(report, root, trained.best_path, reports, missing, timings)
