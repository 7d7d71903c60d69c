"""``unicat serve`` in a process of its own, over a config file, for the tests of what clients may hold:
its descriptors (``/proc/PID/fd``) and limits are its own, apart from the test's many client sockets."""

from __future__ import annotations

import re
import resource
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

SERVING = re.compile(r"Unicat is serving at (http://\S+/)")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class ServeProcess:
    """``with ServeProcess(tmp_path, engine_url=…, header_read_timeout=2) as served: served.port`` —
    ``unicat --config FILE serve --port 0`` with these settings; its log (at INFO) in ``served.log``.
    ``open_files``: the soft and hard limits on open files it starts with (as ``ulimit -Sn``/``-Hn`` set)."""

    def __init__(
        self, directory: Path, open_files: tuple[int, int] | None = None, **settings: object
    ) -> None:
        self.directory = directory
        self.open_files = open_files
        self.settings = {"log_level": "INFO", "harvest_schedule_check": 0, **settings}
        self.log = directory / "serve.log"
        self.url = ""
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def open_descriptors(self) -> int:
        """How many files and sockets the server holds open now."""
        return len(list(Path(f"/proc/{self.pid}/fd").iterdir()))

    def open_files_limit(self) -> tuple[int, int]:
        """The server's soft and hard limits on open files."""
        for line in Path(f"/proc/{self.pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
        raise AssertionError("no 'Max open files' in /proc/PID/limits")

    def __enter__(self) -> ServeProcess:
        config = self.directory / "unicat.toml"
        lines = ["[unicat]", *(f"{key} = {_toml(value)}" for key, value in self.settings.items())]
        config.write_text("\n".join(lines) + "\n")
        with self.log.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "unicat", "--config", str(config), "serve", "--port", "0"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=self.directory,
                preexec_fn=None if self.open_files is None else self._limit_open_files,
            )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        match = SERVING.search(line)
        if not match:
            self._stop()
            raise AssertionError(f"unicat serve did not start: {line!r}\n{self.log.read_text()}")
        self.url = match.group(1)
        self.port = urlsplit(self.url).port or 80
        return self

    def _limit_open_files(self) -> None:
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, self.open_files)

    def _stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
