"""Sign-in throttling that slows a password guesser down without locking the account's owner out.

A lock-out after a few failures from anywhere lets anyone lock any reader out. Instead, failures
are counted three ways, each with a few free ones and then a wait that doubles with every further
failure (the :class:`~search_app.ratelimit.Backoff`):

- per account and address (``signin_free_attempts``): one guesser at one account;
- per address (``signin_limit_address``): one guesser trying many accounts;
- per account from everywhere (``signin_limit_account``, high): many addresses at one account. This
  one spares the owner: it does not apply to a browser that has signed in to the account before (it
  holds a *known-browser* cookie) nor to an address the account signed in from lately, and the
  owner's successful sign-in clears the count.

A known browser is also spared the per-address count (a guesser behind the same address, a campus
NAT say, does not slow the owner). The known-browser cookie names the account and carries an HMAC
keyed with the account's password hash (OWASP's "device cookies"): nobody without that hash can
make one, it keeps working across restarts and processes, and a password change voids them all.

An attempt is counted before its password is checked and taken back if it succeeds, so a burst of
parallel tries cannot all get through before the first failure is counted. The counts live in the
web process's memory (search_app/ratelimit.py says what that means).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web

from search_app.ratelimit import Backoff, RateLimited, Remembered
from unicat.accounts import SESSION_DAYS, User
from unicat.settings import Settings

KNOWN_BROWSER_COOKIE = "unicat_known_browser"
KNOWN_BROWSER_DAYS = 365
_NONCE_BYTES = 16


@dataclass(frozen=True, slots=True)
class SigninThrottle:
    """The counts of failed sign-ins, and where each account signed in from lately."""

    per_pair: Backoff
    per_address: Backoff
    per_account: Backoff
    known_addresses: Remembered

    @classmethod
    def from_settings(cls, settings: Settings) -> SigninThrottle:
        window, base = settings.signin_window, settings.signin_backoff
        return cls(
            Backoff(settings.signin_free_attempts, window, base),
            Backoff(settings.signin_limit_address, window, base),
            Backoff(settings.signin_limit_account, window, base),
            Remembered(SESSION_DAYS * 86_400),
        )

    def _limits(self, email: str, address: str, known_browser: bool) -> list[tuple[Backoff, object]]:
        limits: list[tuple[Backoff, object]] = [(self.per_pair, (email, address))]
        if not known_browser:
            limits.append((self.per_address, address))
            if (email, address) not in self.known_addresses:
                limits.append((self.per_account, email))
        return limits

    def attempt(self, what: str, email: str, address: str, known_browser: bool) -> None:
        """Count one attempt on ``email`` from ``address``, or raise :class:`RateLimited` (the longest
        wait of the counts that apply) without counting it."""
        limits = self._limits(email, address, known_browser)
        waits = [wait for limiter, key in limits if (wait := limiter.retry_after(key)) is not None]
        if waits:
            raise RateLimited(what, max(waits))
        for limiter, key in limits:
            limiter.record(key)

    def succeeded(self, email: str, address: str, known_browser: bool) -> None:
        """The attempt was the account's owner: take it back, clear the account's counts and remember
        the address."""
        if not known_browser:
            self.per_address.cancel(address)
        self.per_pair.forget((email, address))
        self.per_account.forget(email)
        self.known_addresses.add((email, address))


def _signature(user: User, nonce: str) -> str:
    message = f"unicat-known-browser:{user.id}:{nonce}".encode()
    return hmac.new(user.password_hash.encode(), message, hashlib.sha256).hexdigest()


def is_known_browser(request: web.Request, user: User | None) -> bool:
    """Whether the request comes from a browser that signed in to ``user``'s account with its current
    password."""
    value = request.cookies.get(KNOWN_BROWSER_COOKIE, "")
    if user is None or len(value) > 200:
        return False
    user_id, _, rest = value.partition(".")
    nonce, _, signature = rest.partition(".")
    if user_id != str(user.id) or not nonce:
        return False
    return hmac.compare_digest(signature.encode(), _signature(user, nonce).encode())


def remember_browser(response: web.StreamResponse, user: User, settings: Settings) -> None:
    """Give the browser a known-browser cookie for ``user`` (it replaces one for another account);
    another site's page never sends it (SameSite=Strict)."""
    nonce = secrets.token_urlsafe(_NONCE_BYTES)
    response.set_cookie(
        KNOWN_BROWSER_COOKIE,
        f"{user.id}.{nonce}.{_signature(user, nonce)}",
        max_age=KNOWN_BROWSER_DAYS * 86_400,
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="Strict",
    )
