"""What one request may hold (search_app/request_limits.py), on ``unicat serve`` in a process of its own:
a body trickled past ``body_read_timeout`` is answered 408 and its connection closed; beyond
``max_requests_in_flight`` requests really in flight at once, the next is answered 503 with
``Retry-After``, as JSON under ``/api``."""

from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path

from search_app.request_limits import RETRY_AFTER_SECONDS
from tests.support.serve_process import ServeProcess

FORM = b"operation=explain&version=2.0"
"""An SRU request as a form (SRU's POST binding): /sru reads its body."""


def _post_head(length: int) -> bytes:
    return (
        b"POST /sru HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(length).encode() + b"\r\n\r\n"
    )


def _read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the end of the stream, or a reset
    when bytes it did not read were left behind)."""
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def _get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_a_body_trickled_past_the_body_timeout_is_answered_408_and_its_connection_closed(
    tmp_path: Path, catalogue_url: str
) -> None:
    body_timeout = 1.0
    with ServeProcess(tmp_path, engine_url=catalogue_url, body_read_timeout=body_timeout) as served:
        # A body sent in one go is read and answered.
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as prompt:
            prompt.sendall(_post_head(len(FORM)) + FORM)
            assert prompt.recv(65536).startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as slow:
            slow.settimeout(0.1)
            slow.sendall(_post_head(len(FORM)))
            started = time.monotonic()
            answer = b""
            for byte in FORM:  # a byte every 0.1 s: the whole body would take ~3 s
                try:
                    slow.sendall(bytes([byte]))
                    answer = slow.recv(65536)
                except TimeoutError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    break
                break
            answered = time.monotonic()
            slow.settimeout(10)
            answer += _read_answer(slow)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"body_read_timeout" in answer
        assert body_timeout <= answered - started < body_timeout + 2


def test_beyond_max_requests_in_flight_the_next_request_is_answered_503_with_retry_after(
    tmp_path: Path, catalogue_url: str
) -> None:
    with ServeProcess(
        tmp_path, engine_url=catalogue_url, max_requests_in_flight=2, body_read_timeout=30
    ) as served:
        # Requests in flight: each has sent its headers and half its body, so the server is reading them.
        first = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        second = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        with first, second:
            half = len(FORM) // 2
            first.sendall(_post_head(len(FORM)) + FORM[:half])
            # One in flight: below the cap, others are answered.
            assert _get(served.port, "/healthz").status == 200
            second.sendall(_post_head(len(FORM)) + FORM[:half])
            # Two: the next is refused, once the server has read the second's headers.
            deadline = time.monotonic() + 5
            refused = _get(served.port, "/healthz")
            while refused.status == 200 and time.monotonic() < deadline:
                time.sleep(0.05)
                refused = _get(served.port, "/healthz")
            assert refused.status == 503
            assert refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            api = _get(served.port, "/api/search?q=pride")
            assert api.status == 503
            assert api.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert api.headers["Content-Type"].startswith("application/json")
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
            connection.request("GET", "/api/search?q=pride")
            error = json.loads(connection.getresponse().read())["error"]
            connection.close()
            assert error["status"] == 503
            assert "max_requests_in_flight" in error["message"]
            # The held requests end: they are answered, and the others are again.
            for held in (first, second):
                held.sendall(FORM[half:])
                assert held.recv(65536).startswith(b"HTTP/1.1 200")
            assert _get(served.port, "/api/search?q=pride").status == 200
