"""The suite of the account store port (unicat/ports/accounts.py), run over each setup's database
(SQLite alone; PostgreSQL beside Elasticsearch): one account per e-mail address, changes kept, the
accounts of a page read at once, sessions found by their token's hash and forgotten one at a time or
all of an account's at once, and registrations waiting for confirmation, taken once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from unicat.accounts import User, new_registration, new_session, token_hash
from unicat.catalogue import Catalogue
from unicat.errors import UserExists, UserNotFound

# A stored hash as hash_password makes them (the tests of unicat/accounts.py check those): the
# store keeps it as text, and hashing here would cost half a second per account.
HASH = "scrypt$131072$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
MISSING = 10**9


def test_an_account_is_stored_once_per_email_address(catalogue: Catalogue) -> None:
    store = catalogue.accounts
    jane = store.create_user(User("jane@example.org", "Jane", HASH))
    assert jane.id is not None and jane.created is not None and jane.role == "patron"
    with pytest.raises(UserExists):
        store.create_user(User("jane@example.org", "Another Jane", HASH))
    anne = store.create_user(User("anne@example.org", "Anne", HASH, role="librarian", library="BNF"))
    assert anne.id is not None and anne.id != jane.id
    assert store.find_user("jane@example.org") == jane
    assert store.get_user(anne.id) == anne
    assert store.find_user("nobody@example.org") is None and store.get_user(10**9) is None
    assert [user.email for user in store.list_users()] == ["jane@example.org", "anne@example.org"]

    store.update_user(anne.with_changes(role="admin", library=None, display_name="Anne E.", email="x@y.org"))
    changed = store.get_user(anne.id)
    # The e-mail address is the account's key: it stays.
    assert changed is not None and (changed.email, changed.role, changed.library, changed.display_name) == (
        "anne@example.org",
        "admin",
        None,
        "Anne E.",
    )
    with pytest.raises(UserNotFound):
        store.update_user(jane.with_changes(id=10**9))


def test_get_users_reads_the_accounts_that_exist(catalogue: Catalogue) -> None:
    """The authors of a page of comments, read at once."""
    store = catalogue.accounts
    jane = store.create_user(User("jane@example.org", "Jane", HASH))
    anne = store.create_user(User("anne@example.org", "Anne", HASH, role="librarian", library="BNF"))
    store.create_user(User("jo@example.org", "Jo", HASH))
    assert jane.id is not None and anne.id is not None
    assert store.get_users([anne.id, MISSING, jane.id, anne.id]) == {jane.id: jane, anne.id: anne}
    assert store.get_users([]) == {}
    assert store.get_users([MISSING]) == {}


def test_sessions_are_found_by_hash_and_forgotten(catalogue: Catalogue) -> None:
    store = catalogue.accounts
    jane = store.create_user(User("jane@example.org", "Jane", HASH))
    assert jane.id is not None
    _, first = new_session(jane.id)
    _, second = new_session(jane.id)
    store.save_session(first)
    store.save_session(second)
    assert store.get_session(first.token_hash) == first
    assert store.delete_sessions(token_hash=first.token_hash) == 1
    assert store.get_session(first.token_hash) is None
    assert store.delete_sessions(token_hash=first.token_hash) == 0
    _, third = new_session(jane.id)
    store.save_session(third)
    assert store.delete_sessions(user_id=jane.id) == 2
    assert store.get_session(second.token_hash) is None and store.get_session(third.token_hash) is None


def test_a_session_is_read_with_its_account_in_one_go(catalogue: Catalogue) -> None:
    store = catalogue.accounts
    jane = store.create_user(User("jane@example.org", "Jane", HASH, role="librarian", library="BNF"))
    anne = store.create_user(User("anne@example.org", "Anne", HASH))
    assert jane.id is not None and anne.id is not None
    _, janes = new_session(jane.id)
    _, annes = new_session(anne.id)
    store.save_session(janes)
    store.save_session(annes)
    assert store.session_user(janes.token_hash) == (janes, jane)
    assert store.session_user(annes.token_hash) == (annes, anne)
    assert store.session_user("no such hash") is None
    store.delete_sessions(user_id=jane.id)
    assert store.session_user(janes.token_hash) is None


def test_a_registration_waits_under_its_tokens_hash_and_is_taken_once(catalogue: Catalogue) -> None:
    store = catalogue.accounts
    token, registration = new_registration("jane@example.org", "Jane", HASH)
    assert registration.token_hash == token_hash(token) != token
    store.save_registration(registration)
    other_token, other = new_registration("jane@example.org", "Jane again", HASH)
    store.save_registration(other)  # the same address may wait twice: the first confirmed wins
    assert store.get_registration(registration.token_hash) == registration
    assert store.take_registration(registration.token_hash) == registration
    assert store.take_registration(registration.token_hash) is None  # a link works once
    assert store.get_registration(registration.token_hash) is None
    assert store.get_registration(token_hash(other_token)) == other
    assert store.find_user("jane@example.org") is None  # no account until one is confirmed


def test_expired_registrations_are_forgotten_when_another_is_saved(catalogue: Catalogue) -> None:
    store = catalogue.accounts
    _, old = new_registration("old@example.org", "Old", HASH, now=datetime(2020, 1, 1, tzinfo=UTC))
    store.save_registration(old)
    assert store.get_registration(old.token_hash) == old  # expired, but kept until the next save
    _, new = new_registration("new@example.org", "New", HASH)
    store.save_registration(new)
    assert store.get_registration(old.token_hash) is None and store.get_registration(new.token_hash) == new
