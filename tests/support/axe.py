"""axe-core, Deque's accessibility engine, run inside the tests' real Chromium.

The rules of WCAG 2.1 levels A and AA that a machine can check (contrast, names of controls, landmarks,
ARIA use, language of the page…) are axe-core's, not ours: the tests load its published script from the
npm package (``npm pack``, so no browser download and no network but the package registry), verify it
against the hash below, cache it in ``$UNICAT_CACHE_DIR/axe`` (default ``~/.cache/unicat/axe``) and
inject it into the page under test through WebDriver, which the page's Content Security Policy does not
govern. axe-core is under the Mozilla Public License 2.0; it is used, not shipped.

Command line: ``python -m tests.support.axe`` fetches it when it is missing (``scripts/test.sh`` does).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.browser import Browser

AXE_VERSION = "4.11.0"
AXE_SHA256 = "e9e5863c33a874f09bc01acd9234b7e3c871479f5eef8802fa582544465e6d01"
"""Of ``package/axe.min.js`` in the npm tarball ``axe-core-4.11.0.tgz``."""

CACHE_DIR = Path(os.environ.get("UNICAT_CACHE_DIR") or Path.home() / ".cache" / "unicat") / "axe"

WCAG21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
"""axe-core's tags for the success criteria of WCAG 2.0 and 2.1 at levels A and AA."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule a page breaks, with where: axe-core's rule id, its impact, its help text and the CSS
    selectors of the offending elements (at most a few, enough to find them)."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help} — at {', '.join(self.targets)}"


def script_path(cache: Path = CACHE_DIR) -> Path:
    return cache / f"axe-core-{AXE_VERSION}.min.js"


def _verified(data: bytes) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise RuntimeError(f"axe-core {AXE_VERSION}: axe.min.js has sha256 {digest}, expected {AXE_SHA256}")
    return data


def fetch(cache: Path = CACHE_DIR) -> Path:
    """The verified script in ``cache``, taken from the npm package when it is not there yet."""
    path = script_path(cache)
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == AXE_SHA256:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="unicat-axe-") as work:
        subprocess.run(
            ["npm", "pack", "--silent", f"axe-core@{AXE_VERSION}"],
            cwd=work,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=300,
        )
        tarball = Path(work) / f"axe-core-{AXE_VERSION}.tgz"
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/axe.min.js")
            if member is None:
                raise RuntimeError(f"axe-core {AXE_VERSION}: the npm package holds no package/axe.min.js")
            data = _verified(member.read())
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)
    return path


def _load(cache: Path) -> str:
    path = script_path(cache)
    if not path.is_file():
        raise RuntimeError(
            f"axe-core is not in {cache}: run `python -m tests.support.axe` (scripts/test.sh does)"
        )
    return _verified(path.read_bytes()).decode("utf-8")


_RUN = """
const [tags, done] = [arguments[0], arguments[arguments.length - 1]];
axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(results => done({violations: results.violations.map(v => ({
      rule: v.id, impact: v.impact || '', help: v.help,
      targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))}))
  .catch(error => done({error: String(error)}));
"""


def audit(browser: Browser, tags: tuple[str, ...] = WCAG21_AA, cache: Path = CACHE_DIR) -> list[Violation]:
    """Every violation of ``tags`` on the page the browser shows now (axe-core injected first)."""
    if not browser.execute("return typeof axe !== 'undefined';"):
        browser.execute(_load(cache))
    answer: dict[str, Any] = browser.execute_async(_RUN, list(tags))
    if "error" in answer:
        raise RuntimeError(f"axe-core failed on {browser.url}: {answer['error']}")
    return [
        Violation(str(v["rule"]), str(v["impact"]), str(v["help"]), tuple(str(t) for t in v["targets"]))
        for v in answer["violations"]
    ]


def main() -> None:
    try:
        path = fetch()
    except (OSError, subprocess.SubprocessError, RuntimeError, tarfile.TarError) as exc:
        print(f"axe-core: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    print(f"axe-core {AXE_VERSION}: {path}")


if __name__ == "__main__":
    main()
