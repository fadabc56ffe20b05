"""Deep nearest neighbours (Sun et al., ICML 2022) as the ST-Codecfake reference configures it.

Score = the cosine similarity of the test embedding to its **k-th** nearest training embedding (k = 7),
i.e. the k-th largest ``<z, z_j>`` with ``z = x / ||x||`` and bank rows ``z_j = x_j / ||x_j|| + 1e-10``
(the reference adds the epsilon after dividing, to every component; in float32 it has no effect on
unit vectors). The reference searches with faiss ``IndexFlatIP`` (exact, brute force); here the same
exact search is a chunked ``matmul`` in torch followed by an exact grouped k-th largest selection, so
memory stays at one ``chunk x N_bank`` block (512 MB by default) instead of the full
``N_test x N_bank`` matrix (45 GB at 160k x 70k).

pytorch-ood's `KNN(None, k=7)` gives the Euclidean distance between normalised features, a monotone
decreasing function of the same cosine (``d^2 = 2 - 2 cos``), so rankings are identical; we do not call it
because it searches with scikit-learn's `NearestNeighbors`, which is several times slower at full scale.
The tests check the equality of rankings on small data.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

import torch
from numpy.typing import ArrayLike
from torch import Tensor

from ncst.benchmark.detectors.base import Detector, as_tensor
from ncst.errors import ProtocolError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["KNNDetector", "kth_largest_inner_product"]

log = logging.getLogger(__name__)

CHUNK_BYTES = 512 * 2**20
#: Columns per group in the k-th largest selection (see `_kth_largest_rows`).
GROUP_COLS = 64


def kth_largest_inner_product(
    queries: Tensor, bank: Tensor, k: int, *, chunk_bytes: int = CHUNK_BYTES, device: str | torch.device = "cpu"
) -> Tensor:
    """Returns, per query, the k-th largest inner product with the bank rows (exact).

    Args:
        queries: `[M, D]` float32.
        bank: `[N, D]` float32.
        k: Rank of the neighbour, 1 <= k <= N.
        chunk_bytes: Memory budget of one `[rows, N]` similarity block.
        device: Torch device for the products (``"cuda"`` if one is available and wanted).

    Returns:
        `[M]` float32 on the CPU.
    """
    if not 1 <= k <= bank.shape[0]:
        raise ProtocolError(f"k={k} must be between 1 and the bank size {bank.shape[0]}")
    rows = max(1, chunk_bytes // (4 * bank.shape[0]))
    bank_t = bank.to(device).T.contiguous()
    out = torch.empty(queries.shape[0], dtype=torch.float32)
    # One block reused for every chunk: a fresh 512 MB allocation per chunk costs page faults (about a
    # third of the KNN time on CPU, see benchmarks/ood_detectors_scale.py).
    block = torch.empty(min(rows, queries.shape[0]), bank.shape[0], dtype=torch.float32, device=device)
    for start in range(0, queries.shape[0], rows):
        chunk = queries[start : start + rows].to(device)
        sims = block[: chunk.shape[0]]
        torch.matmul(chunk, bank_t, out=sims)
        out[start : start + rows] = _kth_largest_rows(sims, k).cpu()
    return out


def _kth_largest_rows(sims: Tensor, k: int, group_cols: int = GROUP_COLS) -> Tensor:
    """Exact k-th largest value of each row of `sims` `[R, N]`, about 3x faster than a full-width topk.

    The columns are cut into groups of `group_cols`. Let t be the k-th largest group maximum: the k
    groups with the largest maxima hold k values >= t, and every value outside them is <= t, so the k
    largest values of the row can all be taken from those k groups (plus the leftover columns).
    """
    n_rows, n_cols = sims.shape
    n_groups = n_cols // group_cols
    if n_groups <= k:
        return sims.topk(k, dim=1).values[:, k - 1]
    full = n_groups * group_cols
    grouped = sims[:, :full].reshape(n_rows, n_groups, group_cols)
    best = grouped.amax(dim=2).topk(k, dim=1).indices
    cand = grouped.gather(1, best.unsqueeze(2).expand(n_rows, k, group_cols)).reshape(n_rows, k * group_cols)
    if full < n_cols:
        cand = torch.cat([cand, sims[:, full:]], dim=1)
    return cand.topk(k, dim=1).values[:, k - 1]


class KNNDetector(Detector):
    """k-th nearest-neighbour cosine similarity to the training bank; higher = ID.

    Args:
        k: Neighbour rank (the reference uses 7).
        chunk_bytes: Memory budget of one similarity block.
        device: Torch device for the search.
    """

    name: ClassVar[str] = "knn"
    requires_fit: ClassVar[bool] = True

    def __init__(self, k: int = 7, *, chunk_bytes: int = CHUNK_BYTES, device: str = "cpu") -> None:
        self.k = k
        self.chunk_bytes = chunk_bytes
        self.device = device
        self._bank: Tensor | None = None

    def fit_features(
        self, x: ArrayLike | Tensor, y: ArrayLike | Tensor, *, logits: ArrayLike | Tensor | None = None
    ) -> Self:
        """Stores the normalised bank `[N, D]`; labels and logits are not used."""
        bank = as_tensor(x, "bank embeddings")
        if bank.shape[0] < self.k:
            raise ProtocolError(f"KNN needs at least k={self.k} bank rows, got {bank.shape[0]}")
        self._bank = (bank / bank.norm(dim=1, keepdim=True) + 1e-10).contiguous()
        return self

    def score(self, x: ArrayLike | Tensor | None = None, *, logits: ArrayLike | Tensor | None = None) -> Tensor:
        """Returns the cosine similarity to the k-th nearest bank row `[N]`, higher = ID."""
        if self._bank is None:
            raise self._not_fitted()
        z = as_tensor(x, "embeddings")
        if z.shape[1] != self._bank.shape[1]:
            raise ProtocolError(f"embeddings have {z.shape[1]} dims, the bank has {self._bank.shape[1]}")
        z = z / z.norm(dim=1, keepdim=True)
        return kth_largest_inner_product(z, self._bank, self.k, chunk_bytes=self.chunk_bytes, device=self.device)
