"""Graph-attention building blocks shared by AASIST and the W2V2-AASIST back end.

AASIST: Jung et al., "AASIST: Audio Anti-Spoofing using Integrated Spectro-Temporal Graph Attention
Networks", ICASSP 2022 (arXiv 2110.01200). The layer shapes, hyperparameters and parameter counts follow
`docs/reference_system.md` §8 (which describes clovaai/aasist and the ST-Codecfake reference, commit 4e099b5);
the code is our own.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GraphAttention", "HeteroGraphAttention", "GraphPool", "ResidualBlock", "SpectroTemporalGraph"]

log = logging.getLogger(__name__)


def _pairwise(x: Tensor) -> Tensor:
    """All pairwise element-wise products: `[B, N, D]` -> `[B, N, N, D]`."""
    return x.unsqueeze(2) * x.unsqueeze(1)


def _batch_norm_nodes(bn: nn.BatchNorm1d, x: Tensor) -> Tensor:
    """BatchNorm1d over the feature axis of `[B, N, D]` node features."""
    shape = x.shape
    return bn(x.reshape(-1, shape[-1])).reshape(shape)


class GraphAttention(nn.Module):
    """Homogeneous graph attention: `A = softmax_j(w^T tanh(W_a(h_i * h_j)) / tau)`, `h' = W1 A h + W2 h`.

    Input and output are `[B, N, in_dim]` and `[B, N, out_dim]`; BatchNorm1d and SELU follow.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float) -> None:
        super().__init__()
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_weight = nn.Parameter(torch.empty(out_dim, 1))
        nn.init.xavier_normal_(self.att_weight)
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.input_drop = nn.Dropout(0.2)
        self.temperature = temperature

    def forward(self, x: Tensor) -> Tensor:
        x = self.input_drop(x)
        scores = torch.tanh(self.att_proj(_pairwise(x))) @ self.att_weight  # [B, N, N, 1]
        att = torch.softmax(scores / self.temperature, dim=-2).squeeze(-1)
        out = self.proj_with_att(att @ x) + self.proj_without_att(x)
        return F.selu(_batch_norm_nodes(self.bn, out))


class HeteroGraphAttention(nn.Module):
    """Heterogeneous stacking graph attention (HS-GAL) over temporal and spectral nodes plus a master node.

    `forward(x_t [B, Nt, in], x_s [B, Ns, in], master [B or 1, 1, in])` returns the updated temporal
    nodes, spectral nodes and master node, each with `out_dim` features.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float) -> None:
        super().__init__()
        self.proj_type1 = nn.Linear(in_dim, in_dim)
        self.proj_type2 = nn.Linear(in_dim, in_dim)
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_proj_master = nn.Linear(in_dim, out_dim)
        self.att_weight11 = nn.Parameter(torch.empty(out_dim, 1))
        self.att_weight22 = nn.Parameter(torch.empty(out_dim, 1))
        self.att_weight12 = nn.Parameter(torch.empty(out_dim, 1))
        self.att_weight_master = nn.Parameter(torch.empty(out_dim, 1))
        for w in (self.att_weight11, self.att_weight22, self.att_weight12, self.att_weight_master):
            nn.init.xavier_normal_(w)
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.proj_with_att_master = nn.Linear(in_dim, out_dim)
        self.proj_without_att_master = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.input_drop = nn.Dropout(0.2)
        self.temperature = temperature

    def forward(self, x_t: Tensor, x_s: Tensor, master: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        n_t = x_t.shape[1]
        x = torch.cat([self.proj_type1(x_t), self.proj_type2(x_s)], dim=1)
        x = self.input_drop(x)
        # Node attention: one weight vector per block (T-T, S-S, and both cross blocks).
        hidden = torch.tanh(self.att_proj(_pairwise(x)))  # [B, N, N, out]
        scores = hidden @ self.att_weight12
        scores[:, :n_t, :n_t] = hidden[:, :n_t, :n_t] @ self.att_weight11
        scores[:, n_t:, n_t:] = hidden[:, n_t:, n_t:] @ self.att_weight22
        att = torch.softmax(scores / self.temperature, dim=-2).squeeze(-1)  # [B, N, N]
        # Master update from the pre-update nodes.
        m_scores = torch.tanh(self.att_proj_master(x * master)) @ self.att_weight_master  # [B, N, 1]
        m_att = torch.softmax(m_scores / self.temperature, dim=-2).squeeze(-1).unsqueeze(1)  # [B, 1, N]
        master = self.proj_with_att_master(m_att @ x) + self.proj_without_att_master(master)
        nodes = self.proj_with_att(att @ x) + self.proj_without_att(x)
        nodes = F.selu(_batch_norm_nodes(self.bn, nodes))
        return nodes[:, :n_t], nodes[:, n_t:], master


class GraphPool(nn.Module):
    """Keeps the `max(int(N * ratio), 1)` nodes with the highest sigmoid score, scaled by that score."""

    def __init__(self, ratio: float, in_dim: int, dropout: float) -> None:
        super().__init__()
        self.ratio = ratio
        self.proj = nn.Linear(in_dim, 1)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, h: Tensor) -> Tensor:
        scores = torch.sigmoid(self.proj(self.drop(h)))  # [B, N, 1]
        keep = max(int(h.shape[1] * self.ratio), 1)
        _, idx = torch.topk(scores, keep, dim=1)
        return torch.gather(h * scores, 1, idx.expand(-1, -1, h.shape[-1]))


class ResidualBlock(nn.Module):
    """AASIST encoder block on `[B, C, F, T]`: two 2x3 convolutions, a shortcut, optional (1, 3) max-pool.

    As in the reference (and clovaai/aasist), `conv1` reads the block's raw input; `bn1` is computed by
    the reference but unused, so we keep it as a parameter-only module to match the parameter count.
    """

    def __init__(self, in_ch: int, out_ch: int, *, first: bool, pool: bool) -> None:
        super().__init__()
        self.bn1 = None if first else nn.BatchNorm2d(in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, kernel_size=(2, 3), padding=(1, 1))
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, kernel_size=(2, 3), padding=(0, 1))
        self.downsample = nn.Conv2d(in_ch, out_ch, kernel_size=(1, 3), padding=(0, 1)) if in_ch != out_ch else None
        self.pool = nn.MaxPool2d((1, 3)) if pool else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(F.selu(self.bn2(self.conv1(x))))
        identity = x if self.downsample is None else self.downsample(x)
        return self.pool(out + identity)


def make_encoder(*, pool: bool) -> nn.Sequential:
    """The six residual blocks: channels 1-32-32-64-64-64-64."""
    channels = [(1, 32), (32, 32), (32, 64), (64, 64), (64, 64), (64, 64)]
    return nn.Sequential(*(ResidualBlock(i, o, first=k == 0, pool=pool) for k, (i, o) in enumerate(channels)))


class SpectroTemporalGraph(nn.Module):
    """Graph part of AASIST: GAT on spectral and temporal nodes, two HS-GAL branches, 160-d readout.

    `forward(e_s [B, Ns, 64], e_t [B, Nt, 64])` returns `(embedding [B, 160], logits [B, n_classes])`.
    The spectral nodes must already include the positional embedding.
    """

    def __init__(self, *, pool_ratios: tuple[float, float, float, float], n_classes: int = 7) -> None:
        super().__init__()
        dim0, dim1 = 64, 32
        self.master1 = nn.Parameter(torch.randn(1, 1, dim0))
        self.master2 = nn.Parameter(torch.randn(1, 1, dim0))
        self.gat_s = GraphAttention(dim0, dim0, temperature=2.0)
        self.gat_t = GraphAttention(dim0, dim0, temperature=2.0)
        self.hs_gal11 = HeteroGraphAttention(dim0, dim1, temperature=100.0)
        self.hs_gal12 = HeteroGraphAttention(dim1, dim1, temperature=100.0)
        self.hs_gal21 = HeteroGraphAttention(dim0, dim1, temperature=100.0)
        self.hs_gal22 = HeteroGraphAttention(dim1, dim1, temperature=100.0)
        self.pool_s = GraphPool(pool_ratios[0], dim0, 0.3)
        self.pool_t = GraphPool(pool_ratios[1], dim0, 0.3)
        self.pool_hs1 = GraphPool(pool_ratios[2], dim1, 0.3)
        self.pool_ht1 = GraphPool(pool_ratios[2], dim1, 0.3)
        self.pool_hs2 = GraphPool(pool_ratios[2], dim1, 0.3)
        self.pool_ht2 = GraphPool(pool_ratios[2], dim1, 0.3)
        self.drop_way = nn.Dropout(0.2)
        self.drop = nn.Dropout(0.5)
        self.out_layer = nn.Linear(5 * dim1, n_classes)

    def _branch(
        self, first: HeteroGraphAttention, second: HeteroGraphAttention, pools: tuple[GraphPool, GraphPool],
        out_t: Tensor, out_s: Tensor, master: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
        t1, s1, m1 = first(out_t, out_s, master)
        s1, t1 = pools[0](s1), pools[1](t1)
        t_aug, s_aug, m_aug = second(t1, s1, m1)
        return self.drop_way(t1 + t_aug), self.drop_way(s1 + s_aug), self.drop_way(m1 + m_aug)

    def forward(self, e_s: Tensor, e_t: Tensor) -> tuple[Tensor, Tensor]:
        out_s = self.pool_s(self.gat_s(e_s))
        out_t = self.pool_t(self.gat_t(e_t))
        t1, s1, m1 = self._branch(
            self.hs_gal11, self.hs_gal12, (self.pool_hs1, self.pool_ht1), out_t, out_s, self.master1
        )
        t2, s2, m2 = self._branch(
            self.hs_gal21, self.hs_gal22, (self.pool_hs2, self.pool_ht2), out_t, out_s, self.master2
        )
        out_t, out_s, master = torch.maximum(t1, t2), torch.maximum(s1, s2), torch.maximum(m1, m2)
        embedding = torch.cat(
            [
                out_t.abs().amax(dim=1),
                out_t.mean(dim=1),
                out_s.abs().amax(dim=1),
                out_s.mean(dim=1),
                master.squeeze(1),
            ],
            dim=1,
        )
        embedding = self.drop(embedding)
        return embedding, self.out_layer(embedding)
