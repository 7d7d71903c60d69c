"""Readers' comments, ratings and tags on record pages, and as JSON.

A signed-in reader comments on a record, edits or deletes their own comments, rates the record
(1–5 stars, once: rating again replaces it), tags it, and reports someone else's comment. Comments
are plain text: the page escapes them and keeps their line breaks, nothing in them is markup.

Who sees what: everyone sees the comments no librarian hid; the author of a hidden comment sees it
with the librarian's reason; librarians see every comment with its open reports. Everything is
attached to the record's union id as the reader saw it; a record page also shows what was written on
the ids merged into it (search_app/readers/reader_data.py).

Every post that adds or changes something (comments and their edits, reports, ratings, tags) counts
against one budget per account and per address (``post_limit_*``); taking one's own back (deleting a
comment, removing a tag or a rating) does not: it only undoes what was counted.
"""

from __future__ import annotations

from aiohttp import web

from search_app.auth import Viewer, check_post_rate, count_post, require_signed_in
from search_app.catalogue.fetch import checked_id, find_live_id, find_record
from search_app.catalogue.pages import record_page
from search_app.errors import RecordNotFound
from search_app.i18n import N_, gettext
from search_app.json_body import json_body
from search_app.links import api_record_url, record_url
from search_app.readers.accounts import form_fields, see_other
from search_app.readers.reader_data import record_contributions
from search_app.readers.record_readers import readers_context
from search_app.render import render
from search_app.state import CATALOGUE, CONTRIBUTIONS, in_thread
from unicat.catalogue import Catalogue
from unicat.clock import utc_now
from unicat.errors import BadParameter, ItemNotFound
from unicat.readers import (
    MAX_TAGS_PER_RECORD,
    Comment,
    Rating,
    Report,
    Tag,
    check_comment,
    check_reason,
    check_stars,
    normalise_tag,
    parse_tags,
)


# -- changes -----------------------------------------------------------------------------------------
async def _live_record(request: web.Request) -> str:
    """The union id a change is made on: the page's record, or where it now lives if it moved."""
    return await find_live_id(request, request.match_info["id"])


async def _comment(request: web.Request) -> Comment:
    raw = request.match_info["comment"]
    found = None
    if raw.isdigit() and len(raw) < 19:
        found = await in_thread(request.app, request.app[CONTRIBUTIONS].get_comment, int(raw))
    if found is None or found.id is None:
        raise ItemNotFound(f"comment {raw[:20]!r}")
    return found


async def _own_comment(request: web.Request, seen: Viewer) -> Comment:
    comment = await _comment(request)
    if comment.user_id != seen.user_id:
        raise web.HTTPForbidden(reason=N_("only its author can change a comment"))
    return comment


async def post_comment(request: web.Request) -> web.Response:
    """Take the record page's comment form; a refused comment shows the page again (400) with the
    reason and the text as typed."""
    seen = require_signed_in(request)
    form = await form_fields(request, long=("body",))
    found = await find_record(request, request.match_info["id"])
    if isinstance(found, str):
        found = await find_record(request, found)
        assert not isinstance(found, str)
    try:
        comment = await add_comment(request, seen, found.id, form.get("body", ""))
    except BadParameter as exc:
        typed = {"comment_error": gettext(exc.message), "comment_typed": form.get("body", "")}
        return await record_page(request, found, typed, status=400)
    return see_other(record_url(found.id, f"comment-{comment.id}"))


async def add_comment(request: web.Request, seen: Viewer, record_id: str, body: str) -> Comment:
    """Check, rate-limit and store a new comment on ``record_id``, or on the record it was merged
    into (the form and the JSON API post through here); :class:`RecordNotFound` when neither is live."""
    text = check_comment(body)
    check_post_rate(request, seen, "comments")
    assert seen.user_id is not None
    comment = Comment(checked_id(record_id), seen.user_id, text)
    stored = await in_thread(request.app, store_on_live, request.app[CATALOGUE], comment)
    if stored is None:
        raise RecordNotFound(record_id)
    count_post(request, seen)
    return stored


def store_on_live(catalogue: Catalogue, comment: Comment) -> Comment | None:
    """Store ``comment`` on its record if live (one statement), else on the live record its id was
    merged into; ``None`` when there is none. One trip to the app's threads for the whole post."""
    stored = catalogue.contributions.add_comment_on_live(comment)
    if stored is None:
        live = catalogue.records.live_union_id(comment.record)
        if live is not None and live != comment.record:
            stored = catalogue.contributions.add_comment_on_live(comment.with_changes(record=live))
    return stored


async def edit_comment(request: web.Request) -> web.Response:
    seen = require_signed_in(request)
    comment = await _own_comment(request, seen)
    form = await form_fields(request, long=("body",))
    changed = comment.with_changes(body=check_comment(form.get("body", "")), edited=utc_now())
    check_post_rate(request, seen, "comment edits")
    await in_thread(request.app, request.app[CONTRIBUTIONS].update_comment, changed)
    count_post(request, seen)
    return see_other(record_url(comment.record, f"comment-{comment.id}"))


async def delete_comment(request: web.Request) -> web.Response:
    seen = require_signed_in(request)
    comment = await _own_comment(request, seen)
    assert comment.id is not None
    await in_thread(request.app, request.app[CONTRIBUTIONS].delete_comment, comment.id)
    return see_other(record_url(comment.record, "comments-title"))


async def report_comment(request: web.Request) -> web.Response:
    seen = require_signed_in(request)
    comment = await _comment(request)
    assert comment.id is not None
    if comment.user_id == seen.user_id:
        raise BadParameter("comment", "you cannot report your own comment; edit or delete it instead")
    form = await form_fields(request)
    reason = check_reason(form.get("reason", ""), required=False)
    check_post_rate(request, seen, "reports")
    assert seen.user_id is not None
    await in_thread(
        request.app, request.app[CONTRIBUTIONS].add_report, Report(comment.id, seen.user_id, reason)
    )
    count_post(request, seen)
    return see_other(record_url(comment.record, f"comment-{comment.id}"))


async def _reader_change(request: web.Request) -> tuple[Viewer, int, dict[str, str], str]:
    """What a rating or tag form needs: the reader (signed in, or 403) and their id, the form, and
    the id of the record as it lives now."""
    seen = require_signed_in(request)
    assert seen.user_id is not None
    form = await form_fields(request)
    return seen, seen.user_id, form, await _live_record(request)


async def rate(request: web.Request) -> web.Response:
    """Rate the record (``stars`` 1–5), or take one's rating back (``stars`` empty)."""
    seen, user_id, form, union_id = await _reader_change(request)
    catalogue = request.app[CATALOGUE]
    if form.get("stars", "").strip() in ("", "none"):
        await in_thread(request.app, catalogue.contributions.delete_rating, union_id, user_id)
    else:
        rating = Rating(union_id, user_id, check_stars(form.get("stars", "")))
        check_post_rate(request, seen, "ratings")
        await in_thread(request.app, catalogue.contributions.set_rating, rating)
        count_post(request, seen)
    return see_other(record_url(union_id, "rating-title"))


async def add_tags(request: web.Request) -> web.Response:
    seen, user_id, form, union_id = await _reader_change(request)
    tags = parse_tags(form.get("tags", ""))
    check_post_rate(request, seen, "tags")
    catalogue = request.app[CATALOGUE]
    found = await in_thread(request.app, record_contributions, catalogue, union_id)
    if len(set(found.tags_of(user_id)) | set(tags)) > MAX_TAGS_PER_RECORD:
        raise BadParameter("tags", f"at most {MAX_TAGS_PER_RECORD} tags of yours on one record")
    for tag in tags:
        await in_thread(request.app, catalogue.contributions.add_tag, Tag(union_id, user_id, tag))
    count_post(request, seen)
    return see_other(record_url(union_id, "tags-title"))


async def remove_tag(request: web.Request) -> web.Response:
    _, user_id, form, union_id = await _reader_change(request)
    tag = normalise_tag(form.get("tag", ""))
    catalogue = request.app[CATALOGUE]
    found = await in_thread(request.app, record_contributions, catalogue, union_id)
    for stored in found.tags:  # the tag may sit on an id merged into this record
        if stored.user_id == user_id and stored.tag == tag:
            await in_thread(request.app, catalogue.contributions.remove_tag, stored.record, user_id, tag)
    return see_other(record_url(union_id, "tags-title"))


# -- JSON --------------------------------------------------------------------------------------------
async def api_record_readers(request: web.Request) -> web.Response:
    """``GET /api/records/{id}/comments``: the record's comments (as the viewer may see them), its
    rating and its tags."""
    found = await find_record(request, request.match_info["id"])
    if isinstance(found, str):
        raise web.HTTPMovedPermanently(api_record_url(found) + "/comments")
    context = await readers_context(request, found)
    summary = context["rating"]
    return web.json_response(
        {
            "record": found.id,
            "comments": [view.to_json() for view in context["comments"]],
            "rating": summary.to_json() if summary else None,
            "my_rating": context["my_rating"],
            "tags": [{"tag": count.tag, "readers": count.readers} for count in context["tag_counts"]],
            "my_tags": context["my_tags"],
        }
    )


async def api_post_comment(request: web.Request) -> web.Response:
    """``POST /api/records/{id}/comments`` with ``{"body": "…"}``: 201 and the stored comment."""
    seen = require_signed_in(request)
    sent = await json_body(request, 'a JSON object such as {"body": "…"}')
    if not isinstance(sent, dict) or not isinstance(sent.get("body"), str):
        raise BadParameter("body", 'send a JSON object with the comment\'s text as "body"')
    comment = await add_comment(request, seen, request.match_info["id"], sent["body"])
    body = comment.to_json()
    assert seen.user is not None
    body["author"] = seen.user.display_name
    return web.json_response(
        body, status=201, headers={"Location": record_url(comment.record, f"comment-{comment.id}")}
    )


TAGS_SHOWN = 500


async def tags_page(request: web.Request) -> web.Response:
    """``GET /tags``: every tag readers use, the most used first, each a link to its records."""
    counts = await in_thread(request.app, request.app[CONTRIBUTIONS].tag_counts, TAGS_SHOWN)
    by_name = sorted(counts, key=lambda item: item[0])
    return render(request, "tags.html", {"q": "", "counts": counts, "by_name": by_name})


async def api_tags(request: web.Request) -> web.Response:
    """``GET /api/tags``: the tags with how many records carry each, most used first."""
    counts = await in_thread(request.app, request.app[CONTRIBUTIONS].tag_counts, TAGS_SHOWN)
    return web.json_response([{"tag": tag, "records": records} for tag, records in counts])


def add_routes(app: web.Application) -> None:
    app.router.add_get("/tags", tags_page, name="tags")
    app.router.add_get("/api/tags", api_tags, name="api_tags")
    app.router.add_post("/record/{id}/comments", post_comment, name="post_comment")
    app.router.add_post("/record/{id}/rating", rate, name="rate")
    app.router.add_post("/record/{id}/tags", add_tags, name="add_tags")
    app.router.add_post("/record/{id}/tags/remove", remove_tag, name="remove_tag")
    app.router.add_post("/comments/{comment}/edit", edit_comment, name="edit_comment")
    app.router.add_post("/comments/{comment}/delete", delete_comment, name="delete_comment")
    app.router.add_post("/comments/{comment}/report", report_comment, name="report_comment")
    app.router.add_get("/api/records/{id}/comments", api_record_readers, name="api_record_comments")
    app.router.add_post("/api/records/{id}/comments", api_post_comment, name="api_post_comment")
