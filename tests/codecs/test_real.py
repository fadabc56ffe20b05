from __future__ import annotations

import numpy as np
import torch

from ncst.codecs import get_card, get_codec
from ncst.codecs.conformance import check_codec


def test_real_is_the_real_class_and_exact_on_16_bit_samples(sine_16k: np.ndarray) -> None:
    card = get_card("real")
    assert (card.class_id, card.file_prefix, card.sample_rate_hz) == (0, "", 16000)
    codec = get_codec("real").load("random")
    x = torch.from_numpy(np.round(sine_16k * 32768) / 32768).unsqueeze(0)
    y = codec.resynthesize(x)
    assert y.shape == x.shape
    assert torch.equal(y, x.float())
    assert codec.encode(x).bitrate_bps() == 256000


def test_real_passes_conformance() -> None:
    report = check_codec("real", weights="random", duration_s=0.2)
    assert report.ok, report.to_dict()
