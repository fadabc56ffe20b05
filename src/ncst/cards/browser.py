"""Open a static page in headless Chromium: script errors, audio and images that fail to load, a screenshot.

The pages ncst writes (`DATASET.html`, the benchmark `report.html`) are meant to work from a folder with no
server and no network. This check opens a copy of a page beside the original (so its relative links
resolve), with a small script put first into its head that records every error event, `console.error`
call, policy violation and failed `<audio>`/`<img>` load into the document; `chromium --headless
--dump-dom` prints the document and the record is read back. Chromium's own console log
(`--enable-logging=stderr`) is read too. Used by the tests and by anyone checking a card by hand.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ncst.errors import MissingDependencyError, NcstError

__all__ = ["PageCheck", "check_page", "find_chromium", "screenshot_page"]

log = logging.getLogger(__name__)

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio", "--hide-scrollbars")
_RESULT = re.compile(r'<pre id="ncst-check">(.*?)</pre>', re.S)
_CONSOLE = re.compile(r"CONSOLE\(\d+\)|Uncaught|Refused to")

#: Runs before anything else on the page; writes {errors, media, images} into <pre id="ncst-check">.
_PROBE = """<script>(function(){
var errors=[];
window.addEventListener('error',function(e){var t=e.target;
  errors.push(t&&t!==window&&(t.src||t.currentSrc)?'failed to load '+(t.currentSrc||t.src):'error: '+e.message);},true);
window.addEventListener('unhandledrejection',function(e){errors.push('unhandled rejection: '+e.reason);});
document.addEventListener('securitypolicyviolation',function(e){errors.push('CSP blocked '+e.blockedURI);});
var ce=console.error;console.error=function(){errors.push('console.error: '+[].join.call(arguments,' '));
  return ce.apply(console,arguments);};
window.addEventListener('load',function(){
  var images=[].map.call(document.images,function(i){
    return {src:i.currentSrc||i.src,ok:i.complete&&i.naturalWidth>0};});
  var media=[],players=document.querySelectorAll('audio,video'),left=players.length;
  function done(){var p=document.createElement('pre');p.id='ncst-check';
    p.textContent=JSON.stringify({errors:errors,media:media,images:images});document.body.appendChild(p);}
  if(!left){done();return;}
  players.forEach(function(a){var settled=false;function fin(ok){if(settled)return;settled=true;
      media.push({src:a.currentSrc||a.src,ok:ok,duration:a.duration||0});if(--left===0)done();}
    a.addEventListener('loadedmetadata',function(){fin(true);});a.addEventListener('error',function(){fin(false);});
    setTimeout(function(){fin(false);},8000);a.preload='metadata';a.load();});
});})();</script>"""


@dataclass(slots=True)
class PageCheck:
    """What Chromium saw on a page.

    Attributes:
        errors: Script errors, console errors, blocked requests and failed loads, in order.
        media: `{"src", "ok", "duration"}` per `<audio>`/`<video>` element.
        images: `{"src", "ok"}` per `<img>` element.
        console: Chromium's own console lines (from its stderr log).
    """

    errors: list[str] = field(default_factory=list)
    media: list[dict[str, object]] = field(default_factory=list)
    images: list[dict[str, object]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


def find_chromium() -> str | None:
    """Path of a Chromium or Chrome executable on PATH, or None."""
    for name in _NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        raise MissingDependencyError("no chromium on PATH: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="ncst-chromium-") as profile:
        cmd = [binary, *_FLAGS, f"--user-data-dir={profile}", *args]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as err:
            raise NcstError(f"chromium did not finish in {timeout_s:.0f} s: {' '.join(args)}") from err


def check_page(page: Path, *, timeout_s: float = 60.0) -> PageCheck:
    """Opens `page` with the probe (see the module docstring) and returns what it recorded.

    Raises:
        MissingDependencyError: No Chromium on PATH.
        NcstError: Chromium failed or the probe wrote no record (the page never finished loading).
    """
    page = Path(page).resolve()
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text, re.I)
    at = head.end() if head else 0
    copy = page.with_name(f".{page.stem}.check.html")
    copy.write_text(text[:at] + _PROBE + text[at:], encoding="utf-8")
    try:
        done = _run(
            ["--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom", copy.as_uri()],
            timeout_s,
        )
    finally:
        copy.unlink(missing_ok=True)
    found = _RESULT.search(done.stdout)
    if found is None:
        raise NcstError(f"{page}: chromium wrote no check record (exit {done.returncode}): {done.stderr[-800:]}")
    record = json.loads(html.unescape(found.group(1)))
    console = [line for line in done.stderr.splitlines() if _CONSOLE.search(line)]
    return PageCheck(record["errors"], record["media"], record["images"], console)


def screenshot_page(
    page: Path, target: Path, *, width: int = 1280, height: int = 1600, timeout_s: float = 60.0
) -> Path:
    """Saves a PNG of the page's first `width` x `height` pixels to `target`."""
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [f"--window-size={width},{height}", "--virtual-time-budget=5000", f"--screenshot={target}",
         Path(page).resolve().as_uri()],
        timeout_s,
    )  # fmt: skip
    if not target.is_file():
        raise NcstError(f"chromium wrote no screenshot of {page}")
    return target
