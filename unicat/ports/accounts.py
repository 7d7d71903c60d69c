"""The account store: readers' and librarians' accounts, the sessions of signed-in browsers, and the
registrations waiting for their address to be confirmed.

What an account is, and how passwords and session tokens are kept, is :mod:`unicat.accounts`; this
port is where they are stored. Implemented once in SQL over either database (``unicat/stores/accounts.py``).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from unicat.accounts import Registration, Session, User


class AccountStore(abc.ABC):
    """Accounts, sessions and registrations. Every method is synchronous and safe to call from several
    threads."""

    @abc.abstractmethod
    def create_user(self, user: User) -> User:
        """Store a new account; returns it with its ``id`` and ``created`` (an account that has an
        ``id`` keeps it: a copied catalogue's; later ones are numbered after it). Raises
        :class:`~unicat.errors.UserExists` when its e-mail address (normalised) has an account."""

    @abc.abstractmethod
    def get_user(self, user_id: int) -> User | None: ...

    @abc.abstractmethod
    def find_user(self, email: str) -> User | None:
        """The account of a normalised e-mail address, or ``None``."""

    @abc.abstractmethod
    def list_users(self) -> list[User]:
        """Every account, oldest first."""

    @abc.abstractmethod
    def update_user(self, user: User) -> None:
        """Store an account's new name, role, library or password hash (by its ``id``; the e-mail
        address stays); raises :class:`~unicat.errors.UserNotFound` for an id that has none."""

    @abc.abstractmethod
    def save_session(self, session: Session) -> None: ...

    @abc.abstractmethod
    def get_session(self, token_hash: str) -> Session | None:
        """The session of a token's hash, expired or not (the caller checks ``expires``)."""

    @abc.abstractmethod
    def session_user(self, token_hash: str) -> tuple[Session, User] | None:
        """The session of a token's hash with its account, in one read (every signed-in request asks),
        expired or not; ``None`` when either is gone."""

    @abc.abstractmethod
    def delete_sessions(self, *, token_hash: str | None = None, user_id: int | None = None) -> int:
        """Forget one session (sign-out) or every session of an account (a password changed);
        returns how many went."""

    @abc.abstractmethod
    def get_users(self, user_ids: Sequence[int]) -> dict[int, User]:
        """The accounts of these ids that exist, by id (the authors beside a page of comments)."""

    @abc.abstractmethod
    def save_registration(self, registration: Registration) -> None:
        """Keep a registration waiting for its address to be confirmed (and forget the expired ones)."""

    @abc.abstractmethod
    def get_registration(self, token_hash: str) -> Registration | None:
        """The registration of a token's hash, expired or not, left in place."""

    @abc.abstractmethod
    def take_registration(self, token_hash: str) -> Registration | None:
        """The registration of a token's hash, expired or not, forgotten at once: a link works once,
        however many requests bring it together."""
