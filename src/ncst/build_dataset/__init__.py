"""Building ST-Codecfake-style data: plan jobs, run codecs, record provenance, resume, verify.

Layers, each importable on its own: `plan` (jobs), `records` (provenance rows and failures), `provenance`
(the JSONL log), `labels` (manifest, label and failure files), `jobs` (running one job: torch and the
codecs), `executors` (where jobs run), `runner` (`build`), `verify`. The names below are imported on
first use, so `import ncst.build_dataset.labels` does not import torch or the codecs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ncst.build_dataset.plan import Job, Shard, output_name, parse_shard, plan_jobs
    from ncst.build_dataset.provenance import ProvenanceLog, read_provenance
    from ncst.build_dataset.records import JobFailure, ProvenanceRow
    from ncst.build_dataset.runner import BuildConfig, BuildResult, build
    from ncst.build_dataset.verify import VerifyReport, verify_build

_EXPORTS = {
    "Job": "plan",
    "Shard": "plan",
    "output_name": "plan",
    "parse_shard": "plan",
    "plan_jobs": "plan",
    "ProvenanceLog": "provenance",
    "read_provenance": "provenance",
    "JobFailure": "records",
    "ProvenanceRow": "records",
    "BuildConfig": "runner",
    "BuildResult": "runner",
    "build": "runner",
    "VerifyReport": "verify",
    "verify_build": "verify",
}

__all__ = [
    "Job",
    "Shard",
    "output_name",
    "parse_shard",
    "plan_jobs",
    "ProvenanceLog",
    "read_provenance",
    "JobFailure",
    "ProvenanceRow",
    "BuildConfig",
    "BuildResult",
    "build",
    "VerifyReport",
    "verify_build",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ncst.build_dataset' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ncst.build_dataset.{_EXPORTS[name]}"), name)
