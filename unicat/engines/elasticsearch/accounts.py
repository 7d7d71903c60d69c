"""Accounts and sessions in Elasticsearch (``unicat/accounts.py`` says what they are).

An account's document id is its normalised e-mail address, so the node itself refuses a second
account with one (``create`` conflicts) whichever process asks; its number comes from the meta
index's counter ``user``. Writes refresh at once: they are rare (registrations, sign-ins), and a
sign-in must find the account that was just made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from unicat.accounts import Session, User, check_role
from unicat.engines.elasticsearch.counters import raise_to, reserve
from unicat.engines.elasticsearch.indices import IndexNames
from unicat.engines.elasticsearch.scan import scan
from unicat.errors import UserExists, UserNotFound

# Accounts read by one search (a terms query and a result window of at most 10,000).
IDS_PER_SEARCH = 10_000


def _user(source: Mapping[str, Any]) -> User:
    return User(
        email=source["email"],
        display_name=source["display_name"],
        password_hash=source["password_hash"],
        role=check_role(source["role"]),
        library=source.get("library"),
        id=int(source["id"]),
        created=source["created"],
    )


def _user_document(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "password_hash": user.password_hash,
        "role": user.role,
        "library": user.library,
        "created": user.created,
    }


def create_user(client: Elasticsearch, names: IndexNames, user: User) -> User:
    if find_user(client, names, user.email) is not None:
        raise UserExists(user.email)
    if user.id is None:
        stored = user.with_changes(id=reserve(client, names.meta, "user"))
    else:
        # A copied account keeps its number; accounts made later are numbered after it.
        stored = user
        raise_to(client, names.meta, "user", user.id)
    try:
        client.create(index=names.users, id=user.email, document=_user_document(stored), refresh=True)
    except ConflictError:
        raise UserExists(user.email) from None
    return stored


def find_user(client: Elasticsearch, names: IndexNames, email: str) -> User | None:
    try:
        return _user(client.get(index=names.users, id=email)["_source"])
    except NotFoundError:
        return None


def get_user(client: Elasticsearch, names: IndexNames, user_id: int) -> User | None:
    hits = client.search(index=names.users, query={"term": {"id": user_id}}, size=1)["hits"]["hits"]
    return _user(hits[0]["_source"]) if hits else None


def get_users(client: Elasticsearch, names: IndexNames, user_ids: Sequence[int]) -> dict[int, User]:
    unique = list(dict.fromkeys(user_ids))
    found: dict[int, User] = {}
    for start in range(0, len(unique), IDS_PER_SEARCH):
        chunk = unique[start : start + IDS_PER_SEARCH]
        hits = client.search(index=names.users, query={"terms": {"id": chunk}}, size=len(chunk))["hits"][
            "hits"
        ]
        found.update((int(hit["_source"]["id"]), _user(hit["_source"])) for hit in hits)
    return found


def list_users(client: Elasticsearch, names: IndexNames) -> list[User]:
    return [_user(doc) for doc in scan(client, names.users, {"match_all": {}}, ["id"])]


def update_user(client: Elasticsearch, names: IndexNames, user: User) -> None:
    current = get_user(client, names, user.id) if user.id is not None else None
    if current is None:
        raise UserNotFound(f"#{user.id}")
    changed = user.with_changes(email=current.email, created=current.created)
    client.index(index=names.users, id=current.email, document=_user_document(changed), refresh=True)


def save_session(client: Elasticsearch, names: IndexNames, session: Session) -> None:
    document = {
        "user_id": session.user_id,
        "created": session.created,
        "expires": session.expires,
        "csrf": session.csrf,
    }
    client.index(index=names.sessions, id=session.token_hash, document=document, refresh=True)


def get_session(client: Elasticsearch, names: IndexNames, token_hash: str) -> Session | None:
    try:
        source = client.get(index=names.sessions, id=token_hash)["_source"]
    except NotFoundError:
        return None
    return Session(token_hash, int(source["user_id"]), source["created"], source["expires"], source["csrf"])


def delete_sessions(
    client: Elasticsearch, names: IndexNames, *, token_hash: str | None, user_id: int | None
) -> int:
    if (token_hash is None) == (user_id is None):
        raise ValueError("give a token hash or a user id")
    if token_hash is not None:
        try:
            client.delete(index=names.sessions, id=token_hash, refresh=True)
        except NotFoundError:
            return 0
        return 1
    # A core-only node has no delete-by-query: find the account's sessions, then delete them.
    hits = client.search(
        index=names.sessions, query={"term": {"user_id": user_id}}, size=10_000, source=False
    )
    ids = [hit["_id"] for hit in hits["hits"]["hits"]]
    if ids:
        client.bulk(
            operations=[{"delete": {"_index": names.sessions, "_id": doc_id}} for doc_id in ids], refresh=True
        )
    return len(ids)
