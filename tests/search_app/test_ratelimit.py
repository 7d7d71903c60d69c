"""The backoff and memory of search_app/ratelimit.py, on a clock the test moves (seconds as numbers)."""

from __future__ import annotations

from search_app.ratelimit import Backoff, Remembered


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_backoff_doubles_the_wait_after_the_free_failures_up_to_the_window() -> None:
    clock = Clock()
    backoff = Backoff(free=2, window=1000.0, base=1.0, clock=clock)
    backoff.record("k")
    backoff.record("k")
    waits = []
    for _ in range(8):
        wait = backoff.retry_after("k")
        assert wait is not None
        waits.append(wait)
        clock.now += wait  # the guesser waits exactly as long as told, then fails again
        assert backoff.retry_after("k") is None
        backoff.record("k")
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128]
    assert backoff.retry_after("other") is None
    # Ten failures past the free ones would mean 1,024 s: the wait is never longer than the window.
    for _ in range(2):
        backoff.record("k")
    assert backoff.retry_after("k") == 1000.0


def test_a_backoff_forgets_failures_after_the_window_and_can_take_one_back() -> None:
    clock = Clock()
    backoff = Backoff(free=1, window=10.0, base=3.0, clock=clock)
    backoff.record("k")
    assert backoff.retry_after("k") == 3.0
    backoff.cancel("k")
    assert backoff.retry_after("k") is None
    backoff.record("k")
    clock.now = 10.5
    assert backoff.retry_after("k") is None  # the failure left the window


def test_remembered_keys_expire() -> None:
    clock = Clock()
    seen = Remembered(ttl=60.0, clock=clock)
    seen.add(("ann@example.org", "127.0.0.2"))
    assert ("ann@example.org", "127.0.0.2") in seen and ("ann@example.org", "127.0.0.3") not in seen
    clock.now = 61.0
    assert ("ann@example.org", "127.0.0.2") not in seen
