"""Smoke test of the readers' benchmark: a tiny catalogue on each setup, every figure reported.

The benchmark itself refuses a page that lists another number of comments than the record has, or
another number of edit and report forms than a signed-in reader must see, and exits 1 when a posted
comment is lost, doubled or altered; these tests check that it ran every measurement, that its
counts follow from its arguments, and that its verdict does see a loss when there is one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.readers import POST_LIMIT, Post, judge, main
from unicat.readers import Comment

pytestmark = pytest.mark.timeout(300)

COMMENTS, COMMENTERS, POSTERS, POSTS, POST_RECORDS = 12, 5, 3, 4, 2
CASES = {
    f"{COMMENTS} comments, signed out",
    f"{COMMENTS} comments, signed in",
    "0 comments, signed out",
    "0 comments, signed in",
}


def run_small(tmp_path: Path, engine: str, *extra: str) -> dict[str, object]:
    out = tmp_path / "figures.json"
    arguments = ["--records", "150", "--engines", engine, "--requests", "6", "--warmup", "1"]
    arguments += ["--comments", str(COMMENTS), "--commenters", str(COMMENTERS), "--posters", str(POSTERS)]
    arguments += ["--posts", str(POSTS), "--post-records", str(POST_RECORDS), "--json", str(out), *extra]
    assert main(arguments) == 0
    figures: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def check_engine(figures: dict[str, object], name: str) -> dict[str, object]:
    assert figures["post_limit"] == POST_LIMIT
    (engine,) = figures["engines"]  # type: ignore[misc]
    assert engine["engine"] == name
    page = engine["page"]
    assert (page["comments"], page["commenters"]) == (COMMENTS, COMMENTERS)
    # One comment in ten has markup (of 12: the 4th), one in five line breaks (the 2nd, 7th, 12th).
    assert (page["markup_comments"], page["lined_comments"]) == (1, 3)
    assert page["ratings"] == COMMENTERS
    assert 100 <= page["body_lengths"][0] <= page["body_lengths"][1] <= 1_500
    assert set(page["cases"]) == CASES
    for case_name, case in page["cases"].items():
        assert case["requests"] == 6, case_name
        assert 0 < case["min_ms"] <= case["p50_ms"] <= case["p95_ms"] <= case["max_ms"], case_name
    # Each comment and its form make the page larger: the commented record's is the larger one.
    size = {name: case["bytes"] for name, case in page["cases"].items()}
    assert size[f"{COMMENTS} comments, signed out"] > size["0 comments, signed out"]
    assert size[f"{COMMENTS} comments, signed in"] > size[f"{COMMENTS} comments, signed out"]
    posting = engine["posting"]
    verdict = posting["verdict"]
    assert verdict["nothing_lost"] is True
    assert verdict["sent"] == verdict["answered"] == verdict["stored"] == POSTERS * POSTS
    assert verdict["statuses"] == {"201": POSTERS * POSTS}
    assert len(posting["records"]) == POST_RECORDS
    assert posting["comments_per_second"] > 0
    return engine  # type: ignore[no-any-return]


def test_a_small_readers_benchmark_on_sqlite_reports_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = run_small(tmp_path, "sqlite")
    assert figures["machine"]["cores"] == os.cpu_count()  # type: ignore[index]
    check_engine(figures, "sqlite")
    printed = capsys.readouterr().out
    assert printed.startswith("Machine: ")
    assert f"{POSTERS} posters × {POSTS} comments" in printed
    assert "nothing lost" in printed


def test_a_small_readers_benchmark_on_postgresql_and_elasticsearch_reports_every_figure(
    tmp_path: Path, elasticsearch_url: str, postgres_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = run_small(
        tmp_path, "postgresql", "--es-url", elasticsearch_url, "--pg-url", postgres_database_url
    )
    check_engine(figures, "postgresql")
    printed = capsys.readouterr().out
    assert "postgresql: 150 union records" in printed
    assert "nothing lost" in printed


def _post(poster: int, record: str, body: str, number: int) -> Post:
    answer = {"id": number, "record": record, "user_id": poster, "body": body}
    return Post(poster, poster, record, body, 201, 0.01, answer)


def _stored(post: Post) -> Comment:
    assert post.answer is not None
    return Comment(post.record, post.user_id, post.body, id=int(post.answer["id"]))


def test_the_verdict_sees_a_lost_a_doubled_and_an_altered_comment() -> None:
    posts = [_post(1, "r1", "first", 1), _post(2, "r1", "second", 2), _post(1, "r2", "third", 3)]
    stored = [_stored(post) for post in posts]
    assert judge(posts, stored, {"r1": 2, "r2": 1}).nothing_lost

    lost = judge(posts, stored[:2], {"r1": 2, "r2": 0})
    assert (lost.missing, lost.stored, lost.nothing_lost) == (1, 2, False)
    assert "LOST OR DOUBLED" in lost.line()

    doubled = judge(posts, [*stored, stored[0]], {"r1": 3, "r2": 1})
    assert (doubled.duplicate_stored_ids, doubled.nothing_lost) == (1, False)

    changed = Comment("r2", 1, "third, changed", id=3)
    altered = judge(posts, [*stored[:2], changed], {"r1": 2, "r2": 1})
    assert (altered.missing, altered.unexpected, altered.nothing_lost) == (1, 1, False)

    refused = [*posts[:2], Post(1, 1, "r2", "third", 503, 0.01, error="busy")]
    failed = judge(refused, stored[:2], {"r1": 2, "r2": 0})
    assert (failed.server_errors, failed.answered, failed.nothing_lost) == (1, 2, False)

    hidden_from_page = judge(posts, stored, {"r1": 1, "r2": 1})
    assert hidden_from_page.pages_agree is False
