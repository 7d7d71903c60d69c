"""The log stays bounded when one failure repeats (unicat_cli/log_repeats.py): on a real logger, the first
records of a kind pass, the rest are counted and summed up in one line; and on ``unicat serve``, a flood
of malformed requests leaves a few tracebacks in its log, not one each."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.serve_process import ServeProcess
from unicat_cli.log_repeats import RepeatLimiter


class Clock:
    """The time the filter reads, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def logged(clock: Clock) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A real logger writing through a stream handler that has the filter, and what it wrote."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatLimiter(handler, burst=3, interval=60.0, clock=clock))
    logger = logging.getLogger("tests.log_repeats")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield logger, written
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def _fail(logger: logging.Logger, client: str) -> None:
    try:
        raise ConnectionResetError("Connection lost")
    except ConnectionResetError:
        logger.exception("Error handling request from %s", client)


def test_the_first_records_of_a_kind_pass_and_the_rest_are_summed_up_once_the_interval_is_over(
    logged: tuple[logging.Logger, io.StringIO], clock: Clock
) -> None:
    logger, written = logged
    for number in range(1000):
        _fail(logger, f"10.0.0.{number % 250}")
        clock.now += 0.01  # 1000 in 10 seconds
    text = written.getvalue()
    assert text.count("Error handling request from") == 3
    assert text.count("Traceback") == 3
    assert "repeated" not in text
    clock.now += 60
    _fail(logger, "10.0.0.1")
    lines = written.getvalue()[len(text) :].splitlines()
    assert lines[0] == (
        "ERROR tests.log_repeats: the message 'Error handling request from %s' (ConnectionResetError) "
        "was repeated 997 more times in 70 seconds, not logged (at most 3 are)"
    )
    assert lines[1] == "ERROR tests.log_repeats: Error handling request from 10.0.0.1"


def test_kinds_are_counted_apart_by_message_level_and_exception(
    logged: tuple[logging.Logger, io.StringIO], clock: Clock
) -> None:
    logger, written = logged
    for number in range(10):
        logger.warning("harvest of %s failed", f"source{number}")
        logger.error("harvest of %s failed", f"source{number}")
        logger.warning("index of %s failed", f"source{number}")
        _fail(logger, "10.0.0.1")
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("Error handling request from %s", "10.0.0.1")
    text = written.getvalue()
    assert text.count("WARNING tests.log_repeats: harvest of") == 3
    assert text.count("ERROR tests.log_repeats: harvest of") == 3
    assert text.count("index of") == 3
    assert text.count("ConnectionResetError: Connection lost") == 3
    assert text.count("ValueError: bad") == 3
    # A record of another kind after the interval sums up every kind that was over.
    clock.now += 61
    logger.info("serving")
    summaries = [line for line in written.getvalue()[len(text) :].splitlines() if "repeated" in line]
    assert len(summaries) == 5
    assert all("repeated 7 more times" in line for line in summaries)


def test_a_flood_of_malformed_requests_leaves_a_few_tracebacks_in_the_servers_log(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, engine_url=f"sqlite:///{tmp_path / 'unicat.db'}") as served:
        for _ in range(300):
            with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
                # A header line without its colon: a 400, which aiohttp logs with its traceback.
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n")
                assert sock.recv(4096).split(b" ", 2)[1] == b"400"
    log = served.log.read_text()
    assert 1 <= log.count("Error handling request from") <= 10
