"""Readers' comments, ratings and tags, and the librarians' moderation, over real HTTP on every engine.

The catalogue is tests/search_app/search_app_catalogue.py's (u-pp1980 and u-pp1990 are two editions
of *Pride and prejudice*; u-old-pp redirects to u-pp1980). Expected values come from what each test
posts: who wrote what, which stars, which tags.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import Site, csrf_of, post_form
from tests.search_app.search_app_catalogue import RECORDS, REDIRECTS
from unicat.catalogue import Catalogue
from unicat.union_generation import write_union_generation

HOSTILE = '<script>alert("owned")</script> & <b>bold</b>'


@pytest.fixture
def catalogue(each_setup_catalogue: Catalogue) -> Catalogue:
    return each_setup_catalogue


def comment_ids(html: str) -> list[int]:
    """The comments a record page shows, in its order."""
    return [int(number) for number in re.findall(r'<li class="comment[^"]*" id="comment-(\d+)"', html)]


async def page(client: Any, path: str) -> str:
    answer = await client.get(path)
    assert answer.status == 200, (path, answer.status)
    return str(await answer.text())


async def comment(client: Any, record: str, body: str) -> int:
    answer = await post_form(client, f"/record/{record}/comments", {"body": body})
    assert answer.status == 303, await answer.text()
    location = answer.headers["Location"]
    match = re.fullmatch(rf"/record/{record}#comment-(\d+)", location)
    assert match, location
    return int(match.group(1))


async def readers_json(client: Any, record: str) -> dict[str, Any]:
    answer = await client.get(f"/api/records/{record}/comments")
    assert answer.status == 200
    body: dict[str, Any] = await answer.json()
    return body


async def test_comments_are_shown_newest_first_escaped_with_author_and_date(
    site: Site, catalogue: Catalogue
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    bob = await site.signed_in(catalogue.accounts, "bob@example.org")
    first = await comment(ann, "u-pp1980", f"First reading.\n\n{HOSTILE}\nsecond line")
    second = await comment(bob, "u-pp1980", "Better the second time.")
    html = await page(await site.browser(), "/record/u-pp1980")
    assert comment_ids(html) == [second, first]
    # Plain text: the markup is shown as text, paragraphs and line breaks kept, nothing runs.
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in html
    escaped = "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    assert f"<p>{escaped}<br>\nsecond line</p>" in html
    doc = lxml.html.fromstring(html)
    authors = [element.text_content() for element in doc.find_class("comment__author")]
    assert authors == ["Bob", "Ann"]
    dates = {element.get("datetime")[:10] for element in doc.xpath("//li[contains(@class, 'comment')]//time")}
    stored = catalogue.contributions.get_comment(first)
    assert stored is not None and dates == {stored.created[:10]}
    # The JSON API gives the same comments, in the same order, with their authors.
    body = await readers_json(await site.browser(), "u-pp1980")
    assert [(c["id"], c["author"], c["body"]) for c in body["comments"]] == [
        (second, "Bob", "Better the second time."),
        (first, "Ann", f"First reading.\n\n{HOSTILE}\nsecond line"),
    ]
    # An anonymous reader is invited to sign in, and cannot post.
    anonymous = await site.browser()
    assert "to comment, rate and tag" in await page(anonymous, "/record/u-pp1980")
    refused = await post_form(anonymous, "/record/u-pp1980/comments", {"body": "Hello"})
    assert refused.status == 403 and len(catalogue.contributions.comments_for(["u-pp1980"])) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something: an empty comment cannot be posted."),
        ("   \n\t ", "Write something"),
        ("x" * 4001, "A comment has at most 4,000 characters; this one has 4,001."),
    ],
)
async def test_an_empty_or_over_long_comment_is_refused_with_a_message(
    site: Site, catalogue: Catalogue, body: str, message: str
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    answer = await post_form(ann, "/record/u-pp1980/comments", {"body": body})
    html = await answer.text()
    assert answer.status == 400 and message in html
    assert catalogue.contributions.comments_for(["u-pp1980"]) == []
    # The page is the record page again, with what was typed, so nothing is lost.
    doc = lxml.html.fromstring(html)
    assert doc.findtext(".//h1").strip() == "Pride and prejudice"
    assert doc.get_element_by_id("field-body").text_content() == (body if body.strip() else body.lstrip("\n"))


async def test_only_the_author_edits_or_deletes_a_comment(site: Site, catalogue: Catalogue) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    bob = await site.signed_in(catalogue.accounts, "bob@example.org")
    number = await comment(ann, "u-pp1990", "Typo in here")
    for client, status in ((bob, 403), (await site.browser(), 403)):
        assert (await post_form(client, f"/comments/{number}/edit", {"body": "Hijacked"})).status == status
        assert (await post_form(client, f"/comments/{number}/delete", {})).status == status
    edited = await post_form(ann, f"/comments/{number}/edit", {"body": "No typo in here"})
    assert edited.status == 303 and edited.headers["Location"] == f"/record/u-pp1990#comment-{number}"
    stored = catalogue.contributions.get_comment(number)
    assert stored is not None and stored.body == "No typo in here" and stored.edited is not None
    assert "edited" in await page(bob, "/record/u-pp1990")
    assert (await post_form(ann, f"/comments/{number}/edit", {"body": ""})).status == 400
    assert (await post_form(ann, "/comments/999999/delete", {})).status == 404
    assert (await post_form(ann, f"/comments/{number}/delete", {})).status == 303
    assert (
        catalogue.contributions.get_comment(number) is None
        and comment_ids(await page(ann, "/record/u-pp1990")) == []
    )


async def test_ratings_average_per_reader_on_the_page_in_results_and_json(
    site: Site, catalogue: Catalogue
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    bob = await site.signed_in(catalogue.accounts, "bob@example.org")
    assert (await post_form(ann, "/record/u-pp1980/rating", {"stars": "2"})).status == 303
    assert (await post_form(ann, "/record/u-pp1980/rating", {"stars": "4"})).status == 303  # replaces the 2
    assert (await post_form(bob, "/record/u-pp1980/rating", {"stars": "5"})).status == 303
    for bad in ("0", "6", "4.5", "five"):
        answer = await post_form(bob, "/record/u-pp1980/rating", {"stars": bad})
        assert answer.status == 400 and "a whole number of stars from 1 to 5" in await answer.text()
    html = await page(await site.browser(), "/record/u-pp1980")
    assert "<strong>4.5</strong> out of 5" in html and "(2 ratings)" in html
    assert 'value="4" checked' in await page(ann, "/record/u-pp1980")
    # The results say it too: u-pp1980 is rated, u-pp1990 is not.
    hits = {hit["id"]: hit["rating"] for hit in (await (await ann.get("/api/search?q=pride")).json())["hits"]}
    assert hits["u-pp1980"] == {"count": 2, "average": 4.5} and hits["u-pp1990"] is None
    results = await page(ann, "/search?q=pride")
    assert results.count("Readers' rating 4.5 out of 5 (2 ratings)") == 1
    assert (await readers_json(bob, "u-pp1980"))["my_rating"] == 5
    # Taking one's rating back.
    assert (await post_form(bob, "/record/u-pp1980/rating", {"stars": ""})).status == 303
    assert (await readers_json(bob, "u-pp1980"))["rating"] == {"count": 1, "average": 4.0}


async def test_tags_are_normalised_browsable_and_searchable(site: Site, catalogue: Catalogue) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    bob = await site.signed_in(catalogue.accounts, "bob@example.org")
    assert (
        await post_form(ann, "/record/u-pp1980/tags", {"tags": "Classic,  To   Read, classic"})
    ).status == 303
    assert (await post_form(bob, "/record/u-pp1980/tags", {"tags": "classic"})).status == 303
    assert (await post_form(bob, "/record/u-quijote/tags", {"tags": "Classic, Spanish"})).status == 303
    for bad, message in (
        ("x" * 41, "at most 40 characters"),
        (" , ", "give at least one tag"),
        ("!!", "needs at least one letter"),
    ):
        answer = await post_form(bob, "/record/u-pp1980/tags", {"tags": bad})
        assert answer.status == 400 and message in await answer.text()
    body = await readers_json(ann, "u-pp1980")
    assert body["tags"] == [{"tag": "classic", "readers": 2}, {"tag": "to read", "readers": 1}]
    assert body["my_tags"] == ["classic", "to read"]
    html = await page(await site.browser(), "/record/u-pp1980")
    assert 'href="/search?tag=classic"' in html and 'href="/search?tag=to%20read"' in html
    tags = await (await ann.get("/api/tags")).json()
    assert tags == [
        {"tag": "classic", "records": 2},
        {"tag": "spanish", "records": 1},
        {"tag": "to read", "records": 1},
    ]
    assert 'href="/search?tag=spanish"' in await page(ann, "/tags")

    async def found(query: str) -> list[str]:
        return sorted(hit["id"] for hit in (await (await ann.get(f"/api/search?{query}")).json())["hits"])

    assert await found("tag=classic") == ["u-pp1980", "u-quijote"]
    assert await found("tag=Classic&tag=to+read") == ["u-pp1980"]  # every tag (AND), typed in any case
    assert await found("tag=classic&q=quijote") == ["u-quijote"]
    assert await found("tag=classic&library=mcgill&language=spa") == ["u-quijote"]
    assert await found("tag=nobody+uses+this") == []
    results = await page(ann, "/search?tag=classic")
    assert "Tag" in results and 'href="/search"' in results  # the filter is shown, and can be removed
    assert (await ann.get("/search?tag=" + "x" * 41)).status == 400
    # Removing one's tag.
    assert (await post_form(ann, "/record/u-pp1980/tags/remove", {"tag": "To Read"})).status == 303
    assert await found("tag=to+read") == []


async def test_what_readers_wrote_follows_a_merge_and_comes_back_when_it_is_undone(
    site: Site, catalogue: Catalogue
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    bob = await site.signed_in(catalogue.accounts, "bob@example.org")
    on_1990 = await comment(ann, "u-pp1990", "The Oxford edition.")
    on_1980 = await comment(bob, "u-pp1980", "The Penguin edition.")
    await post_form(ann, "/record/u-pp1990/rating", {"stars": "2"})
    await post_form(bob, "/record/u-pp1980/rating", {"stars": "4"})
    await post_form(ann, "/record/u-pp1990/tags", {"tags": "oxford"})
    # Re-indexing the same records changes nothing readers wrote.
    write_union_generation(catalogue.records, catalogue.index, RECORDS, REDIRECTS)
    assert comment_ids(await page(ann, "/record/u-pp1990")) == [on_1990]
    # A rebuild merges u-pp1990 into u-pp1980: its old address redirects, and what was written on it
    # shows on the record it now lives in.
    merged = [record for record in RECORDS if record.id != "u-pp1990"]
    write_union_generation(catalogue.records, catalogue.index, merged, {**REDIRECTS, "u-pp1990": "u-pp1980"})
    moved = await ann.get("/record/u-pp1990", allow_redirects=False)
    assert moved.status == 301 and moved.headers["Location"] == "/record/u-pp1980"
    assert comment_ids(await page(ann, "/record/u-pp1980")) == [on_1980, on_1990]
    body = await readers_json(ann, "u-pp1980")
    assert body["rating"] == {"count": 2, "average": 3.0} and body["tags"] == [
        {"tag": "oxford", "readers": 1}
    ]
    hits = (await (await ann.get("/api/search?tag=oxford")).json())["hits"]
    assert [hit["id"] for hit in hits] == ["u-pp1980"] and hits[0]["rating"] == {"count": 2, "average": 3.0}
    # A comment posted at the old address lands on the record it lives in now.
    late = await post_form(ann, "/record/u-pp1990/comments", {"body": "Posted from an old link."})
    assert late.status == 303 and late.headers["Location"].startswith("/record/u-pp1980#comment-")
    # The merge undone: u-pp1990 lives again with what was written on it; nothing was lost.
    write_union_generation(catalogue.records, catalogue.index, RECORDS, REDIRECTS)
    assert comment_ids(await page(ann, "/record/u-pp1990")) == [on_1990]
    assert len(comment_ids(await page(ann, "/record/u-pp1980"))) == 2
    assert (await readers_json(ann, "u-pp1990"))["rating"] == {"count": 1, "average": 2.0}


async def test_report_then_hide_then_restore_with_every_action_logged(
    site: Site, catalogue: Catalogue
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    bob = await site.signed_in(catalogue.accounts, "bob@example.org")
    librarian = await site.signed_in(catalogue.accounts, "lib@example.org", role="librarian")
    number = await comment(ann, "u-pp1980", "Rude words here.")
    own = await post_form(ann, f"/comments/{number}/report", {"reason": "mine"})
    assert own.status == 400 and "cannot report your own comment" in await own.text()
    reported = await post_form(bob, f"/comments/{number}/report", {"reason": "Insults <other> readers"})
    assert reported.status == 303
    assert (await post_form(bob, f"/comments/{number}/report", {"reason": "again"})).status == 303
    assert len(catalogue.contributions.reports_for([number])) == 1  # once per reader
    assert "You reported this comment" in await page(bob, "/record/u-pp1980")
    # Patrons and anonymous readers never see the desk.
    for client in (ann, bob):
        assert (await client.get("/librarians/moderation")).status == 403
        assert (await client.get("/api/moderation")).status == 403
    assert (await (await site.browser()).get("/api/moderation")).status == 403
    desk = await page(librarian, "/librarians/moderation")
    assert (
        "Rude words here." in desk and "Insults &lt;other&gt; readers" in desk and "Reported by Bob" in desk
    )
    queue = (await (await librarian.get("/api/moderation")).json())["queue"]
    assert [(item["comment"]["id"], [r["reader"] for r in item["reports"]]) for item in queue] == [
        (number, ["Bob"])
    ]
    # Hiding needs a reason (its author will read it) and the librarian's CSRF token.
    no_reason = await post_form(librarian, "/librarians/moderation", {"comment": str(number), "verb": "hide"})
    unchanged = catalogue.contributions.get_comment(number)
    assert no_reason.status == 400 and unchanged is not None and not unchanged.hidden
    forged = await librarian.post(
        "/librarians/moderation", data={"comment": str(number), "verb": "hide", "reason": "x"}
    )
    assert forged.status == 403
    assert (
        await post_form(
            bob, "/librarians/moderation", {"comment": str(number), "verb": "hide", "reason": "x"}
        )
    ).status == 403
    hidden = await post_form(
        librarian,
        "/librarians/moderation",
        {"comment": str(number), "verb": "hide", "reason": "Personal attacks"},
    )
    assert hidden.status == 303 and hidden.headers["Location"] == "/librarians/moderation?done=hide"
    # Other readers no longer see it, on the page or in the JSON; its author sees it with the reason.
    for client in (bob, await site.browser()):
        assert comment_ids(await page(client, "/record/u-pp1980")) == []
        assert (await readers_json(client, "u-pp1980"))["comments"] == []
    author_view = await page(ann, "/record/u-pp1980")
    assert comment_ids(author_view) == [number] and "A librarian hid your comment" in author_view
    assert "Personal attacks" in author_view
    assert "Hidden by a librarian: Personal attacks" in await page(ann, "/account")  # and on their account
    assert [c["hidden_reason"] for c in (await readers_json(ann, "u-pp1980"))["comments"]] == [
        "Personal attacks"
    ]
    # The report is answered: the queue is empty; the comment is among the hidden ones.
    state = await (await librarian.get("/api/moderation")).json()
    assert state["queue"] == [] and [c["id"] for c in state["hidden"]] == [number]
    assert [r.resolution for r in catalogue.contributions.reports_for([number])] == [state["log"][0]["id"]]
    restored = await post_form(
        librarian,
        "/librarians/moderation",
        {"comment": str(number), "verb": "restore", "reason": "Apologised"},
    )
    assert restored.status == 303 and comment_ids(await page(bob, "/record/u-pp1980")) == [number]
    log = (await (await librarian.get("/api/moderation")).json())["log"]
    assert [(entry["verb"], entry["reason"], entry["librarian"]) for entry in log] == [
        ("restore", "Apologised", "Lib"),
        ("hide", "Personal attacks", "Lib"),
    ]
    again = await post_form(
        librarian, "/librarians/moderation", {"comment": str(number), "verb": "restore", "reason": "x"}
    )
    assert again.status == 400 and "is not hidden" in await again.text()


async def test_comment_posting_is_rate_limited_per_account_and_per_address(catalogue: Catalogue) -> None:
    site = await Site(
        make_app(catalogue, catalogue.index.settings.replace(post_limit_account=3, post_limit_address=5))
    ).start()
    try:
        ann = await site.signed_in(catalogue.accounts, "ann@example.org")
        bob = await site.signed_in(catalogue.accounts, "bob@example.org")
        for number in range(3):
            await comment(ann, "u-pp1980", f"Comment {number}")
        refused = await post_form(ann, "/record/u-pp1980/comments", {"body": "One too many"})
        assert refused.status == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
        assert "Too many comments" in await refused.text()
        # Bob has his own allowance, but shares the address's: 3 + 2 = 5.
        for number in range(2):
            await comment(bob, "u-pp1980", f"Bob {number}")
        assert (await post_form(bob, "/record/u-pp1980/comments", {"body": "Sixth"})).status == 429
        assert len(catalogue.contributions.comments_for(["u-pp1980"])) == 5
    finally:
        await site.close()


async def test_tags_ratings_and_edits_share_the_posting_budget(catalogue: Catalogue) -> None:
    # The audit's flood: tags posted as fast as a script can. Every post that adds or changes
    # something counts against the one budget comments use (post_limit_account a window).
    settings = catalogue.index.settings.replace(post_limit_account=6, post_limit_address=1_000)
    site = await Site(make_app(catalogue, settings)).start()
    try:
        ann = await site.signed_in(catalogue.accounts, "ann@example.org")
        number = await comment(ann, "u-pp1980", "First")  # 1
        assert (await post_form(ann, f"/comments/{number}/edit", {"body": "Second"})).status == 303  # 2
        assert (await post_form(ann, "/record/u-pp1980/rating", {"stars": "4"})).status == 303  # 3
        tagged = [record.id for record in RECORDS[:3]]
        for record in tagged:  # 4, 5, 6
            assert (await post_form(ann, f"/record/{record}/tags", {"tags": "flood"})).status == 303
        for path, form, what in (
            (f"/record/{RECORDS[3].id}/tags", {"tags": "flood"}, "tags"),
            ("/record/u-pp1990/rating", {"stars": "1"}, "ratings"),
            (f"/comments/{number}/edit", {"body": "Third"}, "comment edits"),
            ("/record/u-pp1980/comments", {"body": "Another"}, "comments"),
        ):
            refused = await post_form(ann, path, form)
            assert refused.status == 429 and 0 < int(refused.headers["Retry-After"]) <= 60, path
            assert f"Too many {what}" in await refused.text()
        body = await readers_json(ann, "u-pp1980")
        assert [c["body"] for c in body["comments"]] == ["Second"] and body["my_rating"] == 4
        assert (await readers_json(ann, "u-pp1990"))["my_rating"] is None
        tags = await (await ann.get("/api/tags")).json()
        assert tags == [{"tag": "flood", "records": len(tagged)}]
        # Taking one's own back is not a post: it only undoes what was counted.
        assert (await post_form(ann, "/record/u-pp1980/tags/remove", {"tag": "flood"})).status == 303
        assert (await post_form(ann, "/record/u-pp1980/rating", {"stars": ""})).status == 303
    finally:
        await site.close()


async def test_the_json_api_posts_comments_with_the_csrf_header(site: Site, catalogue: Catalogue) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    token = await csrf_of(ann)
    answer = await ann.post(
        "/api/records/u-old-pp/comments", json={"body": "Via the API"}, headers={"X-CSRF-Token": token}
    )
    assert answer.status == 201
    created = await answer.json()
    # u-old-pp redirects to u-pp1980: the comment is on the record the reader reached.
    assert (created["record"], created["author"], created["body"]) == ("u-pp1980", "Ann", "Via the API")
    assert answer.headers["Location"] == f"/record/u-pp1980#comment-{created['id']}"
    for headers, sent, status, param in (
        ({}, {"body": "x"}, 403, None),
        ({"X-CSRF-Token": token}, {"text": "x"}, 400, "body"),
        ({"X-CSRF-Token": token}, {"body": ""}, 400, "body"),
    ):
        refused = await ann.post("/api/records/u-pp1980/comments", json=sent, headers=headers)
        error = (await refused.json())["error"]
        assert refused.status == status and error.get("param") == param
    not_json = await ann.post(
        "/api/records/u-pp1980/comments",
        data="{",
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert not_json.status == 400
    missing = await ann.post(
        "/api/records/u-nothing/comments", json={"body": "x"}, headers={"X-CSRF-Token": token}
    )
    assert missing.status == 404
    assert [c.body for c in catalogue.contributions.comments_for(["u-pp1980"])] == ["Via the API"]


# Bodies that are not JSON a store could keep, as an attacker sends them: (bytes, what the 400 says).
# RFC 8259 §8.2: a lone surrogate escape names no character; §8.1: JSON text is UTF-8.
BAD_JSON = [
    (b'{"body": "a\\ud800b"}', "surrogate"),
    (b'{"body": "a\\udc00b"}', "surrogate"),
    (b'{"body": "a\xed\xa0\x80b"}', "UTF-8"),  # the surrogate itself, UTF-8 encoded
    (b'{"body": "a\xffb"}', "UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "depth"),
    (b'{"body": ' + b"[" * 2_000 + b"]" * 2_000 + b"}", "depth"),
    (b'{"body": NaN}', "not valid JSON"),
    (b"", "not valid JSON"),
    (b'{"body": "x"', "not valid JSON"),
]


async def test_the_json_api_refuses_bodies_that_are_not_json_with_a_message(
    site: Site, catalogue: Catalogue
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    headers = {"X-CSRF-Token": await csrf_of(ann), "Content-Type": "application/json"}
    for sent, says in BAD_JSON:
        answer = await ann.post("/api/records/u-pp1980/comments", data=sent, headers=headers)
        assert answer.status == 400, (sent[:40], answer.status)
        error = (await answer.json())["error"]
        assert error["param"] == "body" and says in error["message"], (sent[:40], error)
        assert '{"body": "…"}' in error["message"]  # what to send instead
    # More than the app reads of any body (aiohttp's client_max_size, 1 MiB) is refused unread.
    huge = b'{"body": "' + b"x" * 2**21 + b'"}'
    answer = await ann.post("/api/records/u-pp1980/comments", data=huge, headers=headers)
    assert answer.status == 413 and "error" in await answer.json()
    assert catalogue.contributions.comments_for(["u-pp1980"]) == []
    # The same server still takes a good comment.
    good = await ann.post("/api/records/u-pp1980/comments", json={"body": "a\u00e9b"}, headers=headers)
    assert good.status == 201 and (await good.json())["body"] == "a\u00e9b"
