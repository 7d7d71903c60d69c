"""Screenshots of the demo as a phone shows it, in every interface language, for reviews and reports.

Builds the demo network in a temporary data directory (``unicat demo --no-serve``), adds a librarian,
serves it with ``unicat serve`` on a free port of 127.0.0.1, and has the tests' real Chromium
(tests/support/browser.py) take a whole-page PNG of the home page, a results page, a record page and the
librarians' desk at a phone's width, in each language::

    .venv/bin/python scripts/screenshots.py OUT_DIR [--width 390] [--languages en,fr,nl]

Each file is ``<language>-<page>.png``; the script prints each page's width as the browser laid it out
(``scrollWidth``), which must not exceed the window's.
"""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.browser import Browser, ChromeDriver  # noqa: E402
from tests.support.loopback import free_port  # noqa: E402

UNICAT = str(Path(sys.executable).with_name("unicat"))
LIBRARIAN = "desk@example.org"
PASSWORD = "lantern orchard pebble violin"
PAGES = (
    ("home", "/"),
    ("results", "/search?q=austen"),
    ("record", None),  # the first result of the results page
    ("librarians", "/librarians/harvests"),
)


def _unicat(data_dir: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [UNICAT, "--data-dir", str(data_dir), *args],
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _wait_until_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _whole_page(browser: Browser, path: Path) -> None:
    shot = browser.cdp("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def _sign_in(browser: Browser, site: str) -> None:
    browser.open(site + "/signin")
    browser.fill("#field-email", LIBRARIAN)
    browser.fill("#field-password", PASSWORD)
    browser.submit("#field-email")


def take(site: str, out: Path, width: int, languages: list[str]) -> None:
    with ChromeDriver() as driver:
        browser = driver.open_browser()
        # A phone's screen, as tests/search_app/test_browser_phone.py emulates it: ``width`` CSS pixels,
        # a touch screen that honours the viewport tag, scrollbars that take no room.
        browser.cdp(
            "Emulation.setDeviceMetricsOverride", width=width, height=844, deviceScaleFactor=1, mobile=True
        )
        _sign_in(browser, site)
        for language in languages:
            record_path = ""
            for name, path in PAGES:
                if path is None:
                    path = record_path
                browser.open(f"{site}{path}{'&' if '?' in path else '?'}lang={language}")
                if name == "results":
                    record_path = str(browser.find(".result-card__title a").attribute("href"))
                    record_path = record_path.removeprefix(site)
                file = out / f"{language}-{name}.png"
                _whole_page(browser, file)
                scroll_width = browser.execute("return document.documentElement.scrollWidth;")
                print(f"{file}: {path} laid out {scroll_width} px wide in a {width} px window")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--languages", default="en,fr,nl")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="unicat-shots-") as work:
        data_dir = Path(work)
        _unicat(data_dir, "demo", "--no-serve")
        _unicat(
            data_dir,
            "users",
            "add",
            LIBRARIAN,
            "--name",
            "Desk",
            "--role",
            "librarian",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        port = free_port()
        server = subprocess.Popen(
            [UNICAT, "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            site = f"http://127.0.0.1:{port}"
            _wait_until_up(site)
            take(site, args.out, args.width, args.languages.split(","))
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
