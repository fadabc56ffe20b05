"""Building ST-Codecfake-style data: plan jobs, run codecs, record provenance, resume, verify."""

from __future__ import annotations

from ncst.build_dataset.plan import Job, Shard, output_name, parse_shard, plan_jobs
from ncst.build_dataset.provenance import ProvenanceLog, ProvenanceRow, read_provenance
from ncst.build_dataset.runner import BuildConfig, BuildResult, build
from ncst.build_dataset.verify import VerifyReport, verify_build

__all__ = [
    "Job",
    "Shard",
    "output_name",
    "parse_shard",
    "plan_jobs",
    "ProvenanceLog",
    "ProvenanceRow",
    "read_provenance",
    "BuildConfig",
    "BuildResult",
    "build",
    "VerifyReport",
    "verify_build",
]
