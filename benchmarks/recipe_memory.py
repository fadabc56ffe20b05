"""Peak memory of a recipe build against the largest single codec it loads, measured side by side in one run.

The build holds one codec model at a time (`ncst.build_dataset.jobs.JobRunner`), so its peak should be
about the largest single codec plus the process baseline, not the sum of every codec. Each measurement
runs in a fresh process that reports its own maximum RSS (`resource.getrusage`, Linux kilobytes):

* `build`: `ncst build-recipe` on fake VCTK / AISHELL-3 / NCSSD trees (random weights, N files per class);
* `codec <spec>`: one process that only loads that codec (random weights) and runs one clip through it.

Prints each peak and `ratio = build peak / largest single-codec peak` (1.0 would be the ideal; the sum of
all codecs is printed too, for what a build that keeps every model would approach).

    python benchmarks/recipe_memory.py --per-class-limit 1 --subsets train
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_PEAK = "import resource, json; print(json.dumps({'peak_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))"

_BUILD = """
import sys
from ncst.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
""" + _PEAK

_CODEC = """
import sys, torch
torch.set_num_threads(1)
from ncst.codecs import get_codec
codec = get_codec(sys.argv[1]).load("random")
codec.resynthesize(torch.zeros(1, codec.card.sample_rate_hz // 2))
""" + _PEAK


def _peak_gb(code: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_kb"] / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-class-limit", type=int, default=1)
    parser.add_argument("--subsets", default="", help="comma-separated folders (default: the whole layout)")
    args = parser.parse_args()

    from ncst.corpora.fakes import write_aishell3, write_ncssd, write_vctk_092
    from ncst.recipes import load_recipe
    from ncst.recipes.plan import plan_recipe, read_corpora

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_vctk_092(base / "vctk")
        write_aishell3(base / "aishell3")
        write_ncssd(base / "ncssd")
        corpora = {"vctk": base / "vctk", "aishell3": base / "aishell3", "ncssd": base / "ncssd"}
        subsets = tuple(s for s in args.subsets.split(",") if s)
        plan = plan_recipe(load_recipe("st-codecfake"), read_corpora(corpora), subsets=subsets,
                           per_class_limit=args.per_class_limit)  # fmt: skip
        specs = sorted({f.job.card.spec for f in plan.files})
        cli = ["build-recipe", "--vctk", str(corpora["vctk"]), "--aishell3", str(corpora["aishell3"]),
               "--ncssd", str(corpora["ncssd"]), "--out", str(base / "st"), "--weights", "random",
               "--per-class-limit", str(args.per_class_limit), "--threads", "1", "--no-card"]  # fmt: skip
        if subsets:
            cli += ["--subsets", ",".join(subsets)]
        build = _peak_gb(_BUILD, *cli)
        codecs = {spec: _peak_gb(_CODEC, spec) for spec in specs}
    for spec, gb in sorted(codecs.items(), key=lambda kv: -kv[1]):
        print(f"codec {spec:28s} peak {gb:6.2f} GB")
    largest = max(codecs.values())
    print(f"build ({len(plan.files)} files, {len(specs)} codec specs) peak {build:.2f} GB")
    print(f"sum of single-codec peaks {sum(codecs.values()):.2f} GB")
    print(f"ratio={build / largest:.3f}  (build peak / largest single-codec peak)")


if __name__ == "__main__":
    main()
