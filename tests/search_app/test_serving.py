"""What connections may hold on a served app (search_app/serving.py): clients that open thousands of
connections and send half a request do not starve a normal client, and are closed after
``header_read_timeout``; beyond ``max_connections`` new connections are closed at once, without an answer
and without keeping a descriptor, and beyond ``max_connections_per_address`` those of the one address
that holds them, while other addresses are served. (All of 127.0.0.0/8 is this machine's loopback: a
client bound to 127.0.0.2 is another address to the server.)

The server is ``unicat serve`` in a process of its own (tests/support/serve_process.py), so that its
descriptors are counted apart from this test's client sockets.
"""

from __future__ import annotations

import contextlib
import http.client
import resource
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.serve_process import ServeProcess

HALF_A_REQUEST = b"GET /search?q=pride HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"
"""A request line and headers without the blank line that ends them: the server waits for the rest."""

A_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
ANSWER_SECONDS = 1.0
"""What the issue asks of a normal client's answers while the slow ones are held."""


def _answer_seconds(port: int, path: str) -> tuple[int, float]:
    """A normal client's request on a new connection: the status and how long the answer took."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def _ended_by_server(sockets: list[socket.socket], deadline: float) -> int:
    """How many of ``sockets`` the server closes before ``deadline``: each becomes readable with nothing
    to read (the end of the stream) or reset, and never with an answer."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    ended = 0
    try:
        while ended < len(sockets) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                with contextlib.suppress(ConnectionResetError):
                    assert sock.recv(4096) == b"", "a half-sent request got an answer"
                selector.unregister(sock)
                ended += 1
    finally:
        selector.close()
    return ended


@pytest.fixture
def many_sockets(request: pytest.FixtureRequest) -> Iterator[int]:
    """The soft limit on this process's open files raised to hold ``count`` client sockets (the indirect
    parameter), within the hard limit; put back afterwards."""
    count: int = request.param
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = count + 200  # and this test process's own files
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the hard limit on open files ({hard}) is below the {needed} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        yield count
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.e2e
@pytest.mark.parametrize("many_sockets", [3000], indirect=True)
def test_thousands_of_half_sent_requests_neither_starve_a_client_nor_outlive_the_header_timeout(
    tmp_path: Path, catalogue_url: str, many_sockets: int
) -> None:
    header_timeout = 6.0
    with ServeProcess(
        tmp_path,
        engine_url=catalogue_url,
        header_read_timeout=header_timeout,
        max_connections=5000,
        max_connections_per_address=0,  # as if each came from an address of its own
    ) as served:
        at_rest = served.open_descriptors()
        slow: list[socket.socket] = []
        try:
            for _ in range(many_sockets):
                sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
                sock.sendall(HALF_A_REQUEST)
                slow.append(sock)
            all_open = time.monotonic()
            # While the server holds them all, a normal client is answered at once, again and again.
            for _ in range(3):
                for path in ("/healthz", "/search?q=pride"):
                    status, seconds = _answer_seconds(served.port, path)
                    assert status == 200
                    assert seconds < ANSWER_SECONDS, f"{path} answered in {seconds:.2f}s"
            held = served.open_descriptors()
            assert time.monotonic() < all_open + header_timeout, "the check outlasted the header timeout"
            assert held >= at_rest + many_sockets
            # The server ends every one of them, each within the header timeout of its opening.
            ended = _ended_by_server(slow, deadline=all_open + header_timeout + 5)
            assert ended == many_sockets
            settle = time.monotonic() + 5
            while served.open_descriptors() > at_rest + 5 and time.monotonic() < settle:
                time.sleep(0.1)
            assert served.open_descriptors() <= at_rest + 5
        finally:
            for sock in slow:
                sock.close()


ATTACKER = "127.0.0.2"


def test_one_address_cannot_take_every_connection_from_the_others(tmp_path: Path, catalogue_url: str) -> None:
    per_address, attempts = 50, 500
    with ServeProcess(
        tmp_path, engine_url=catalogue_url, header_read_timeout=30.0, max_connections_per_address=per_address
    ) as served:
        at_rest = served.open_descriptors()
        slow: list[socket.socket] = []
        try:
            for _ in range(attempts):
                sock = socket.create_connection(
                    ("127.0.0.1", served.port), timeout=10, source_address=(ATTACKER, 0)
                )
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(HALF_A_REQUEST)
                slow.append(sock)
            # Those past the cap are closed at once, long before the header timeout would.
            ended = _ended_by_server(slow, deadline=time.monotonic() + 5)
            assert ended == attempts - per_address
            assert served.open_descriptors() <= at_rest + per_address + 2
            # Another address is served at once, again and again.
            for _ in range(3):
                for path in ("/healthz", "/search?q=pride"):
                    status, seconds = _answer_seconds(served.port, path)
                    assert status == 200
                    assert seconds < ANSWER_SECONDS, f"{path} answered in {seconds:.2f}s"
            assert (
                f"refusing new connections from {ATTACKER}: it holds {per_address}" in served.log.read_text()
            )
        finally:
            for sock in slow:
                sock.close()


def _trickle_until_closed(sock: socket.socket, data: bytes, pause: float, deadline: float) -> float | None:
    """Send ``data`` a byte every ``pause`` seconds, over and over, until the server closes the connection;
    when it did, or None if it had not by ``deadline``."""
    sent = 0
    while time.monotonic() < deadline:
        try:
            sock.sendall(data[sent % len(data) : sent % len(data) + 1])
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic()
        sent += 1
        readable = selectors.DefaultSelector()
        readable.register(sock, selectors.EVENT_READ)
        with readable:
            if readable.select(timeout=pause):
                with contextlib.suppress(ConnectionResetError):
                    assert sock.recv(4096) == b"", "a half-sent request got an answer"
                return time.monotonic()
    return None


def test_a_connection_that_sends_no_whole_request_head_is_closed_after_the_header_timeout(
    tmp_path: Path, catalogue_url: str
) -> None:
    header_timeout = 1.0
    with ServeProcess(tmp_path, engine_url=catalogue_url, header_read_timeout=header_timeout) as served:
        silent = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        kept_alive = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        with silent, kept_alive:
            # A keep-alive connection that sent a whole request is answered and outlives the timeout…
            kept_alive.sendall(A_REQUEST)
            assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200")
            # …while one that trickles its headers a byte at a time does not, however steadily it sends,
            trickling = socket.create_connection(("127.0.0.1", served.port), timeout=10)
            with trickling:
                opened = time.monotonic()
                closed = _trickle_until_closed(trickling, HALF_A_REQUEST, 0.1, deadline=opened + 5)
            assert closed is not None
            assert header_timeout <= closed - opened < header_timeout + 2
            # …and neither does one that sends nothing.
            assert _ended_by_server([silent], deadline=time.monotonic() + 2) == 1
            # Once idle, the kept connection's next request gets the same time for its head.
            time.sleep(header_timeout * 1.5)
            kept_alive.sendall(A_REQUEST)
            assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200")
            kept_alive.sendall(HALF_A_REQUEST)
            started = time.monotonic()
            assert _ended_by_server([kept_alive], deadline=started + header_timeout + 2) == 1
            assert time.monotonic() - started >= header_timeout * 0.9


def test_beyond_max_connections_new_connections_are_closed_at_once_without_a_descriptor(
    tmp_path: Path, catalogue_url: str
) -> None:
    cap = 20
    with ServeProcess(tmp_path, engine_url=catalogue_url, max_connections=cap) as served:
        at_rest = served.open_descriptors()
        held = [socket.create_connection(("127.0.0.1", served.port), timeout=10) for _ in range(cap)]
        try:
            for sock in held:  # each answered, so each is open on the server's side too
                sock.sendall(A_REQUEST)
                assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            refused = [socket.create_connection(("127.0.0.1", served.port), timeout=10) for _ in range(200)]
            for sock in refused:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(A_REQUEST)
            ended = _ended_by_server(refused, deadline=time.monotonic() + 5)
            assert ended == len(refused)
            assert served.open_descriptors() <= at_rest + cap + 2
            for sock in refused:
                sock.close()
            assert "refusing new connections: 20 are open" in served.log.read_text()
            # One connection ends: the next one is served.
            held.pop().close()
            deadline = time.monotonic() + 5
            while True:
                try:
                    status, _ = _answer_seconds(served.port, "/healthz")
                    break
                except (ConnectionError, http.client.RemoteDisconnected):
                    assert time.monotonic() < deadline, "no connection served after one ended"
                    time.sleep(0.05)
            assert status == 200
        finally:
            for sock in held:
                sock.close()
