"""OOD detectors of the open-set protocol (paper Table 5); every score is higher = in-distribution.

=============  ==========================================  =====================================
name           score                                        library
=============  ==========================================  =====================================
``msp``        max softmax probability                      pytorch-ood `MaxSoftmax` (negated)
``energy``     logsumexp of the logits                      pytorch-ood `EnergyBased` (negated)
``knn``        cosine to the 7th nearest bank embedding     torch, chunked exact search
``mahalanobis`` exp(-min class Mahalanobis distance/4096)   torch float64 (checked vs pytorch-ood)
``nsd``        energy x cosine to the mean scaled bank      torch closed form (checked vs NNGuide)
=============  ==========================================  =====================================
"""

from __future__ import annotations

from ncst.benchmark.detectors.base import Detector
from ncst.benchmark.detectors.energy import EnergyDetector
from ncst.benchmark.detectors.knn import KNNDetector
from ncst.benchmark.detectors.mahalanobis import MahalanobisDetector
from ncst.benchmark.detectors.msp import MSPDetector
from ncst.benchmark.detectors.nsd import NSDDetector
from ncst.errors import ProtocolError

__all__ = [
    "DETECTORS",
    "Detector",
    "EnergyDetector",
    "KNNDetector",
    "MahalanobisDetector",
    "MSPDetector",
    "NSDDetector",
    "make_detector",
]

#: Detector name -> class, in the paper's order.
DETECTORS: dict[str, type[Detector]] = {
    "msp": MSPDetector,
    "energy": EnergyDetector,
    "knn": KNNDetector,
    "mahalanobis": MahalanobisDetector,
    "nsd": NSDDetector,
}


def make_detector(name: str, **kwargs: object) -> Detector:
    """Builds a detector by name with its reference settings (KNN k = 7).

    Raises:
        ProtocolError: If the name is unknown.
    """
    try:
        cls = DETECTORS[name]
    except KeyError as err:
        raise ProtocolError(f"Unknown detector {name!r}; choose one of {list(DETECTORS)}") from err
    return cls(**kwargs)  # type: ignore[arg-type]
