"""One utterance through every codec: a grid of spectrograms on one dB scale, with a colourbar and a kHz axis.

Each panel has the same time resolution (32 ms Hann window, 8 ms hop, whatever the file's rate) and the
same frequency axis (up to the highest Nyquist frequency among the files), so a codec that cuts the band
or smears onsets shows it against its neighbours. Colours share one scale: the loudest bin of all panels
is 0 dB and the scale spans 80 dB below it. Grey above a panel's band marks frequencies beyond its file's
Nyquist frequency.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.signal import stft

from ncst.audio import read_audio
from ncst.cards.samples import MAX_AUDIO_BYTES
from ncst.errors import AudioError

__all__ = ["DYNAMIC_RANGE_DB", "plot_spectrogram_grid"]

log = logging.getLogger(__name__)

#: Decibels shown below the loudest bin of the grid.
DYNAMIC_RANGE_DB = 80.0
_WINDOW_S = 0.032


def _spectrogram(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times s, frequencies kHz, power dB) of a file's mono downmix."""
    if path.is_file() and path.stat().st_size > MAX_AUDIO_BYTES:
        raise AudioError(f"{path}: larger than {MAX_AUDIO_BYTES} bytes; not drawn")
    audio, rate = read_audio(path)
    n_fft = max(64, int(round(_WINDOW_S * rate)))
    if audio.size < n_fft:
        audio = np.pad(audio, (0, n_fft - audio.size))
    freqs, times, spec = stft(audio, fs=rate, nperseg=n_fft, noverlap=n_fft - n_fft // 4)
    power_db = 10.0 * np.log10(np.abs(spec) ** 2 + 1e-12)
    return times, freqs / 1000.0, power_db


def plot_spectrogram_grid(panels: Sequence[tuple[str, Path]], target: Path, *, title: str = "") -> Path | None:
    """Draws one panel per (title, audio file) into a PNG at `target`; None when no file could be read.

    Files that cannot be decoded are left out with a warning (a card must not fail on one bad file).
    """
    data = []
    for name, path in panels:
        try:
            data.append((name, *_spectrogram(path)))
        except AudioError as err:
            log.warning("spectrogram of %s left out: %s", path, err)
    if not data:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top_db = max(float(d[3].max()) for d in data)
    top_khz = max(float(d[2][-1]) for d in data)
    ncols = min(4, len(data))
    nrows = math.ceil(len(data) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols + 1.2, 2.5 * nrows + 0.6), squeeze=False, sharex=True, sharey=True,
        layout="constrained",
    )  # fmt: skip
    mesh = None
    for ax, (name, times, freqs, power_db) in zip(axes.flat, data):
        mesh = ax.pcolormesh(
            times, freqs, power_db - top_db, vmin=-DYNAMIC_RANGE_DB, vmax=0.0, cmap="magma", shading="auto",
            rasterized=True,
        )  # fmt: skip
        ax.set_title(name, fontsize=10)
        ax.set_facecolor("#d9dde2")  # above a file's Nyquist frequency: no data
        ax.set_ylim(0.0, top_khz)
        ax.tick_params(labelsize=9)
    for ax in axes.flat[len(data) :]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel("frequency (kHz)", fontsize=9)
    for col in range(ncols):
        last = max(r for r in range(nrows) if r * ncols + col < len(data))
        axes[last, col].set_xlabel("time (s)", fontsize=9)
        axes[last, col].xaxis.set_tick_params(labelbottom=True)
    if mesh is None:  # cannot happen: `data` is not empty
        raise ValueError("no panel drawn")
    bar = fig.colorbar(mesh, ax=axes, shrink=0.9 if nrows > 1 else 1.0, pad=0.01)
    bar.set_label("power (dB re. loudest bin)", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(target)
    return target
