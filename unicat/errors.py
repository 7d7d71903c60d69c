"""Error types. Each message tells the user what went wrong and, where possible, what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

Choice = TypeVar("Choice", bound=str)


class UnicatError(Exception):
    """Base of every error Unicat raises on purpose; the CLI prints its message without a traceback."""


class ConfigError(UnicatError):
    """The configuration (file, environment, command line) is invalid."""


class EngineError(UnicatError):
    """The search engine failed to do what was asked."""


class EngineUnavailable(EngineError):
    """The engine cannot be reached or opened (server down, file unreadable)."""


class QueryTimeout(EngineError):
    """A query ran past its time limit and was stopped."""


class SchemaError(EngineError):
    """The engine's stored schema is newer than this Unicat or cannot be migrated."""


class DuplicateKey(EngineError):
    """A write would have stored a second row under a key that must be unique (the stores turn it
    into what it means: an address that has an account, an id already taken)."""


class BadParameter(UnicatError):
    """A request parameter (HTTP or CLI) has a value Unicat cannot use; maps to HTTP 400."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


def choice_of(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The one of ``choices`` that ``text`` is, typed as they are (a ``Literal``), or ``None``: what a
    check of a named value (a role, a stage, a moderation verb) needs before its own BadParameter."""
    for choice in choices:
        if text == choice:
            return choice
    return None


class SourceNotFound(UnicatError):
    """No source with that code is registered."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no source with code {code!r}; `unicat source list` shows the registered ones")
        self.code = code


class HarvestError(UnicatError):
    """A harvest of one source failed (transport, protocol or content); other sources go on."""


class HarvestLimitExceeded(HarvestError):
    """An answer went past a harvest limit (its size, its time); the message names the setting that
    raises the limit. Not worth retrying: the same request would go past it again."""


class RecordError(UnicatError):
    """One record cannot be read or mapped; it is quarantined with this message as its reason."""


class UserExists(UnicatError):
    """An account with that e-mail address exists already."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an account with the e-mail address {email!r} exists already")
        self.email = email


class UserNotFound(UnicatError):
    """No account with that e-mail address or id."""

    def __init__(self, who: str) -> None:
        super().__init__(f"no account {who}; `unicat users list` lists them")
        self.who = who


class ItemNotFound(UnicatError):
    """No comment, list or other reader item with that id."""

    def __init__(self, what: str) -> None:
        super().__init__(f"there is no {what}")
        self.what = what


class Conflict(UnicatError):
    """What was asked cannot be done in the state the thing is in now (a request already refused, or
    changed by someone else meanwhile); maps to HTTP 409. The message says what state it is in."""


class NotAllowed(UnicatError):
    """The person asking may see the thing but not make this change (a librarian of another library,
    a patron acting as a librarian); maps to HTTP 403. The message says who may."""


class LimitReached(UnicatError):
    """A configured limit would be passed; the message names the setting that raises it."""

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class MessageNotFound(UnicatError):
    """No message with that id in the outbox."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"there is no message #{message_id} in the outbox; `unicat mail list` lists them")
        self.message_id = message_id


class MessageNotResendable(UnicatError):
    """A message that is not failed nor interrupted: resending it could send it twice."""

    def __init__(self, message_id: int, state: str) -> None:
        super().__init__(
            f"message #{message_id} is {state}: only failed or interrupted messages can be resent"
        )
        self.message_id = message_id
        self.state = state
