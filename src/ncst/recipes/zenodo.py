"""Zenodo records: fetch one from the JSON API (`<api>/api/records/<id>`) and validate it field by field.

A record is an input that may be crafted (or a server may answer something else): the answer is read up
to a bound, must be UTF-8 JSON, and each file entry must have a plain file name as `key` (unique), an
integer `size` >= 0, an md5 `checksum` and an http(s) link; errors name the record id, the key and the
value. Names and links pass `ncst.paths`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from ncst.corpora.download import DownloadError, Limits
from ncst.errors import NcstError
from ncst.paths import check_name, check_url

__all__ = ["ZENODO_API", "OWN_SUFFIXES", "RecordError", "RecordFile", "fetch_record", "parse_record"]

log = logging.getLogger(__name__)

ZENODO_API = "https://zenodo.org"
_MD5 = re.compile(r"^md5:([0-9a-fA-F]{32})$")
#: Name endings ncst gives its own temp files in `downloads/`; a record key may not use them.
OWN_SUFFIXES = (".part", ".part.json", ".joining")


class RecordError(NcstError, ValueError):
    """A record's JSON does not fit the schema (a field missing, of the wrong type or format)."""


@dataclass(frozen=True, slots=True)
class RecordFile:
    """One file of a Zenodo record."""

    key: str
    size: int
    md5: str | None
    url: str


def fetch_record(
    record_id: str, *, api_url: str = ZENODO_API, timeout_s: float = 60.0, limits: Limits | None = None
) -> list[RecordFile]:
    """The files of a Zenodo record, from its JSON API (read up to `limits.max_record_bytes`).

    Raises:
        DownloadError: Offline, or the server answers with an error.
        RecordError: The answer is not JSON, too large, or not a valid record (see `parse_record`).
        UnsafeNameError: `api_url`, a key or a link is refused.
    """
    limits = limits or Limits()
    check_url(api_url, what="--api-url")
    url = f"{api_url.rstrip('/')}/api/records/{record_id}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}),
                                    timeout=timeout_s) as response:  # fmt: skip
            raw = response.read(limits.max_record_bytes + 1)
    except urllib.error.HTTPError as err:
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, socket.timeout, OSError, ValueError) as err:
        raise DownloadError(
            f"cannot reach {url} ({err}): ncst download needs the network; check the connection or proxy "
            "(https_proxy) and rerun, finished files are kept and partial ones resume"
        ) from err
    if len(raw) > limits.max_record_bytes:
        raise RecordError(f"{url}: record {record_id} is larger than {limits.max_record_bytes} bytes; refusing it")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RecordError(f"{url}: record {record_id} is not JSON ({str(err)[:200]})") from err
    return parse_record(payload, record_id, api_url=api_url)


def parse_record(payload: Any, record_id: str, *, api_url: str = ZENODO_API) -> list[RecordFile]:
    """Validates a record's JSON field by field: `files` a non-empty list of objects, each with `key` (a plain
    file name, unique), `size` (an int >= 0), `checksum` (`md5:` + 32 hex digits) and `links.self` (an
    http(s) URL; absent: the record's file URL).

    Raises:
        RecordError: A field is missing or wrong; the message names the record, the entry's key and the value.
        UnsafeNameError: A key is not a plain file name or a link is not http(s).
    """
    where = f"record {record_id}"
    if not isinstance(payload, dict):
        raise RecordError(f"{where}: expected a JSON object, got {type(payload).__name__}")
    entries = payload.get("files")
    if not isinstance(entries, list):
        raise RecordError(f"{where}: 'files' must be a list of files, got {_show(entries)}")
    if not entries:
        raise DownloadError(f"{where} lists no files")
    files: list[RecordFile] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        at = f"{where}, files[{index}]"
        if not isinstance(entry, dict):
            raise RecordError(f"{at}: expected an object, got {_show(entry)}")
        key = str(check_name(entry.get("key"), what=f"{at}: key", single=True))
        at = f"{where}, key {key!r}"
        if key.endswith(OWN_SUFFIXES):
            raise RecordError(f"{at}: ends in {OWN_SUFFIXES}, the names of ncst's own partial files; refusing it")
        if key.casefold() in seen:
            raise RecordError(f"{at}: listed twice (also as {seen[key.casefold()]!r})")
        seen[key.casefold()] = key
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise RecordError(f"{at}: 'size' must be a whole number of bytes >= 0, got {_show(size)}")
        checksum = entry.get("checksum")
        match = _MD5.match(checksum) if isinstance(checksum, str) else None
        if match is None:
            raise RecordError(
                f"{at}: 'checksum' must be 'md5:' and 32 hex digits, got {_show(checksum)}; a file that cannot "
                "be checked is not downloaded"
            )
        links = entry.get("links", {})
        if not isinstance(links, dict):
            raise RecordError(f"{at}: 'links' must be an object, got {_show(links)}")
        link = links.get("self", links.get("download"))
        if link is None:
            link = f"{api_url.rstrip('/')}/records/{record_id}/files/{urllib.parse.quote(key)}"
        files.append(RecordFile(key, size, match.group(1).lower(), check_url(link, what=at)))
    return files


def _show(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:80]}{'...' if len(text) > 80 else ''}"
