"""End to end, as a user runs it: `unicat demo` serves the demo libraries over OAI-PMH on loopback,
harvests them over HTTP, indexes and serves; the test then searches over HTTP.

Expected values come from the demo's MARC files read with plain pymarc (or from CENSUS.tsv), never
from Unicat's own output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymarc
import pytest

from tests.support.postgres import fresh_database
from tests.support.shared_data import REPO_ROOT, undouble

DEMO_DATA = REPO_ROOT / "unicat_cli" / "demo" / "data"
# CENSUS.tsv: records pymarc parses in each file the demo network uses.
DEMO_SOURCE_RECORDS = 2000 + 3064 + (35 + 4 + 20 + 109 + 19 + 18) + 383
SERVING_RE = re.compile(r"Unicat is serving at (http://\S+/)")

pytestmark = pytest.mark.e2e


@dataclass
class Demo:
    url: str
    data_dir: Path
    engine_args: list[str]
    process: subprocess.Popen[str]
    output: list[str]
    engine_url: str
    store_url: str | None
    """Where the accounts and readers' data are when not in the engine's SQLite file."""


def _unicat(*args: str) -> list[str]:
    return [sys.executable, "-m", "unicat", *args]


@pytest.fixture(scope="module", params=["sqlite", "elasticsearch"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo, run as a user runs it, on the embedded engine and on a real Elasticsearch node with
    the accounts and readers' data in a real PostgreSQL database."""
    with ExitStack() as stack:
        yield from _run_demo(request, tmp_path_factory.mktemp("demo"), stack)


def _run_demo(request: pytest.FixtureRequest, data_dir: Path, stack: ExitStack) -> Iterator[Demo]:
    engine_args = ["--data-dir", str(data_dir)]
    engine_url = f"sqlite:///{data_dir / 'unicat.db'}"
    es_catalogue = store_url = None
    if request.param == "elasticsearch":
        es_catalogue = engine_url = (
            f"{request.getfixturevalue('elasticsearch_url')}/e2e-{data_dir.name.lower()}"
        )
        store_url = stack.enter_context(fresh_database(request.getfixturevalue("postgres_cluster")))
        engine_args += ["--engine", es_catalogue, "--store", store_url]
    env = {key: value for key, value in os.environ.items() if not key.startswith("UNICAT_")}
    process = subprocess.Popen(
        _unicat(*engine_args, "demo", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=data_dir,
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + 240
    url = None
    while url is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line.rstrip("\n"))
        match = SERVING_RE.search(line)
        if match:
            url = match.group(1)
    if url is None:
        process.kill()
        pytest.fail("the demo did not start serving:\n" + "\n".join(output))
    yield Demo(url, data_dir, engine_args, process, output, engine_url, store_url)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        if es_catalogue is not None:
            from unicat.engines.elasticsearch import ElasticsearchEngine
            from unicat.settings import Settings

            with ElasticsearchEngine(es_catalogue, Settings(engine_url=es_catalogue)) as engine:
                engine.delete_catalogue()


def get(demo: Demo, path: str, **params: str | list[str]) -> tuple[int, Any]:
    query = urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(f"{demo.url.rstrip('/')}{path}?{query}", timeout=30) as response:
            body = response.read().decode("utf-8")
            status = response.status
            content_type = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8")
        status = error.code
        content_type = error.headers.get("Content-Type", "")
    return status, json.loads(body) if "json" in content_type else body


def marc_records(name: str) -> list[pymarc.Record]:
    with (DEMO_DATA / name).open("rb") as handle:
        return [record for record in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if record]


def test_demo_reports_what_it_did(demo: Demo) -> None:
    text = "\n".join(demo.output)
    # It says where the catalogue is: the engine, and the store when that is elsewhere.
    store = f", store {demo.store_url}" if demo.store_url else ""
    header = f"Unicat demo: 5 libraries and 1 searched live, engine {demo.engine_url}{store}"
    assert header in demo.output, text
    for code in ("VIRG", "SCPO", "MEDI", "AUSA", "AUSB"):
        assert re.search(rf"^\s+{code}: [\d,]+ records", text, re.MULTILINE), text
    assert "union records from" in text
    # The Austen libraries' UNIMARC-family records (title in 200, none in 245) are read as UNIMARC:
    # counted as such, and none is set aside for want of a title.
    unimarc = [
        record
        for record in marc_records("pride-and-prejudice-fixed.mrc")
        if record.get_fields("200") and not record.get_fields("245")
    ]
    assert unimarc
    assert f"  {len(unimarc):,} records read as another MARC flavour than their source declares" in text
    assert "untitled" not in text


def test_health_and_whole_catalogue(demo: Demo) -> None:
    assert get(demo, "/healthz") == (200, {"status": "ok"})
    status, body = get(demo, "/api/search")
    assert status == 200
    # Every source record is in exactly one union record; merging makes fewer union records.
    assert 1000 <= body["total"] < DEMO_SOURCE_RECORDS
    libraries = {facet["value"] for facet in body["facets"]["library"]}
    assert libraries == {"VIRG", "SCPO", "MEDI", "AUSA", "AUSB"}


def test_edition_held_by_two_libraries_is_one_record_with_both_holdings(demo: Demo) -> None:
    # Records 186 and 187 of pride-and-prejudice-fixed.mrc describe the same edition (same ISBNs, same
    # 260); the demo deals even positions to AUSA and odd ones to AUSB.
    records = marc_records("pride-and-prejudice-fixed.mrc")
    first, second = records[186], records[187]
    isbn = first["020"]["a"].split()[0]
    assert isbn == second["020"]["a"].split()[0]
    assert first["260"].value() == second["260"].value()
    status, body = get(demo, "/api/search", q=f"isbn:{isbn}")
    assert status == 200 and body["total"] == 1
    [hit] = body["hits"]
    assert hit["libraries"] == ["AUSA", "AUSB"]
    status, record = get(demo, f"/api/records/{hit['id']}")
    assert status == 200
    assert {ref["source"] for ref in record["sources"]} == {"AUSA", "AUSB"}
    assert any(rule["rule"] == "isbn" for rule in record["merge"])
    status, page = get(demo, f"/record/{hit['id']}")
    assert status == 200 and "Austen Society — Bath" in page and "Austen Society — Chawton" in page


def test_unimarc_995_call_numbers_are_holdings(demo: Demo) -> None:
    record = marc_records("cotesMEL.mrc")[0]
    title = record["200"]["a"]
    # The file's 995 $k is double-encoded UTF-8 ("8Â°"); the catalogue shows it repaired.
    call_numbers = {undouble(field["k"]) for field in record.get_fields("995") if field["k"]}
    assert call_numbers
    status, body = get(demo, "/api/search", q=f'title:"{title}"', library="MEDI")
    assert status == 200 and body["total"] >= 1
    held = {h.get("call_number") for hit in body["hits"] for h in hit["holdings"] if h["library"] == "MEDI"}
    assert call_numbers <= held


def test_marc8_record_is_found_by_its_folded_title_and_shown_in_unicode(demo: Demo) -> None:
    # The first VIRG record whose title has a MARC-8 diacritic, decoded by pymarc's own MARC-8 tables.
    with (DEMO_DATA / "uva_001_2000.mrc").open("rb") as handle:
        reader = pymarc.MARCReader(handle, to_unicode=True)
        record = next(r for r in reader if r and any(ord(ch) > 127 for ch in r["245"]["a"] or ""))
    title_words = record["245"]["a"].rstrip(" /:;,.")
    # What a patron without accents on the keyboard types: base letters only.
    decomposed = unicodedata.normalize("NFD", title_words)
    ascii_query = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    status, body = get(demo, "/api/search", q=ascii_query, library="VIRG")
    assert status == 200 and body["total"] >= 1
    expected = unicodedata.normalize("NFC", title_words)
    assert any(hit["title"].startswith(expected) for hit in body["hits"]), (expected, body["hits"][:3])


def test_pages_and_bad_parameters(demo: Demo) -> None:
    status, page = get(demo, "/search", q="pride and prejudice")
    assert status == 200 and "<h1" in page
    # The query's words are marked in the titles of the results.
    assert "<mark>Pride</mark> <mark>and</mark> <mark>prejudice</mark>" in page
    for params in ({"page": "0"}, {"page_size": "huge"}, {"sort": "sideways"}, {"year": "soon"}):
        status, body = get(demo, "/api/search", **params)
        assert status == 400 and body["error"]["param"] == next(iter(params))
    status, _ = get(demo, "/record/does-not-exist")
    assert status == 404


def test_status_shows_every_source_harvested(demo: Demo) -> None:
    result = subprocess.run(
        _unicat(*demo.engine_args, "status", "--json"),
        capture_output=True, text=True, check=True, cwd=demo.data_dir,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert sum(source["live"] for source in report["sources"]) == DEMO_SOURCE_RECORDS
    assert all(source["last_run"]["status"] == "ok" for source in report["sources"])


def test_second_run_is_incremental_and_keeps_ids(demo: Demo) -> None:
    status, before = get(demo, "/api/search", q="austen", page_size="100", sort="title")
    assert status == 200
    result = subprocess.run(
        _unicat(*demo.engine_args, "demo", "--no-serve"),
        capture_output=True, text=True, timeout=240, cwd=demo.data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for code in ("VIRG", "SCPO", "MEDI", "AUSA", "AUSB"):
        assert f"  {code}: 0 records" in result.stdout
    status, after = get(demo, "/api/search", q="austen", page_size="100", sort="title")
    assert status == 200
    assert [hit["id"] for hit in after["hits"]] == [hit["id"] for hit in before["hits"]]
    assert after["total"] == before["total"]
