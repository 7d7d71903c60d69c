"""Accounts and readers' data as an Elasticsearch catalogue of schema 6 or 7 kept them, read once to hand
them to the store.

Since schema 8 they live in the stores' database (``unicat/stores``), never in the search engine. A
catalogue written before keeps its indices ``users``, ``sessions``, ``comments``, ``ratings``, ``tags``,
``reports``, ``moderation``, ``lists`` and ``list_entries`` untouched; the first time such a catalogue is
opened with a store, :func:`hand_over` copies their items into the store with their ids and times (the
store numbers later items after them) and records in the meta index that it did, so it is done once.
Sessions are not handed over: readers sign in again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import TypeVar

from elasticsearch import Elasticsearch, NotFoundError

from unicat.accounts import User
from unicat.engines.elasticsearch.indices import IndexNames
from unicat.engines.elasticsearch.scan import scan
from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag

HANDED_OVER_DOC = "readers-handed-over"
"""The meta document that says the readers' data went to a store, with how many accounts (``value``)."""

T = TypeVar("T")


class LegacyReaders:
    """The readers' items of one catalogue's old indices, each kind in its stored order (by id, or by the
    fields that made it one). A document's fields have the names of the item's own."""

    def __init__(self, client: Elasticsearch, names: IndexNames) -> None:
        self._client = client
        self._names = names

    def _items(self, index: str, kind: type[T], sort: Sequence[str]) -> Iterator[T]:
        fields = [field.name for field in dataclasses.fields(kind)]  # type: ignore[arg-type]
        found = scan(self._client, self._names.plain(index), {"match_all": {}}, sort)
        # Numbers come back as JSON numbers, flags as booleans and times as strings: the items' own types.
        return (kind(**{name: source.get(name) for name in fields}) for source in found)

    def list_users(self) -> list[User]:
        return list(self._items("users", User, ["id"]))

    def iter_comments(self) -> Iterator[Comment]:
        return self._items("comments", Comment, ["id"])

    def iter_ratings(self) -> Iterator[Rating]:
        return self._items("ratings", Rating, ["record", "user_id"])

    def iter_tags(self) -> Iterator[Tag]:
        return self._items("tags", Tag, ["record", "user_id", "tag"])

    def iter_reports(self) -> Iterator[Report]:
        return self._items("reports", Report, ["id"])

    def iter_moderation(self) -> Iterator[ModerationAction]:
        return self._items("moderation", ModerationAction, ["id"])

    def iter_lists(self) -> Iterator[ReadingList]:
        return self._items("lists", ReadingList, ["id"])

    def iter_list_entries(self) -> Iterator[ListEntry]:
        return self._items("list_entries", ListEntry, ["list_id", "record"])


def waiting(client: Elasticsearch, names: IndexNames) -> LegacyReaders | None:
    """The old readers' indices of this catalogue, unless there are none or they were handed over."""
    if not client.indices.exists(index=names.plain("users")):
        return None
    try:
        client.get(index=names.meta, id=HANDED_OVER_DOC)
    except NotFoundError:
        return LegacyReaders(client, names)
    return None


def mark_handed_over(client: Elasticsearch, names: IndexNames, accounts: int) -> None:
    client.index(index=names.meta, id=HANDED_OVER_DOC, document={"value": accounts}, refresh=True)
