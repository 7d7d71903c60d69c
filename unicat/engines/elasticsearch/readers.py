"""What readers add, in Elasticsearch (``unicat/readers.py`` says what it is): comments, ratings, tags,
reports of comments, the moderation log, reading lists and their entries, one index each.

Numbered items (comments, reports, moderation actions, lists) take their number from the meta index's
counters (``comment``, ``report``, ``moderation``, ``list``) and are stored under it. An engine reserves
those numbers :data:`NUMBER_BLOCK` at a time and hands them out itself (``counters.NumberBlocks``):
one counter write per block instead of one per item, on a document every poster would otherwise queue
on. The others are stored under an id made of what makes them one (a reader's rating of a record, a
reader's tag on a record, a record on a list), and so is a report (a comment and its reporter): the
node itself keeps them single whichever process writes, a replacing write (``index``) where the later
one wins, a refused one (``create`` conflicts) where the first one stays.

Every write is searchable before it answers: a reader who posts goes straight back to a page that
lists what they posted. Most writes ask the node to refresh (``refresh=True``); a new comment,
moderation action or list is written without and then waits for a refresh of its index shared with
the engine's other writers of the moment (``refreshes.SharedRefresh``), so many comments posted at
once cost a few refreshes, not one each. Reads that list search with sorts on keyword and long fields
and page by ``search_after``, so no answer is cut at the node's result window.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from unicat.clock import utc_now
from unicat.engines.elasticsearch.counters import NumberBlocks
from unicat.engines.elasticsearch.indices import IndexNames
from unicat.engines.elasticsearch.records import MAX_ID_BYTES
from unicat.engines.elasticsearch.refreshes import SharedRefresh
from unicat.engines.elasticsearch.scan import scan
from unicat.errors import EngineError, ItemNotFound
from unicat.readers import Comment, ListEntry, ModerationAction, Rating, ReadingList, Report, Tag, check_verb

MAX_TERMS = 10_000
"""Values in one ``terms`` query (the node refuses more than ``index.max_terms_count``, 65,536 by
default); longer lists are split into several, any of which may match."""
PAGE = 1_000
"""Hits read per request by the searches that list."""
NUMBER_BLOCK = 50
"""Numbers of a counter one engine reserves at once (``counters.NumberBlocks``)."""
COMPOSITE_PAGE = 10_000
"""Buckets per request of a composite aggregation (the node allows 65,536 by default)."""
PRECISION = 40_000
"""The cardinality aggregation's threshold (its highest). Its counts are estimates: exact up to a few
thousand records a tag (measured on 9.2: exact at 5,000, 39,008 for 39,000), far closer than a tag
cloud needs; SQLite's are exact."""

Doc = dict[str, Any]
Sort = list[dict[str, str]]

NEWEST_COMMENTS: Sort = [{"created": "desc"}, {"id": "desc"}]
OLDEST_REPORTS: Sort = [{"created": "asc"}, {"id": "asc"}]
NEWEST_ACTIONS: Sort = [{"at": "desc"}, {"id": "desc"}]


# -- ids, searches and deletes shared by every kind ---------------------------------------------------
def item_key(*parts: str | int) -> str:
    """The document id of an item made one by several values: their JSON array (no value can run
    into the next), hashed when it is too long for an id."""
    key = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    if len(key.encode("utf-8")) <= MAX_ID_BYTES:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _any_of(field: str, values: Sequence[str | int]) -> dict[str, Any]:
    unique = list(dict.fromkeys(values))
    chunks = [unique[start : start + MAX_TERMS] for start in range(0, len(unique), MAX_TERMS)]
    if len(chunks) == 1:
        return {"terms": {field: chunks[0]}}
    return {"bool": {"should": [{"terms": {field: chunk}} for chunk in chunks], "minimum_should_match": 1}}


def _term(field: str, value: str | int) -> dict[str, Any]:
    return {"term": {field: value}}


def _sorted_hits(
    client: Elasticsearch, index: str, query: Mapping[str, Any], sort: Sort, limit: int | None = None
) -> list[Doc]:
    """The ``_source`` of the matching documents in ``sort`` order (which must make them unique), all
    of them or the first ``limit``."""
    found: list[Doc] = []
    after: list[Any] | None = None
    while limit is None or len(found) < limit:
        size = PAGE if limit is None else min(PAGE, limit - len(found))
        request: dict[str, Any] = {"query": query, "sort": sort, "size": size, "track_total_hits": False}
        if after is not None:
            request["search_after"] = after
        hits = client.search(index=index, **request)["hits"]["hits"]
        found.extend(hit["_source"] for hit in hits)
        if len(hits) < size:
            break
        after = hits[-1]["sort"]
    return found


def _get(client: Elasticsearch, index: str, doc_id: str) -> Doc | None:
    try:
        return dict(client.get(index=index, id=doc_id)["_source"])
    except NotFoundError:
        return None


def _update(client: Elasticsearch, index: str, doc_id: str, change: Doc, what: str) -> None:
    """Set the fields of ``change`` in a document; :class:`ItemNotFound` (naming ``what``) if none."""
    try:
        client.update(index=index, id=doc_id, doc=change, refresh=True)
    except NotFoundError:
        raise ItemNotFound(what) from None


def _delete(client: Elasticsearch, index: str, doc_id: str) -> bool:
    try:
        client.delete(index=index, id=doc_id, refresh=True)
    except NotFoundError:
        return False
    return True


def _delete_matching(client: Elasticsearch, index: str, query: Mapping[str, Any]) -> None:
    # A core-only node has no delete-by-query: find the documents, then delete them.
    while hits := client.search(index=index, query=query, size=MAX_TERMS, source=False)["hits"]["hits"]:
        answer = client.bulk(
            operations=[{"delete": {"_index": index, "_id": hit["_id"]}} for hit in hits], refresh=True
        )
        failed = [
            item["delete"]
            for item in answer["items"]
            if item["delete"].get("error") and item["delete"].get("status") != 404
        ]
        if failed:
            raise EngineError(f"{len(failed)} documents of {index} not deleted: {failed[0]['error']}")


@dataclasses.dataclass(frozen=True, slots=True)
class Numbering:
    """What one engine's numbered writes share: its blocks of numbers and its refreshes."""

    numbers: NumberBlocks
    refreshes: SharedRefresh


def _number(numbering: Numbering, counter: str, given: int | None) -> int:
    """A new item's number: a free one of ``counter``, or the one it has (a copied catalogue's), which
    later numbers then follow."""
    if given is None:
        return numbering.numbers.take(counter)
    numbering.numbers.raise_to(counter, given)
    return given


def _create_numbered(
    client: Elasticsearch, numbering: Numbering, index: str, number: int, reserved: bool, document: Doc
) -> None:
    # A reserved number is nobody else's, so ``create`` can only conflict if the counter went back; a
    # given one is put as it was (copying a catalogue again gives the same items).
    if reserved:
        client.create(index=index, id=str(number), document=document)
    else:
        client.index(index=index, id=str(number), document=document)
    numbering.refreshes.after_write(index)


# -- comments ------------------------------------------------------------------------------------------
def _comment(source: Mapping[str, Any]) -> Comment:
    return Comment(
        record=source["record"],
        user_id=int(source["user_id"]),
        body=source["body"],
        id=int(source["id"]),
        created=source["created"],
        edited=source.get("edited"),
        hidden=bool(source.get("hidden")),
        hidden_reason=source.get("hidden_reason"),
    )


def add_comment(client: Elasticsearch, names: IndexNames, numbering: Numbering, comment: Comment) -> Comment:
    number = _number(numbering, "comment", comment.id)
    stored = comment.with_changes(id=number, created=comment.created or utc_now())
    _create_numbered(client, numbering, names.comments, number, comment.id is None, stored.to_json())
    return stored


def get_comment(client: Elasticsearch, names: IndexNames, comment_id: int) -> Comment | None:
    source = _get(client, names.comments, str(comment_id))
    return _comment(source) if source is not None else None


def update_comment(client: Elasticsearch, names: IndexNames, comment: Comment) -> None:
    if comment.id is None:
        raise ItemNotFound("comment without an id")
    change = {
        "body": comment.body,
        "edited": comment.edited,
        "hidden": comment.hidden,
        "hidden_reason": comment.hidden_reason,
    }
    _update(client, names.comments, str(comment.id), change, f"comment #{comment.id}")


def delete_comment(client: Elasticsearch, names: IndexNames, comment_id: int) -> bool:
    existed = _delete(client, names.comments, str(comment_id))
    # Always: a report filed while the comment was being deleted must not stay in the queue.
    _delete_matching(client, names.reports, _term("comment_id", comment_id))
    return existed


def comments_for(client: Elasticsearch, names: IndexNames, records: Sequence[str]) -> list[Comment]:
    if not records:
        return []
    found = _sorted_hits(client, names.comments, _any_of("record", records), NEWEST_COMMENTS)
    return [_comment(source) for source in found]


def comments_by(client: Elasticsearch, names: IndexNames, user_id: int) -> list[Comment]:
    found = _sorted_hits(client, names.comments, _term("user_id", user_id), NEWEST_COMMENTS)
    return [_comment(source) for source in found]


def iter_comments(client: Elasticsearch, names: IndexNames) -> Iterator[Comment]:
    return (_comment(source) for source in scan(client, names.comments, {"match_all": {}}, ["id"]))


# -- ratings -------------------------------------------------------------------------------------------
def _rating(source: Mapping[str, Any]) -> Rating:
    return Rating(source["record"], int(source["user_id"]), int(source["stars"]), source["at"])


def set_rating(client: Elasticsearch, names: IndexNames, rating: Rating) -> Rating:
    stored = dataclasses.replace(rating, at=rating.at or utc_now())
    document = {"record": stored.record, "user_id": stored.user_id, "stars": stored.stars, "at": stored.at}
    client.index(
        index=names.ratings, id=item_key(rating.record, rating.user_id), document=document, refresh=True
    )
    return stored


def delete_rating(client: Elasticsearch, names: IndexNames, record: str, user_id: int) -> bool:
    return _delete(client, names.ratings, item_key(record, user_id))


def ratings_for(client: Elasticsearch, names: IndexNames, records: Sequence[str]) -> list[Rating]:
    if not records:
        return []
    sort: Sort = [{"record": "asc"}, {"user_id": "asc"}]
    return [
        _rating(source) for source in _sorted_hits(client, names.ratings, _any_of("record", records), sort)
    ]


def iter_ratings(client: Elasticsearch, names: IndexNames) -> Iterator[Rating]:
    found = scan(client, names.ratings, {"match_all": {}}, ["record", "user_id"])
    return (_rating(source) for source in found)


# -- tags ----------------------------------------------------------------------------------------------
def _tag(source: Mapping[str, Any]) -> Tag:
    return Tag(source["record"], int(source["user_id"]), source["tag"], source["at"])


def add_tag(client: Elasticsearch, names: IndexNames, tag: Tag) -> Tag:
    stored = dataclasses.replace(tag, at=tag.at or utc_now())
    doc_id = item_key(tag.record, tag.user_id, tag.tag)
    document = {"record": stored.record, "user_id": stored.user_id, "tag": stored.tag, "at": stored.at}
    try:
        client.create(index=names.tags, id=doc_id, document=document, refresh=True)
    except ConflictError:
        # The reader put this tag on this record before: that one stays.
        existing = _get(client, names.tags, doc_id)
        if existing is not None:
            return _tag(existing)
        return add_tag(client, names, tag)
    return stored


def remove_tag(client: Elasticsearch, names: IndexNames, record: str, user_id: int, tag: str) -> bool:
    return _delete(client, names.tags, item_key(record, user_id, tag))


def tags_for(client: Elasticsearch, names: IndexNames, records: Sequence[str]) -> list[Tag]:
    if not records:
        return []
    sort: Sort = [{"record": "asc"}, {"user_id": "asc"}, {"tag": "asc"}]
    return [_tag(source) for source in _sorted_hits(client, names.tags, _any_of("record", records), sort)]


def tag_counts(client: Elasticsearch, names: IndexNames, limit: int) -> list[tuple[str, int]]:
    if limit <= 0:
        return []
    aggs = {
        "tags": {
            "terms": {"field": "tag", "size": limit, "order": [{"records": "desc"}, {"_key": "asc"}]},
            "aggs": {"records": {"cardinality": {"field": "record", "precision_threshold": PRECISION}}},
        }
    }
    answer = client.search(index=names.tags, size=0, aggs=aggs)
    return [
        (bucket["key"], int(bucket["records"]["value"]))
        for bucket in answer["aggregations"]["tags"]["buckets"]
    ]


def tagged_records(client: Elasticsearch, names: IndexNames, tag: str, limit: int) -> list[str]:
    found: list[str] = []
    after: Mapping[str, Any] | None = None
    while len(found) < limit:
        composite: dict[str, Any] = {
            "size": min(COMPOSITE_PAGE, limit - len(found)),
            "sources": [{"record": {"terms": {"field": "record"}}}],
        }
        if after is not None:
            composite["after"] = after
        answer = client.search(
            index=names.tags, query=_term("tag", tag), size=0, aggs={"records": {"composite": composite}}
        )
        records = answer["aggregations"]["records"]
        found.extend(bucket["key"]["record"] for bucket in records["buckets"])
        if len(records["buckets"]) < composite["size"]:
            break
        after = records["after_key"]
    return found


def iter_tags(client: Elasticsearch, names: IndexNames) -> Iterator[Tag]:
    return (
        _tag(source) for source in scan(client, names.tags, {"match_all": {}}, ["record", "user_id", "tag"])
    )


# -- reports and the moderation log -------------------------------------------------------------------
def _report(source: Mapping[str, Any]) -> Report:
    resolution = source.get("resolution")
    return Report(
        comment_id=int(source["comment_id"]),
        user_id=int(source["user_id"]),
        reason=source["reason"],
        id=int(source["id"]),
        created=source["created"],
        resolution=int(resolution) if resolution is not None else None,
    )


def add_report(client: Elasticsearch, names: IndexNames, numbering: Numbering, report: Report) -> Report:
    doc_id = item_key(report.comment_id, report.user_id)
    # Most reports are a reader's first on that comment; looking first spares a number when not.
    existing = _get(client, names.reports, doc_id)
    if existing is not None:
        return _report(existing)
    number = _number(numbering, "report", report.id)
    stored = dataclasses.replace(report, id=number, created=report.created or utc_now())
    try:
        client.create(index=names.reports, id=doc_id, document=stored.to_json(), refresh=True)
    except ConflictError:
        # The same reader's report, filed meanwhile from another page or process, stays.
        existing = _get(client, names.reports, doc_id)
        if existing is None:
            return add_report(client, names, numbering, report)
        return _report(existing)
    return stored


def reports_for(client: Elasticsearch, names: IndexNames, comment_ids: Sequence[int]) -> list[Report]:
    if not comment_ids:
        return []
    found = _sorted_hits(client, names.reports, _any_of("comment_id", comment_ids), OLDEST_REPORTS)
    return [_report(source) for source in found]


def _open(comment_id: int | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"must_not": [{"exists": {"field": "resolution"}}]}
    if comment_id is not None:
        condition["filter"] = [_term("comment_id", comment_id)]
    return {"bool": condition}


def open_reports(client: Elasticsearch, names: IndexNames, limit: int) -> list[Report]:
    found = _sorted_hits(client, names.reports, _open(), OLDEST_REPORTS, max(0, limit))
    return [_report(source) for source in found]


def resolve_reports(client: Elasticsearch, names: IndexNames, comment_id: int, action_id: int) -> int:
    resolved = 0
    query = _open(comment_id)
    while hits := client.search(index=names.reports, query=query, size=MAX_TERMS, seq_no_primary_term=True)[
        "hits"
    ]["hits"]:
        # Written only if unchanged since read: a report two librarians close at once counts once,
        # and one deleted meanwhile (with its comment) is not brought back.
        operations: list[Doc] = []
        for hit in hits:
            guard = {"if_seq_no": hit["_seq_no"], "if_primary_term": hit["_primary_term"]}
            operations.append({"index": {"_index": names.reports, "_id": hit["_id"], **guard}})
            operations.append({**hit["_source"], "resolution": action_id})
        answer = client.bulk(operations=operations, refresh=True)
        for item in answer["items"]:
            outcome = item["index"]
            if not outcome.get("error"):
                resolved += 1
            elif outcome.get("status") != 409:
                raise EngineError(f"reports on comment #{comment_id} not closed: {outcome['error']}")
    return resolved


def iter_reports(client: Elasticsearch, names: IndexNames) -> Iterator[Report]:
    return (_report(source) for source in scan(client, names.reports, {"match_all": {}}, ["id"]))


def _action(source: Mapping[str, Any]) -> ModerationAction:
    return ModerationAction(
        comment_id=int(source["comment_id"]),
        verb=check_verb(source["verb"]),
        reason=source["reason"],
        user_id=int(source["user_id"]),
        id=int(source["id"]),
        at=source["at"],
    )


def log_moderation(
    client: Elasticsearch, names: IndexNames, numbering: Numbering, action: ModerationAction
) -> ModerationAction:
    number = _number(numbering, "moderation", action.id)
    stored = dataclasses.replace(action, id=number, at=action.at or utc_now())
    _create_numbered(client, numbering, names.moderation, number, action.id is None, stored.to_json())
    return stored


def moderation_log(
    client: Elasticsearch, names: IndexNames, comment_id: int | None, limit: int
) -> list[ModerationAction]:
    query = _term("comment_id", comment_id) if comment_id is not None else {"match_all": {}}
    found = _sorted_hits(client, names.moderation, query, NEWEST_ACTIONS, max(0, limit))
    return [_action(source) for source in found]


def iter_moderation(client: Elasticsearch, names: IndexNames) -> Iterator[ModerationAction]:
    return (_action(source) for source in scan(client, names.moderation, {"match_all": {}}, ["id"]))


# -- reading lists -------------------------------------------------------------------------------------
def _list(source: Mapping[str, Any]) -> ReadingList:
    return ReadingList(
        user_id=int(source["user_id"]),
        name=source["name"],
        description=source["description"],
        public=bool(source["public"]),
        id=int(source["id"]),
        created=source["created"],
        updated=source["updated"],
    )


def add_list(
    client: Elasticsearch, names: IndexNames, numbering: Numbering, reading_list: ReadingList
) -> ReadingList:
    number = _number(numbering, "list", reading_list.id)
    created = reading_list.created or utc_now()
    stored = reading_list.with_changes(id=number, created=created, updated=reading_list.updated or created)
    _create_numbered(client, numbering, names.lists, number, reading_list.id is None, stored.to_json())
    return stored


def get_list(client: Elasticsearch, names: IndexNames, list_id: int) -> ReadingList | None:
    source = _get(client, names.lists, str(list_id))
    return _list(source) if source is not None else None


def update_list(client: Elasticsearch, names: IndexNames, reading_list: ReadingList) -> None:
    if reading_list.id is None:
        raise ItemNotFound("list without an id")
    change = {
        "name": reading_list.name,
        "description": reading_list.description,
        "public": reading_list.public,
        "updated": reading_list.updated or utc_now(),
    }
    _update(client, names.lists, str(reading_list.id), change, f"list #{reading_list.id}")


def delete_list(client: Elasticsearch, names: IndexNames, list_id: int) -> bool:
    existed = _delete(client, names.lists, str(list_id))
    _delete_matching(client, names.list_entries, _term("list_id", list_id))
    return existed


def lists_of(client: Elasticsearch, names: IndexNames, user_id: int) -> list[ReadingList]:
    sort: Sort = [{"updated": "desc"}, {"id": "desc"}]
    return [_list(source) for source in _sorted_hits(client, names.lists, _term("user_id", user_id), sort)]


def iter_lists(client: Elasticsearch, names: IndexNames) -> Iterator[ReadingList]:
    return (_list(source) for source in scan(client, names.lists, {"match_all": {}}, ["id"]))


def _entry(source: Mapping[str, Any]) -> ListEntry:
    return ListEntry(int(source["list_id"]), source["record"], source["added"])


def add_list_entry(client: Elasticsearch, names: IndexNames, entry: ListEntry) -> ListEntry:
    stored = dataclasses.replace(entry, added=entry.added or utc_now())
    doc_id = item_key(entry.list_id, entry.record)
    document = {"list_id": stored.list_id, "record": stored.record, "added": stored.added}
    try:
        client.create(index=names.list_entries, id=doc_id, document=document, refresh=True)
    except ConflictError:
        # On the list already: the first entry stays, with when it was added.
        existing = _get(client, names.list_entries, doc_id)
        if existing is None:
            return add_list_entry(client, names, entry)
        return _entry(existing)
    return stored


def remove_list_entry(client: Elasticsearch, names: IndexNames, list_id: int, record: str) -> bool:
    return _delete(client, names.list_entries, item_key(list_id, record))


def list_entries(client: Elasticsearch, names: IndexNames, list_id: int) -> list[ListEntry]:
    sort: Sort = [{"added": "desc"}, {"record": "asc"}]
    found = _sorted_hits(client, names.list_entries, _term("list_id", list_id), sort)
    return [_entry(source) for source in found]


def iter_list_entries(client: Elasticsearch, names: IndexNames) -> Iterator[ListEntry]:
    found = scan(client, names.list_entries, {"match_all": {}}, ["list_id", "record"])
    return (_entry(source) for source in found)


# -- redirects (written by the union rebuild, engines/elasticsearch/union.py) ---------------------------
def redirects_from(client: Elasticsearch, names: IndexNames, union_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    unique = list(dict.fromkeys(union_ids))
    for start in range(0, len(unique), MAX_TERMS):
        # By id, real time: a redirect saved by a rebuild is seen before any refresh.
        answer = client.mget(index=names.redirects, ids=unique[start : start + MAX_TERMS])
        found.update({doc["_id"]: doc["_source"]["new_id"] for doc in answer["docs"] if doc.get("found")})
    return found


def redirects_to(client: Elasticsearch, names: IndexNames, union_ids: Sequence[str]) -> dict[str, list[str]]:
    if not union_ids:
        return {}
    # new_id has doc values but no index (redirects.json): the node answers a terms query on it from
    # them, which for a few ids is fast enough, and older catalogues need no new field.
    found: dict[str, list[str]] = {}
    for source in _sorted_hits(client, names.redirects, _any_of("new_id", union_ids), [{"old_id": "asc"}]):
        found.setdefault(source["new_id"], []).append(source["old_id"])
    return found
