"""Finding checkpoint files for the adapters' load hooks: hub downloads, URL caches and local layouts.

Every adapter fetches its weights the way its upstream does (Hugging Face hub, a release URL cached by
torch hub, ...) and also takes a local file or folder in upstream's layout. These helpers are the
shared parts; reading a torch file always goes through `Codec._load_checkpoint` (weights only unless
the user passed `--trust-checkpoint`).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ncst.errors import ChecksumError, WeightsError
from ncst.io import sha256_file

__all__ = [
    "WeightFile",
    "hf_weight_file",
    "torch_hub_weight_file",
    "is_offline",
    "hub_file",
    "url_file",
    "resolve_file",
    "resolve_in_folder",
    "resolve_config_and_weights",
    "state_dict_of",
    "check_hash_in_name",
]

log = logging.getLogger(__name__)

_HASHED_NAME = re.compile(r"-([0-9a-f]{8,64})$")


@dataclass(frozen=True, slots=True)
class WeightFile:
    """One file a codec's `pretrained` weights need, and where upstream's cache keeps it (`ncst weights`).

    Attributes:
        source: Where it is downloaded from (`hf://<repo>/<file>` or a URL).
        path: Where the upstream cache holds it (for a Hugging Face file not yet cached, the snapshot
            path with `*` for the revision).
        present: Whether that cache holds it now.
        sha256: The published sha256 (or its published prefix), when upstream publishes one.
    """

    source: str
    path: Path
    present: bool
    sha256: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size_bytes(self) -> int | None:
        return self.path.stat().st_size if self.present else None

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "path": str(self.path),
            "present": self.present,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }


def hf_weight_file(repo_id: str, filename: str, sha256: str | None = None) -> WeightFile:
    """A Hugging Face hub file and its place in the HF cache (`models--<org>--<name>/snapshots/<rev>/<file>`)."""
    import huggingface_hub
    from huggingface_hub import constants

    cached = huggingface_hub.try_to_load_from_cache(repo_id, filename)
    if isinstance(cached, str):
        return WeightFile(f"hf://{repo_id}/{filename}", Path(cached), True, sha256)
    folder = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "snapshots" / "*"
    return WeightFile(f"hf://{repo_id}/{filename}", folder / filename, False, sha256)


def torch_hub_weight_file(url: str, sha256: str | None = None) -> WeightFile:
    """A release file in the torch hub cache (`$TORCH_HOME/hub/checkpoints/<name>`), as `url_file` keeps it."""
    import torch

    file = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    return WeightFile(url, file, file.is_file(), sha256)


def is_offline() -> bool:
    """Whether downloads are switched off (`HF_HUB_OFFLINE` or `NCST_OFFLINE`): then nothing is fetched or retried."""
    for var in ("HF_HUB_OFFLINE", "NCST_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - a core dependency
        return False
    return bool(constants.HF_HUB_OFFLINE)


def hub_file(repo_id: str, filename: str) -> Path:
    """A file of a Hugging Face repository, downloaded into (or reused from) the HF cache."""
    import huggingface_hub  # a core dependency; looked up at call time so tests can stub it

    return Path(huggingface_hub.hf_hub_download(repo_id=repo_id, filename=filename))


def url_file(url: str, *, check_hash: bool = False) -> Path:
    """A release file in the torch hub cache (`$TORCH_HOME/hub/checkpoints/<name>`), downloaded once.

    With `check_hash`, the hex prefix after the last `-` of the file name is checked against its sha256,
    as `torch.hub.load_state_dict_from_url(check_hash=True)` does.
    """
    import torch

    file = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    if not file.is_file():
        log.info("downloading %s to %s", url, file)
        file.parent.mkdir(parents=True, exist_ok=True)
        match = _HASHED_NAME.search(file.stem) if check_hash else None
        torch.hub.download_url_to_file(url, str(file), hash_prefix=match.group(1) if match else None, progress=False)
    return file


def resolve_file(path: Path, name: str, what: str) -> Path:
    """`path` itself if it is a file, else `path / name`; raises `WeightsError` if neither exists.

    Args:
        path: What the user passed as `--weights`.
        name: Upstream's file name inside a checkpoint folder.
        what: The codec family, for the message.
    """
    file = path / name if path.is_dir() else path
    if not file.is_file():
        raise WeightsError(f"{what} weights {str(path)!r}: expected a checkpoint file or a folder holding {name}")
    return file


def resolve_in_folder(path: Path, names: tuple[str, ...], what: str) -> Path:
    """`path` if it is a file; in a folder, the first of `names` present, else its only file with their suffix.

    A `--weights-dir` folder holds what `save_local` writes, which may be named differently from upstream's
    cache file (EnCodec's hash-named file, DAC's versioned one); both are accepted.
    """
    if path.is_file():
        return path
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                return path / name
        suffix = Path(names[0]).suffix
        candidates = sorted(p for p in path.glob(f"*{suffix}") if p.is_file())
        if len(candidates) == 1:
            return candidates[0]
    raise WeightsError(
        f"{what} weights {str(path)!r}: expected a checkpoint file or a folder holding {' or '.join(names)} "
        f"(or exactly one *{Path(names[0]).suffix} file)"
    )


def resolve_config_and_weights(path: Path, config_name: str, weights_name: str, layout: str) -> tuple[Path, Path]:
    """Finds `(config, weights)` of a checkpoint given as a folder or as its weights file.

    A folder must hold `config_name` and `weights_name` (or exactly one file with the weights' suffix);
    a file is the weights, with the config beside it.

    Args:
        layout: Where this layout comes from (e.g. a hub repository), for the messages.
    """
    if path.is_dir():
        config, weights = path / config_name, path / weights_name
        if not weights.is_file():
            suffix = Path(weights_name).suffix
            candidates = sorted(path.glob(f"*{suffix}"))
            if len(candidates) != 1:
                raise WeightsError(
                    f"{path} holds {len(candidates)} *{suffix} files; expected {weights_name} (or exactly one "
                    f"*{suffix}) next to {config_name}, as in {layout}"
                )
            weights = candidates[0]
    else:
        weights, config = path, path.parent / config_name
    if not config.is_file():
        raise WeightsError(f"no {config_name} next to {weights}; a checkpoint in the layout of {layout} needs both")
    return config, weights


def state_dict_of(obj: Any, file: Path, *, key: str = "state_dict") -> Mapping[str, Any]:
    """The state dict in a loaded checkpoint: `obj[key]` when present (Lightning, DAC.save), else `obj`."""
    if isinstance(obj, dict) and isinstance(obj.get(key), dict):
        obj = obj[key]
    if not isinstance(obj, dict):
        raise WeightsError(f"{file}: expected a state dict, got {type(obj).__name__}")
    return obj


def check_hash_in_name(file: Path) -> None:
    """Checks a torch-hub style name `<name>-<sha256 prefix>.<ext>` against the file's sha256, if it has one."""
    match = _HASHED_NAME.search(file.stem)
    if not match:
        return
    digest = sha256_file(file)
    if not digest.startswith(match.group(1)):
        raise ChecksumError(
            f"{file}: sha256 {digest[: len(match.group(1))]}... does not match the prefix "
            f"{match.group(1)} in its name; re-download it or rename the file"
        )
