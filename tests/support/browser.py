"""A real headless Chromium for the web app's browser tests, driven over the W3C WebDriver protocol.

Debian's ``chromium`` and ``chromium-driver`` packages (``scripts/install-test-deps.sh`` installs them)
give a browser and the WebDriver server built for exactly that browser version. The harness speaks
WebDriver to that server as plain JSON over HTTP with the standard library: a test sees the pages the
way a reader does (real layout, forms, cookies, JavaScript), and nothing stands between the test and
the browser but a documented protocol — no client library, no browser download (setting up the tests
needs nothing but package repositories), no second Chromium.

Fixtures (use them from a test module with ``pytest_plugins = ["tests.support.browser"]``):

``browser``
    A :class:`Browser` on a blank page with no cookies and an empty cache. The Chromium process is
    shared by the whole test session (a start costs most of a second); only its state is reset.
``open_browser``
    Opens further, fully separate browsers (own process and profile) for a story with several people
    at once: a patron and a librarian signed in side by side. They are closed at the end of the test.

A machine without Chromium fails these tests with the install command; it never skips them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_COMMAND = "sudo bash scripts/install-test-deps.sh"

# How Chromium starts for the tests: without its sandbox (which refuses to run as root, and the test
# command may run as root), without a GPU, and with everything that phones home switched off (the tests
# need no network beyond loopback; where there is none, each such connection fails noisily and some
# delay the start). --no-proxy-server: a proxy from the
# environment must never sit between the browser and the app on 127.0.0.1. The window size makes
# screenshots and responsive layouts the same on every machine.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--window-size=1280,1024",
)

# Element references in W3C WebDriver JSON carry this key (fixed by the specification).
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
WAIT_SECONDS = 10.0
COMMAND_SECONDS = 60.0

T = TypeVar("T")


class BrowserMissing(RuntimeError):
    """Chromium or ChromeDriver is not installed (or cannot start a session)."""


class WebDriverError(RuntimeError):
    """An error answer of ChromeDriver: ``error`` is the W3C error code, e.g. ``no such element``."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message


@dataclass(frozen=True)
class Cookie:
    """A cookie as the browser stores it, flags included (what a session cookie's security rests on)."""

    name: str
    value: str
    domain: str
    path: str
    http_only: bool
    secure: bool
    same_site: str | None  # "Strict", "Lax" or "None" as the browser recorded it
    expiry: int | None  # seconds since the epoch; None for a cookie that ends with the session


@dataclass(frozen=True)
class LogEntry:
    """One line of the browser's console log: ``source`` is ``javascript`` for an uncaught error,
    ``console-api`` for console.error and friends, ``network`` for a failed load."""

    level: str
    source: str
    message: str


@dataclass(frozen=True)
class Element:
    """A reference to an element of the current page (stale once the page is left)."""

    browser: Browser
    id: str

    def _command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.browser._command(method, f"/element/{self.id}{path}", body)

    @property
    def text(self) -> str:
        """The rendered text, as a reader sees it (hidden text left out, whitespace collapsed)."""
        return str(self._command("GET", "/text"))

    def attribute(self, name: str) -> str | None:
        """The attribute as written in the document (``href`` is the written, relative one)."""
        value = self._command("GET", f"/attribute/{name}")
        return None if value is None else str(value)

    def dom_property(self, name: str) -> Any:
        """A DOM property (``href`` is the absolute URL, ``value`` a field's current value)."""
        return self._command("GET", f"/property/{name}")

    def find(self, css: str) -> Element:
        """The first descendant matching ``css`` (no waiting: the element itself is already there)."""
        return self.browser._element(self._command("POST", "/element", _css(css)))

    def find_all(self, css: str) -> list[Element]:
        """Every descendant matching ``css``, in document order."""
        return [self.browser._element(raw) for raw in self._command("POST", "/elements", _css(css))]


Target = str | Element


def _css(selector: str) -> dict[str, str]:
    return {"using": "css selector", "value": selector}


class Browser:
    """One WebDriver session: a Chromium with a profile of its own.

    Every operation is a WebDriver command and waits for the page to settle as WebDriver defines it
    (a click on a link returns once the next page has loaded). Selectors are CSS; an operation that takes
    a selector waits up to ``timeout`` seconds for the element to appear, so a page that builds itself
    with JavaScript is as easy to test as a static one.
    """

    def __init__(self, driver: ChromeDriver, session_id: str, capabilities: dict[str, Any], home: Path):
        self.driver = driver
        self.session_id = session_id
        self.capabilities = capabilities
        self.home = home
        self._origins: set[str] = set()

    # -- the protocol ---------------------------------------------------------------------------------

    def _command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.driver.request(method, f"/session/{self.session_id}{path}", body)

    def _element(self, raw: Any) -> Element:
        return Element(self, str(raw[ELEMENT_KEY]))

    def cdp(self, command: str, **params: Any) -> Any:
        """A Chrome DevTools Protocol command, through ChromeDriver (for what WebDriver has no verb for:
        clearing every cookie of every site at once)."""
        return self._command("POST", "/goog/cdp/execute", {"cmd": command, "params": params})

    def execute(self, script: str, *args: Any) -> Any:
        """Run ``script`` as a function body in the page (``arguments[0]`` … are ``args``; an
        :class:`Element` passes as the DOM element) and return its JSON-able result."""
        wire = [{ELEMENT_KEY: arg.id} if isinstance(arg, Element) else arg for arg in args]
        return self._command("POST", "/execute/sync", {"script": script, "args": wire})

    def execute_async(self, script: str, *args: Any) -> Any:
        """Like :meth:`execute` for a script that answers later: it calls its last argument (the
        callback WebDriver adds) with the result, within the session's script timeout."""
        wire = [{ELEMENT_KEY: arg.id} if isinstance(arg, Element) else arg for arg in args]
        return self._command("POST", "/execute/async", {"script": script, "args": wire})

    # -- navigation -----------------------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Load ``url`` and wait until the page has loaded."""
        self._command("POST", "/url", {"url": url})
        self._remember_origin(url)

    @property
    def url(self) -> str:
        """The address of the current page."""
        return str(self._command("GET", "/url"))

    @property
    def title(self) -> str:
        return str(self._command("GET", "/title"))

    def _remember_origin(self, url: str | None = None) -> None:
        """Note the site of ``url`` (or of the current page), whose storage :meth:`reset` clears."""
        if url is None:
            try:
                url = self.url
            except WebDriverError:  # an alert open, say: the site is the one opened before, if any
                return
        match = re.match(r"https?://[^/]+", url)
        if match:
            self._origins.add(match.group(0))

    # -- the page -------------------------------------------------------------------------------------

    def find(self, target: Target, timeout: float = WAIT_SECONDS) -> Element:
        """The first element matching a CSS selector, waiting up to ``timeout`` for one to appear."""
        if isinstance(target, Element):
            return target
        return self.wait_for(
            lambda: self._element(self._command("POST", "/element", _css(target))),
            timeout,
            lambda: f"no element matches {target!r} on {self.url}",
        )

    def find_all(self, css: str) -> list[Element]:
        """Every element matching ``css`` now, in document order (an empty list waits for nothing)."""
        return [self._element(raw) for raw in self._command("POST", "/elements", _css(css))]

    def text(self, target: Target = "body") -> str:
        """The rendered text of an element (of the whole page by default)."""
        return self.find(target).text

    def texts(self, css: str) -> list[str]:
        """The rendered text of every element matching ``css``: a result list's titles, say."""
        return [element.text for element in self.find_all(css)]

    def fill(self, target: Target, text: str, clear: bool = True) -> None:
        """Type ``text`` into a field as a keyboard would (key events, input events), emptying it
        first unless ``clear`` is false."""
        element = self.find(target)
        if clear:
            element._command("POST", "/clear")
        element._command("POST", "/value", {"text": text})

    def click(self, target: Target) -> None:
        """Click an element as a mouse would, at its centre (it must be visible and not covered); a
        click that follows a link returns once the next page has loaded."""
        self.find(target)._command("POST", "/click")
        self._remember_origin()

    def submit(self, target: Target, navigates: bool = True) -> None:
        """Submit a form (or the form of a field) as its submit button would — validation and submit
        events included — and wait until the page it leads to has loaded (unless ``navigates`` is
        false: a form whose script handles the submission in place)."""
        element = self.find(target)
        old_page = self._element(self._command("POST", "/element", _css("html")))
        self.execute("const f = arguments[0]; (f.form || f).requestSubmit();", element)
        if navigates:
            self.wait_for_new_page(old_page)

    def wait_for_new_page(self, old_page: Element, timeout: float = WAIT_SECONDS) -> None:
        """Wait until ``old_page`` (the ``html`` element of the page before) is gone and the new page
        has loaded: the end of a navigation that WebDriver itself does not wait for."""

        def arrived() -> bool:
            try:
                old_page._command("GET", "/name")
            except WebDriverError as error:
                if error.error != "stale element reference":
                    raise
                return bool(self.execute("return document.readyState === 'complete';"))
            return False

        self.wait_for(arrived, timeout, lambda: f"the page did not change (still {self.url})")
        self._remember_origin()

    def wait_for(
        self,
        condition: Callable[[], T],
        timeout: float = WAIT_SECONDS,
        message: str | Callable[[], str] = "condition not met",
    ) -> T:
        """Poll ``condition`` until it returns a true value, and return that value. A WebDriver error
        while polling (no such element yet, a stale one) counts as not yet; after ``timeout`` seconds
        the test fails with ``message`` (a function: called only then) and the last such error."""
        deadline = time.monotonic() + timeout
        last_error: WebDriverError | None = None
        while True:
            try:
                value = condition()
                if value:
                    return value
            except WebDriverError as error:
                last_error = error
            if time.monotonic() > deadline:
                detail = f"; last error: {last_error}" if last_error else ""
                text = message if isinstance(message, str) else message()
                raise AssertionError(f"{text} after {timeout:g} s{detail}")
            time.sleep(0.05)

    def alert_text(self) -> str | None:
        """The text of an open alert, confirm or prompt dialog, or None: a page where injected script
        ran would have one open (the session leaves dialogs open rather than dismissing them)."""
        try:
            return str(self._command("GET", "/alert/text"))
        except WebDriverError as error:
            if error.error == "no such alert":
                return None
            raise

    # -- what the browser keeps -----------------------------------------------------------------------

    def cookies(self) -> list[Cookie]:
        """The cookies the current page's address would send, HttpOnly ones included (a page's
        script cannot see those; WebDriver can)."""
        return [
            Cookie(
                name=raw["name"],
                value=raw["value"],
                domain=raw.get("domain", ""),
                path=raw.get("path", "/"),
                http_only=bool(raw.get("httpOnly", False)),
                secure=bool(raw.get("secure", False)),
                same_site=raw.get("sameSite"),
                expiry=None if raw.get("expiry") is None else int(raw["expiry"]),
            )
            for raw in self._command("GET", "/cookie")
        ]

    def cookie(self, name: str) -> Cookie:
        """The cookie called ``name`` (the test fails if the browser holds none)."""
        found = [cookie for cookie in self.cookies() if cookie.name == name]
        assert found, f"no cookie {name!r} at {self.url}; it has {[c.name for c in self.cookies()]}"
        return found[0]

    def console(self) -> list[LogEntry]:
        """The console lines logged since the last call (ChromeDriver hands each line out once)."""
        return [
            LogEntry(str(raw["level"]), str(raw.get("source", "")), str(raw["message"]))
            for raw in self._command("POST", "/se/log", {"type": "browser"})
        ]

    def script_errors(self) -> list[LogEntry]:
        """Uncaught JavaScript errors, console.error lines and what the page's Content Security Policy
        refused, since the last look at the console."""
        return [
            entry
            for entry in self.console()
            if entry.level == "SEVERE"
            and (entry.source in ("javascript", "console-api") or "Content Security Policy" in entry.message)
        ]

    def screenshot(self, path: Path) -> Path:
        """Save what the window shows as a PNG file at ``path`` (for a report, or a failure)."""
        path.write_bytes(base64.b64decode(self._command("GET", "/screenshot")))
        return path

    # -- life -----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Make the browser as new for the next test: one blank tab, no cookies (of any site), an empty
        cache, no local storage for the sites it saw, no open dialog, and an empty console log."""
        if self.alert_text() is not None:
            self._command("POST", "/alert/dismiss")
        handles = self._command("GET", "/window/handles")
        for handle in handles[1:]:
            self._command("POST", "/window", {"handle": handle})
            self._command("DELETE", "/window")
        self._command("POST", "/window", {"handle": handles[0]})
        self._command("POST", "/url", {"url": "about:blank"})
        self.cdp("Network.clearBrowserCookies")
        self.cdp("Network.clearBrowserCache")
        for origin in sorted(self._origins):
            self.cdp("Storage.clearDataForOrigin", origin=origin, storageTypes="all")
        self._origins.clear()
        self.console()

    def close(self) -> None:
        """End the session: ChromeDriver quits Chromium; then wait until every process of it is gone
        (the crash handlers linger a moment) and remove its profile."""
        if self in self.driver._browsers:
            self.driver._browsers.remove(self)
        try:
            self.driver.request("DELETE", f"/session/{self.session_id}")
        finally:
            _end_processes_marked(str(self.home))
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ChromeDriver:
    """Debian's chromedriver, serving WebDriver on a free port of 127.0.0.1 (``with ChromeDriver() as
    driver: driver.open_browser()``). It chooses the port itself (``--port=0``), so two test sessions
    never race for one."""

    def __init__(self, chromedriver: str = CHROMEDRIVER, chromium: str = CHROMIUM) -> None:
        self.chromedriver = chromedriver
        self.chromium = chromium
        self.url = ""
        self.home: Path | None = None  # this run's own directory, made by start()
        self._process: subprocess.Popen[bytes] | None = None
        self._browsers: list[Browser] = []
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self) -> None:
        """Start chromedriver and wait until it is ready; :class:`BrowserMissing` if it cannot be."""
        for program in (self.chromedriver, self.chromium):
            if not os.access(program, os.X_OK):
                raise BrowserMissing(
                    f"{program} is missing: the browser tests need Debian's chromium and chromium-driver; "
                    f"install them with `{INSTALL_COMMAND}`"
                )
        self.home = home = Path(tempfile.mkdtemp(prefix="unicat-browser-"))
        # Chromium writes crash reports and caches under XDG_CONFIG_HOME and XDG_CACHE_HOME: point them
        # into this run's directory, so that nothing lands in the home directory and every process the
        # run starts names that directory (which is how close() finds the stragglers).
        environment = dict(
            os.environ, XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache")
        )
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [self.chromedriver, "--port=0"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,  # a ^C reaches pytest, which then stops the browser in order
            )
        port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{port}"
        status = self.request("GET", "/status")
        if not status.get("ready"):
            raise BrowserMissing(f"chromedriver is not ready: {status}")

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + WAIT_SECONDS
        assert self._process is not None
        while time.monotonic() < deadline:
            match = re.search(rb"started successfully on port (\d+)", self.log_path.read_bytes())
            if match:
                return int(match.group(1))
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        log, code = self.log_text(), self._process.poll()
        self.stop()
        raise BrowserMissing(f"chromedriver did not start (exit status {code}): {log}")

    @property
    def log_path(self) -> Path:
        assert self.home is not None, "chromedriver has not been started"
        return self.home / "chromedriver.log"

    def log_text(self) -> str:
        """ChromeDriver's log (Chromium's own messages included), for an error message."""
        if self.home is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One WebDriver command: the ``value`` of the answer, or :class:`WebDriverError`."""
        data = None if body is None and method != "POST" else json.dumps(body or {}).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with self._opener.open(request, timeout=COMMAND_SECONDS) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                value = json.loads(text).get("value") or {}
            except ValueError:
                value = {"message": text}
            raise WebDriverError(str(value.get("error", error.code)), str(value.get("message", ""))) from None
        return answer.get("value")

    def open_browser(self) -> Browser:
        """A new Chromium with an empty profile of its own, as :data:`CHROMIUM_FLAGS` says to start it."""
        assert self.home is not None, "chromedriver has not been started"
        home = Path(tempfile.mkdtemp(prefix="profile-", dir=self.home))
        capabilities = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [*CHROMIUM_FLAGS, f"--user-data-dir={home}"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"pageLoad": int(COMMAND_SECONDS * 1000) // 2, "script": 10_000, "implicit": 0},
            "unhandledPromptBehavior": "ignore",  # an alert() stays open, so a test sees that it happened
        }
        try:
            answer = self.request("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        except WebDriverError as error:
            _end_processes_marked(str(home))
            raise BrowserMissing(
                f"Chromium would not start ({error}); chromium and chromium-driver must be the same "
                f"version (`{INSTALL_COMMAND}`, or `apt-get install chromium chromium-driver`). "
                f"ChromeDriver's log: {self.log_text()}"
            ) from None
        browser = Browser(self, str(answer["sessionId"]), dict(answer["capabilities"]), home)
        self._browsers.append(browser)
        return browser

    def versions(self) -> str:
        """``Chromium 156.0… / ChromeDriver 156.0…``, from the first browser (for a test report)."""
        if not self._browsers:
            return ""
        capabilities = self._browsers[0].capabilities
        driver = str(capabilities.get("chrome", {}).get("chromedriverVersion", "")).split(" ")[0]
        return f"Chromium {capabilities.get('browserVersion')} / ChromeDriver {driver}"

    def stop(self) -> None:
        """Close every browser still open, stop chromedriver, and leave no process and no file behind."""
        for browser in list(self._browsers):
            # Should a session not answer, chromedriver is stopped anyway and its processes ended below.
            with contextlib.suppress(WebDriverError, OSError):
                browser.close()
        self._browsers.clear()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        if self.home is not None:
            _end_processes_marked(str(self.home))
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    def __enter__(self) -> ChromeDriver:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _processes_marked(marker: str) -> list[int]:
    """The processes whose command line contains ``marker`` (a directory only this run uses)."""
    needle = marker.encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if needle in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue  # ended meanwhile
    return found


def _end_processes_marked(marker: str, grace: float = 5.0) -> None:
    """Wait up to ``grace`` seconds for the processes of one browser (all name its directory) to end
    on their own, then kill what is left: Chromium's crash handlers are not its children, and outlive
    it by a moment."""
    deadline = time.monotonic() + grace
    while _processes_marked(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in _processes_marked(marker):
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def chromedriver() -> Iterator[ChromeDriver]:
    """ChromeDriver for the whole test session; a machine without Chromium fails, naming the fix."""
    driver = ChromeDriver()
    try:
        driver.start()
    except BrowserMissing as error:
        driver.stop()
        pytest.fail(str(error), pytrace=False)
    try:
        yield driver
    finally:
        driver.stop()


def _open_or_fail(chromedriver: ChromeDriver) -> Browser:
    try:
        return chromedriver.open_browser()
    except BrowserMissing as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def _shared_browsers(chromedriver: ChromeDriver) -> list[Browser]:
    """The one Chromium the tests share, in a list so that a crashed one can be replaced (closed with
    ChromeDriver at the end of the session)."""
    return [_open_or_fail(chromedriver)]


@pytest.fixture
def browser(chromedriver: ChromeDriver, _shared_browsers: list[Browser]) -> Browser:
    """A browser as new: blank page, no cookies, empty cache (the process is the session's). Should
    the last test have left it unusable (a crashed tab, a lost session), a new one takes its place, so
    that one failure does not fail every browser test after it."""
    shared = _shared_browsers[0]
    try:
        shared.reset()
    except WebDriverError:
        with contextlib.suppress(WebDriverError, OSError):
            shared.close()
        shared = _shared_browsers[0] = _open_or_fail(chromedriver)
    return shared


@pytest.fixture
def open_browser(chromedriver: ChromeDriver) -> Iterator[Callable[[], Browser]]:
    """Opens more browsers, each a separate Chromium with its own profile, for a second person in a
    story; they are closed at the end of the test."""
    opened: list[Browser] = []

    def open_one() -> Browser:
        browser = _open_or_fail(chromedriver)
        opened.append(browser)
        return browser

    yield open_one
    for browser in opened:
        browser.close()
