"""Accounts and sessions on every engine: one account per e-mail address, changes kept, sessions
found by their token's hash and forgotten one at a time or all of an account's at once."""

from __future__ import annotations

import pytest

from unicat.accounts import User, new_session
from unicat.engine import Engine
from unicat.errors import UserExists, UserNotFound

# A stored hash as hash_password makes them (the tests of unicat/accounts.py check those): the
# engines store it as text, and hashing here would cost half a second per account.
HASH = "scrypt$131072$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def test_an_account_is_stored_once_per_email_address(engine: Engine) -> None:
    jane = engine.create_user(User("jane@example.org", "Jane", HASH))
    assert jane.id is not None and jane.created is not None and jane.role == "patron"
    with pytest.raises(UserExists):
        engine.create_user(User("jane@example.org", "Another Jane", HASH))
    anne = engine.create_user(User("anne@example.org", "Anne", HASH, role="librarian", library="BNF"))
    assert anne.id is not None and anne.id != jane.id
    assert engine.find_user("jane@example.org") == jane
    assert engine.get_user(anne.id) == anne
    assert engine.find_user("nobody@example.org") is None and engine.get_user(10**9) is None
    assert [user.email for user in engine.list_users()] == ["jane@example.org", "anne@example.org"]

    engine.update_user(anne.with_changes(role="admin", library=None, display_name="Anne E.", email="x@y.org"))
    changed = engine.get_user(anne.id)
    # The e-mail address is the account's key: it stays.
    assert changed is not None and (changed.email, changed.role, changed.library, changed.display_name) == (
        "anne@example.org",
        "admin",
        None,
        "Anne E.",
    )
    with pytest.raises(UserNotFound):
        engine.update_user(jane.with_changes(id=10**9))


def test_sessions_are_found_by_hash_and_forgotten(engine: Engine) -> None:
    jane = engine.create_user(User("jane@example.org", "Jane", HASH))
    assert jane.id is not None
    _, first = new_session(jane.id)
    _, second = new_session(jane.id)
    engine.save_session(first)
    engine.save_session(second)
    assert engine.get_session(first.token_hash) == first
    assert engine.delete_sessions(token_hash=first.token_hash) == 1
    assert engine.get_session(first.token_hash) is None
    assert engine.delete_sessions(token_hash=first.token_hash) == 0
    _, third = new_session(jane.id)
    engine.save_session(third)
    assert engine.delete_sessions(user_id=jane.id) == 2
    assert engine.get_session(second.token_hash) is None and engine.get_session(third.token_hash) is None
