"""The librarians' harvest page and ``/api/status``, over real HTTP, on runs written as harvests write them.

The catalogue's four libraries (search_app_catalogue.SOURCES) get, through the record store's public methods:
oxford one full harvest of two pages (35 live + 5 deleted records) lasting at least a second; lyon a
success of 3 records, then a failure whose reason carries markup, as a remote server may send; mcgill a
harvest still under way (2 records stored); scpo nothing, but a quarantined record whose id and reason
carry markup.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import lxml.html
import pytest

from tests.search_app.search_app_catalogue import Client
from tests.search_app.test_accessibility import assert_accessible
from tests.support.harvest_runs import harvest, page_of, real_records
from unicat.catalogue import Catalogue
from unicat.model import HarvestRun, QuarantineEntry
from unicat_cli.cli import EXIT_OK, main

HOSTILE_ERROR = '<script>alert("harvest")</script> HTTP 500 from http://127.0.0.1:9/oai & retried 3 times'
HOSTILE_ID = "<b>rec-1</b>"
HOSTILE_REASON = "leader <img src=x onerror=alert(1)> is not a number"


@pytest.fixture
def client(librarian: Client) -> Client:
    """The harvest page is a librarian's: every request here is a signed-in librarian's."""
    return librarian


@dataclass(frozen=True)
class Runs:
    oxford: HarvestRun
    lyon_ok: HarvestRun
    lyon_failed: HarvestRun
    mcgill: HarvestRun


@pytest.fixture
def runs(catalogue: Catalogue) -> Runs:
    store = catalogue.records
    oxford = harvest(
        store,
        "oxford",
        [page_of("oxford", 0, 20), page_of("oxford", 20, 15, deleted=5)],
        mode="full",
        at_least_one_second=True,
    )
    lyon_ok = harvest(store, "lyon", [page_of("lyon", 0, 3)], mode="full")
    lyon_failed = harvest(store, "lyon", error=HOSTILE_ERROR)
    mcgill = harvest(store, "mcgill", [page_of("mcgill", 0, 2)], finish=False)
    [raw] = real_records(1)
    store.add_quarantine([QuarantineEntry("scpo", HOSTILE_ID, "import", HOSTILE_REASON, raw[:100])])
    return Runs(oxford, lyon_ok, lyon_failed, mcgill)


async def fetch(client: Client, path: str) -> tuple[str, lxml.html.HtmlElement]:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/html"
    html = await response.text()
    return html, lxml.html.fromstring(html)


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def source_rows(doc: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """The libraries table: source code → the text of each cell (the row header first)."""
    [table] = doc.find_class("status-table")
    rows = {}
    for row in table.iter("tr"):
        if row.find("td") is None:
            continue
        cells = [text(cell) for cell in row if cell.tag in ("th", "td")]
        code = text(row.find_class("holdings-library__code")[0])
        rows[code] = cells
    return rows


def history_rows(doc: lxml.html.HtmlElement, code: str) -> list[list[str]]:
    heading = doc.get_element_by_id(f"history-{code}")
    block = heading.getparent()
    assert block is not None
    return [[text(cell) for cell in row.iter("td")] for row in block.iter("tr") if row.find("td") is not None]


def rate_in(cell: str) -> float:
    match = re.fullmatch(r"([\d,.]+) rec/s", cell)
    assert match, cell
    return float(match.group(1).replace(",", ""))


def seconds_of(run: HarvestRun) -> int:
    assert run.finished is not None
    return int((datetime.fromisoformat(run.finished) - datetime.fromisoformat(run.started)).total_seconds())


COLUMNS = [
    "library",
    "health",
    "live",
    "deleted",
    "quarantined",
    "success",
    "throughput",
    "error",
    "schedule",
]


async def test_each_library_shows_its_health_counts_and_throughput(client: Client, runs: Runs) -> None:
    html, doc = await fetch(client, "/librarians/harvests")
    assert_accessible(html)
    rows = {code: dict(zip(COLUMNS, cells, strict=True)) for code, cells in source_rows(doc).items()}
    assert set(rows) == {"oxford", "mcgill", "scpo", "lyon"}
    assert {code: row["health"].split()[0] for code, row in rows.items()} == {
        "oxford": "Ok",
        "lyon": "Failing",
        "mcgill": "Running",
        "scpo": "Never",
    }
    assert rows["scpo"]["health"] == "Never harvested"
    counts = {code: (row["live"], row["deleted"], row["quarantined"]) for code, row in rows.items()}
    assert counts == {
        "oxford": ("35", "5", "0"),
        "lyon": ("3", "0", "0"),
        "mcgill": ("2", "0", "0"),
        "scpo": ("0", "0", "1 import 1"),  # the count, then the count per stage
    }
    seconds = seconds_of(runs.oxford)
    assert seconds >= 1
    assert rate_in(rows["oxford"]["throughput"]) == pytest.approx(40 / seconds, abs=0.5)
    assert "full, 40 records" in rows["oxford"]["success"]
    assert "2 records so far" in rows["mcgill"]["health"]
    assert rows["scpo"]["success"] == "never"


async def test_a_failing_library_shows_its_reason_escaped(client: Client, runs: Runs) -> None:
    html, doc = await fetch(client, "/librarians/harvests")
    lyon = dict(zip(COLUMNS, source_rows(doc)["lyon"], strict=True))
    assert lyon["health"] == "Failing"
    assert HOSTILE_ERROR in lyon["error"]
    assert runs.lyon_failed.finished is not None
    assert runs.lyon_failed.finished.replace("T", " ").replace("Z", " UTC") in lyon["error"]
    # The remote text is shown as text: no element of it reaches the page.
    # The page's own script file only (the search box's suggestions); nothing the error brought.
    assert [(script.get("src"), script.text) for script in doc.iter("script")] == [
        ("/static/suggest.js", None)
    ]
    assert list(doc.iter("img")) == [] and list(doc.iter("b")) == []
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;harvest&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and HOSTILE_REASON.replace("<", "&lt;").replace(">", "&gt;") in html


async def test_the_history_of_each_library(client: Client, runs: Runs) -> None:
    _, doc = await fetch(client, "/librarians/harvests")
    [oxford] = history_rows(doc, "oxford")
    started, mode, status, _duration, records, deleted, _quarantined, pages, rate, error = oxford
    assert (mode, status, records, deleted, pages, error) == ("full", "ok", "40", "5", "2", "—")
    assert started.startswith(runs.oxford.started.replace("T", " ").replace("Z", " UTC"))
    assert rate_in(rate) == pytest.approx(40 / seconds_of(runs.oxford), abs=0.5)

    lyon = history_rows(doc, "lyon")
    assert [(row[2], row[4], row[9]) for row in lyon] == [("failed", "0", HOSTILE_ERROR), ("ok", "3", "—")]
    [mcgill] = history_rows(doc, "mcgill")
    assert (mcgill[2], mcgill[3], mcgill[4], mcgill[7]) == ("running", "under way", "2", "1")
    assert history_rows(doc, "scpo") == []

    [quarantine] = doc.find_class("quarantine-table")
    [entry] = [
        [text(cell) for cell in row.iter("td")] for row in quarantine.iter("tr") if row.find("td") is not None
    ]
    # No kind: an import failure is no record set aside as no book.
    assert entry[:5] == ["Bibliothèque de Sciences Po scpo", HOSTILE_ID, "import", "—", HOSTILE_REASON]
    assert entry[5] == "100 bytes"


async def test_one_library_and_a_shorter_history(client: Client, runs: Runs) -> None:
    _, doc = await fetch(client, "/librarians/harvests?source=lyon&runs=1")
    assert set(source_rows(doc)) == {"lyon"}
    assert [row[2] for row in history_rows(doc, "lyon")] == ["failed"]
    links = {text(a): a.get("href") for a in doc.iter("a")}
    assert links["This page as JSON"] == "/api/status?source=lyon&runs=1"
    assert links["show more"] == "/librarians/harvests?source=lyon"
    assert links["All libraries"] == "/librarians/harvests"


async def test_api_status_is_what_the_status_command_prints(
    client: Client, runs: Runs, catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await client.get("/api/status")
    assert response.status == 200 and response.content_type == "application/json"
    assert "engine;dur=" in response.headers["Server-Timing"]
    body = await response.json()
    assert main(["--engine", catalogue.index.url, "status", "--json"]) == EXIT_OK
    printed = json.loads(capsys.readouterr().out)
    assert {**body, "generated": None} == {**printed, "generated": None}

    sources = {source["code"]: source for source in body["sources"]}
    assert sources["lyon"]["health"] == "failing"
    assert sources["lyon"]["last_error"] == {
        "run": runs.lyon_failed.id,
        "at": runs.lyon_failed.finished,
        "message": HOSTILE_ERROR,
    }
    assert sources["oxford"]["throughput"] == round(40 / seconds_of(runs.oxford), 1)
    assert [run["id"] for run in sources["lyon"]["history"]] == [runs.lyon_failed.id, runs.lyon_ok.id]

    one = await (await client.get("/api/status?source=mcgill&source=oxford&runs=0")).json()
    assert [source["code"] for source in one["sources"]] == ["mcgill", "oxford"]
    assert all(source["history"] == [] for source in one["sources"]) and one["history_limit"] == 0


BAD_PARAMETERS = [
    ("runs=abc", "runs"),
    ("runs=-1", "runs"),
    ("runs=101", "runs"),
    ("runs=1.5", "runs"),
    ("runs=%D9%A3", "runs"),
    ("runs=99999999999999999999999", "runs"),
    ("runs=1&runs=2", "runs"),
    ("source=nowhere", "source"),
    ("source=%3Cscript%3Ealert(1)%3C/script%3E", "source"),
    ("source=" + "x" * 40, "source"),
]
# Unknown parameter names (the page ignores them, the API refuses them): test_unknown_parameters.py.


@pytest.mark.parametrize(("query", "param"), BAD_PARAMETERS)
async def test_bad_parameters_are_400_naming_them(client: Client, query: str, param: str) -> None:
    response = await client.get(f"/api/status?{query}")
    assert response.status == 400
    body = await response.json()
    assert body["error"]["param"] == param and body["error"]["status"] == 400

    response = await client.get(f"/librarians/harvests?{query}")
    assert response.status == 400
    html = await response.text()
    assert "<script>alert" not in html
    doc = lxml.html.fromstring(html)
    assert text(doc.find_class("error-message")[0]).startswith(f"The parameter {param} is not valid")
    main_part = doc.find(".//main")
    assert main_part is not None
    assert "/librarians/harvests" in {a.get("href") for a in main_part.iter("a")}
