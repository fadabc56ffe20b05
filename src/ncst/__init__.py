"""ncst: Neural Codec Source Tracing.

Rebuilds the ST-Codecfake dataset (Xie et al., "Neural Codec Source Tracing: Toward Comprehensive
Attribution in Open-Set Condition", arXiv 2501.06514) by resynthesising real speech through neural
audio codecs, and scores source-tracing models on the paper's four protocols.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
