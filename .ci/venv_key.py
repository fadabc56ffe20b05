"""Print the CI venv cache key: a hash of what decides the venv's contents.

Reads the build system, Python range, dependencies and optional dependencies from pyproject.toml, plus every
other file named (the torch pins) verbatim. Tool settings ([tool.*]) are left out on purpose: changing a
pytest or ruff option must not force an 8 GB rebuild. Standard library only; Python 3.11+ (tomllib).
"""

from __future__ import annotations

import hashlib
import json
import sys

import tomllib


def venv_key(pyproject: str, *others: str) -> str:
    with open(pyproject, "rb") as handle:
        data = tomllib.load(handle)
    project = data.get("project", {})
    relevant = {
        "build-system": data.get("build-system", {}),
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
    }
    digest = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode())
    for path in others:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: venv_key.py pyproject.toml [other dependency files...]")
    print(venv_key(sys.argv[1], *sys.argv[2:]))
