"""Every file of ``shared/data/malformed`` through the real CLI (`unicat import`, then `unicat index`, each
in a process of its own), the quarantine listed by `unicat status`, `unicat quarantine` and the
librarians' pages over real HTTP, and fixed records brought back by importing them again.

Expected counts come from the bytes, never from Unicat: an ISO 2709 file holds one record per record
terminator (0x1D) plus, when bytes follow the last terminator, one truncated piece; a MARCXML file
one record per ``<record>`` start tag (found with a regular expression). Every one of them must end
up either in a union record (``unicat export`` lists its members) or in the quarantine with a reason.
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pymarc
import pytest
from aiohttp.test_utils import TestClient

from search_app.app import make_app
from tests.search_app.accounts_http import staff_client
from tests.support.postgres import fresh_database
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue as UnicatCatalogue
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.model import QuarantineEntry
from unicat.settings import Settings
from unicat_cli.cli import EXIT_OK, main
from unicat_cli.wiring import open_catalogue

ROOT = Path(__file__).resolve().parents[2]
MALFORMED = sorted((SHARED_DATA / "malformed").iterdir())
HOSTILE_REASON = "leader <script>alert(1)</script> & more"


@dataclass(frozen=True)
class Place:
    """Where the CLI finds a catalogue: its index, and its store unless that is the index's SQLite file."""

    engine_url: str
    store_url: str | None = None

    def options(self) -> list[str]:
        return ["--engine", self.engine_url, *(["--store", self.store_url] if self.store_url else [])]


def run_cli(where: str | Place, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    """``unicat --engine URL [--store URL] ARGUMENTS…`` in its own process, without the test's UNICAT_*
    variables; ``where`` is a place, or the URL of a SQLite catalogue."""
    place = where if isinstance(where, Place) else Place(where)
    env = {key: value for key, value in os.environ.items() if not key.startswith("UNICAT_")}
    return subprocess.run(
        [sys.executable, "-m", "unicat", *place.options(), *arguments],
        cwd=ROOT,
        capture_output=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=False,
    )


def cli_ok(where: str | Place, *arguments: str) -> bytes:
    """Run a command that must succeed (exit 0, no traceback) and return its standard output."""
    done = run_cli(where, *arguments)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    return done.stdout


def cli_json(where: str | Place, *arguments: str) -> Any:
    return json.loads(cli_ok(where, *arguments))


def iso2709_pieces(data: bytes) -> list[bytes]:
    """The records of an ISO 2709 stream by its terminators, and the bytes after the last one."""
    pieces = [chunk + b"\x1d" for chunk in data.split(b"\x1d")[:-1]]
    tail = data[data.rfind(b"\x1d") + 1 :].strip(b"\r\n")
    return [piece.lstrip(b"\r\n") for piece in pieces] + ([tail] if tail else [])


def expected_records(path: Path) -> int:
    data = path.read_bytes()
    if path.suffix == ".xml":
        return len(re.findall(rb"<(?:marc:)?record[\s>]", data))
    return len(iso2709_pieces(data))


def members(where: str | Place) -> list[tuple[str, str]]:
    """(source, local id) of every member of every union record, from `unicat export`."""
    lines = cli_ok(where, "export", "--format", "jsonl").decode("utf-8").splitlines()
    return [(ref["source"], ref["local_id"]) for line in lines for ref in json.loads(line)["sources"]]


def all_quarantined(where: str | Place) -> list[dict[str, Any]]:
    listing = cli_json(where, "quarantine", "list", "--json", "--page-size", "500")
    assert listing["total"] == len(listing["entries"])
    return list(listing["entries"])


def code_of(index: int) -> str:
    return f"M{index:02d}"


@dataclass
class Catalogue:
    """A catalogue built by the CLI from the malformed files, one source per file (``M00``…)."""

    place: Place
    files: dict[str, Path]

    @property
    def engine_url(self) -> str:
        return self.place.engine_url


def build(where: str | Place, paths: list[Path] = MALFORMED) -> Catalogue:
    place = where if isinstance(where, Place) else Place(where)
    files = {code_of(n): path for n, path in enumerate(paths)}
    for code, path in files.items():
        out = cli_ok(place, "import", code, str(path)).decode("utf-8")
        assert f"into {code}" in out
    cli_ok(place, "index")
    return Catalogue(place, files)


@pytest.fixture(scope="module", params=["sqlite", "elasticsearch"])
def catalogue(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Catalogue]:
    """Built once per setup for the tests that only read it."""
    directory = tmp_path_factory.mktemp(f"malformed-{request.param}")
    if request.param == "sqlite":
        yield build(f"sqlite:///{directory / 'unicat.db'}")
        return
    url = f"{request.getfixturevalue('elasticsearch_url')}/test-quarantine-{uuid.uuid4().hex[:12]}"
    try:
        # The stores (records, harvest state, quarantine, accounts, readers' data) in a PostgreSQL
        # database of their own, as beside any Elasticsearch index.
        with fresh_database(request.getfixturevalue("postgres_cluster")) as store_url:
            yield build(Place(url, store_url))
    finally:
        engine = ElasticsearchEngine(url, Settings(engine_url=url))
        engine.delete_catalogue()
        engine.close()


def test_every_malformed_record_is_indexed_or_quarantined_with_a_reason(catalogue: Catalogue) -> None:
    place = catalogue.place
    indexed = collections.Counter(source for source, _ in members(place))
    entries = all_quarantined(place)
    quarantined = collections.Counter(entry["source"] for entry in entries)
    status = cli_json(place, "status", "--json")
    by_code = {source["code"]: source for source in status["sources"]}
    for code, path in catalogue.files.items():
        expected = expected_records(path)
        assert expected >= 1, path
        assert indexed[code] + quarantined[code] == expected, path.name
        # What import could not cut out is quarantined at import; what it stored is indexed or
        # quarantined at indexing.
        at_import = sum(1 for e in entries if e["source"] == code and e["stage"] == "import")
        assert by_code[code]["live"] + at_import == expected, path.name
        stages = collections.Counter(e["stage"] for e in entries if e["source"] == code)
        assert by_code[code]["quarantined_by_stage"] == dict(stages)
        assert by_code[code]["quarantined"] == quarantined[code]
    assert status["quarantined"] == len(entries) > 0
    for entry in entries:
        reason = entry["reason"]
        assert reason.strip() and "\n" not in reason and "Traceback" not in reason, entry
        assert entry["local_id"] and entry["bytes"] > 0 and entry["created"], entry


def test_quarantined_records_keep_their_raw_bytes_whole(catalogue: Catalogue) -> None:
    """Whole up to the record limit (1,000,000 bytes by default); beyond it, an excerpt with the size and
    SHA-256 of the whole, which find the piece in the file (``bad_hathi_records.mrc`` has a 1 MB one)."""
    place = catalogue.place
    excerpts = 0
    for entry in all_quarantined(place):
        path = catalogue.files[entry["source"]]
        raw = cli_ok(
            place, "quarantine", "show", entry["source"], entry["local_id"], "--stage", entry["stage"]
        )
        assert len(raw) == entry["bytes"]
        kept = re.search(
            r"keeps the first ([\d,]+) of ([\d,]+) bytes \(sha256 ([0-9a-f]{64})\)", entry["reason"]
        )
        if kept is not None:
            excerpts += 1
            size, digest = int(kept[2].replace(",", "")), kept[3]
            assert len(raw) == int(kept[1].replace(",", "")) < size, entry
            whole = [p for p in iso2709_pieces(path.read_bytes()) if hashlib.sha256(p).hexdigest() == digest]
            assert len(whole) == 1 and len(whole[0]) == size and whole[0].startswith(raw), entry
        elif path.suffix == ".mrc":
            assert raw in iso2709_pieces(path.read_bytes()), entry
        else:
            assert raw in path.read_bytes() or b"<record" in raw, entry
    assert excerpts == 1


def test_status_lists_the_quarantine_per_source_and_stage(catalogue: Catalogue) -> None:
    place = catalogue.place
    entries = all_quarantined(place)
    text = cli_ok(place, "status").decode("utf-8")
    assert "quarantined records by stage" in text
    per_source: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for entry in entries:
        per_source[entry["source"]][entry["stage"]] += 1
    for code, stages in per_source.items():
        expected = ", ".join(
            f"{stage} {stages[stage]:,}" for stage in ("harvest", "import", "index") if stage in stages
        )
        assert f"  {code}: {expected}" in text.splitlines()
    listing = cli_ok(place, "quarantine", "list", "--page-size", "2").decode("utf-8")
    assert f"entries 1-2 of {len(entries):,}, newest first (page 1 of {-(-len(entries) // 2)})" in listing
    paged = [
        cli_json(place, "quarantine", "list", "--json", "--page-size", "2", "--page", str(n)) for n in (1, 2)
    ]
    assert [e["local_id"] for page in paged for e in page["entries"]] == [e["local_id"] for e in entries[:4]]
    [first] = [code for code in per_source][:1]
    only = cli_json(place, "quarantine", "list", "--json", "--source", first, "--stage", "index")
    assert only["total"] == per_source[first]["index"] == len(only["entries"])
    assert all(e["source"] == first and e["stage"] == "index" for e in only["entries"])


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (("list", "--stage", "parse"), "--stage"),
        (("list", "--page", "0"), "--page"),
        (("list", "--page-size", "501"), "--page-size"),
        (("list", "--source", "not a code"), "--source"),
        (("show", "M00", "no-such-record"), None),
    ],
)
def test_bad_quarantine_arguments_are_refused_in_one_line(
    tmp_path: Path, arguments: tuple[str, ...], option: str | None
) -> None:
    done = run_cli(f"sqlite:///{tmp_path / 'unicat.db'}", "quarantine", *arguments)
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == (2 if option else 1)
    assert stderr.startswith("unicat: error: ") and stderr.count("\n") == 1, stderr
    if option:
        assert option in stderr


# -- fixing records and importing them again -------------------------------------------------------


def rebuild_directory(raw: bytes) -> bytes:
    """What a MARC editor does to a record whose directory lies: lengths and offsets recomputed from
    the field terminators, and the leader's record length and base address with them."""
    base = int(raw[12:17])
    directory = raw[24 : base - 1]
    tags = [directory[n : n + 3] for n in range(0, len(directory), 12)]
    fields = [field + b"\x1e" for field in raw[base:].rstrip(b"\x1d").split(b"\x1e")[:-1]]
    assert len(tags) == len(fields)
    entries, offset = b"", 0
    for tag, field in zip(tags, fields, strict=True):
        entries += tag + b"%04d%05d" % (len(field), offset)
        offset += len(field)
    new_base = 24 + len(entries) + 1
    body = entries + b"\x1e" + b"".join(fields) + b"\x1d"
    return b"%05d" % (24 + len(body)) + raw[5:12] + b"%05d" % new_base + raw[17:24] + body


def control_number(raw: bytes) -> str:
    """The 001 as pymarc reads it (a reader that is not Unicat's)."""
    record = next(iter(pymarc.MARCReader(io.BytesIO(raw), to_unicode=True, force_utf8=True)))
    assert record is not None
    return str(record["001"].data).strip()


def entries_of(url: str, code: str) -> list[dict[str, Any]]:
    listing = cli_json(url, "quarantine", "list", "--json", "--source", code)
    return list(listing["entries"])


STRAY, STRAY_TYPED = b"Ethan Feld", b"Ethan\x1e Feld"


def test_a_fixed_record_imported_again_leaves_the_quarantine_and_joins_the_catalogue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unicat.db'}"
    # xbib's error.mrc, whose 250 is a byte longer than its directory entry says, with a stray field
    # terminator typed into its 520: neither the directory nor the terminators give its fields.
    original = tmp_path / "damaged.mrc"
    original.write_bytes((SHARED_DATA / "malformed" / "error.mrc").read_bytes().replace(STRAY, STRAY_TYPED))
    cli_ok(url, "import", "ERR", str(original))
    cli_ok(url, "index")
    [entry] = entries_of(url, "ERR")
    assert entry["stage"] == "index" and "250" in entry["reason"]
    raw = cli_ok(url, "quarantine", "show", "ERR", entry["local_id"])
    assert raw == original.read_bytes()
    fixed = tmp_path / "fixed.mrc"
    fixed.write_bytes(rebuild_directory(raw.replace(STRAY_TYPED, STRAY)))
    local_id = control_number(fixed.read_bytes())
    assert local_id == entry["local_id"]

    cli_ok(url, "import", "ERR", str(fixed))
    cli_ok(url, "index")
    assert entries_of(url, "ERR") == []
    assert ("ERR", local_id) in members(url)
    done = run_cli(url, "quarantine", "show", "ERR", local_id)
    assert done.returncode == 1 and b"no quarantined record" in done.stderr


def good_records(count: int) -> list[bytes]:
    data = (SHARED_DATA / "marc21" / "065001035.mrc").read_bytes()
    return [chunk + b"\x1d" for chunk in data.split(b"\x1d")[:count]]


def test_bytes_that_were_not_a_record_leave_the_quarantine_once_imported_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unicat.db'}"
    first, second, third = good_records(3)
    batch = tmp_path / "batch.mrc"
    # The second record with its length spoiled (a transfer that mangled a leader), the third cut
    # short inside its directory.
    batch.write_bytes(first + b"XXXXX" + second[5:] + third[:40])
    cli_ok(url, "import", "LIB", str(batch))
    entries = {e["local_id"]: e for e in entries_of(url, "LIB")}
    spoiled_id = control_number(second)
    # The spoiled record's directory still gives its 001; the cut one's ends too soon.
    assert set(entries) == {spoiled_id, "batch.mrc:2"}
    assert all(e["stage"] == "import" for e in entries.values())
    assert "5-digit record length" in entries[spoiled_id]["reason"]
    assert "no record terminator" in entries["batch.mrc:2"]["reason"]

    # The spoiled record comes back fixed in a file of its own; the batch is sent again whole.
    alone = tmp_path / "record.mrc"
    alone.write_bytes(second)
    cli_ok(url, "import", "LIB", str(alone))
    assert set(e["local_id"] for e in entries_of(url, "LIB")) == {"batch.mrc:2"}
    batch.write_bytes(first + second + third)
    cli_ok(url, "import", "LIB", str(batch))
    assert entries_of(url, "LIB") == []
    cli_ok(url, "index")
    assert {("LIB", control_number(raw)) for raw in (first, second, third)} <= set(members(url))


def test_an_import_keeps_what_is_still_broken_and_other_files_entries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unicat.db'}"
    first, second = good_records(2)
    one, two = tmp_path / "one.mrc", tmp_path / "two.mrc"
    one.write_bytes(first + second[:100])
    two.write_bytes(second + first[:100])
    cli_ok(url, "import", "LIB", str(one), str(two))
    assert {e["local_id"] for e in entries_of(url, "LIB")} == {"one.mrc:1", "two.mrc:1"}
    one.write_bytes(first + second[:200])
    cli_ok(url, "import", "LIB", str(one))
    [still, other] = sorted(entries_of(url, "LIB"), key=lambda e: e["local_id"])
    assert (still["local_id"], still["bytes"], other["local_id"]) == ("one.mrc:1", 200, "two.mrc:1")
    cli_ok(url, "quarantine", "drop", "LIB", "two.mrc:1")
    assert [e["local_id"] for e in entries_of(url, "LIB")] == ["one.mrc:1"]


# -- the librarians' pages, over real HTTP ----------------------------------------------------------


@pytest.fixture
def sqlite_catalogue(tmp_path: Path) -> Catalogue:
    """A catalogue of its own (the test adds to it): the files that quarantine at import and at indexing."""
    names = ("bad_hathi_records.mrc", "bad_oversize_field_bad_directory.mrc", "greekmissingcharsetchange.mrc")
    return build(f"sqlite:///{tmp_path / 'unicat.db'}", [SHARED_DATA / "malformed" / name for name in names])


@pytest.fixture
def served_catalogue(
    sqlite_catalogue: Catalogue, tmp_path: Path
) -> Iterator[tuple[UnicatCatalogue, Settings]]:
    settings = Settings(engine_url=sqlite_catalogue.engine_url, data_dir=tmp_path)
    with open_catalogue(settings) as opened:
        yield opened, settings


async def test_the_quarantine_page_and_api_list_what_the_cli_lists(
    sqlite_catalogue: Catalogue, served_catalogue: tuple[UnicatCatalogue, Settings], aiohttp_client: Any
) -> None:
    opened, settings = served_catalogue
    expected = all_quarantined(sqlite_catalogue.place)
    opened.records.add_quarantine(
        [QuarantineEntry("M00", "<b>x</b>", "harvest", HOSTILE_REASON, b"<record/>")]
    )
    client: TestClient[Any, Any] = await staff_client(
        aiohttp_client, make_app(opened, settings), opened.accounts
    )
    answer = await client.get("/api/quarantine", params={"page_size": "500"})
    assert answer.status == 200
    body = await answer.json()
    assert body["total"] == len(expected) + 1
    assert body["entries"][1:] == expected
    counts = collections.Counter((e["source"], e["stage"]) for e in body["entries"])
    assert {(c["source"], c["stage"]): c["count"] for c in body["counts"]} == dict(counts)

    response = await client.get("/librarians/quarantine", params={"page_size": "2"})
    assert response.status == 200
    html = await response.text()
    assert "<script>alert" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    doc = lxml.html.fromstring(html)
    [table] = doc.find_class("quarantine-table")
    rows = [" ".join(row.text_content().split()) for row in table.iter("tr")][1:]
    assert len(rows) == 2 and HOSTILE_REASON in rows[0] and expected[0]["reason"] in rows[1]
    [next_link] = doc.xpath("//a[@rel='next']")
    assert next_link.get("href") == "/librarians/quarantine?page=2&page_size=2"
    last = -(-(len(expected) + 1) // 2)
    assert last >= 2
    response = await client.get("/librarians/quarantine", params={"page_size": "2", "page": str(last)})
    assert response.status == 200 and not lxml.html.fromstring(await response.text()).xpath(
        "//a[@rel='next']"
    )

    index_only = await (await client.get("/api/quarantine?stage=index&source=M00")).json()
    assert index_only["entries"] == [e for e in expected if e["source"] == "M00" and e["stage"] == "index"]
    status = await (await client.get("/api/status")).json()
    m00 = next(source for source in status["sources"] if source["code"] == "M00")
    assert m00["quarantined_by_stage"] == dict(
        collections.Counter(e["stage"] for e in body["entries"] if e["source"] == "M00")
    )
    harvests = await (await client.get("/librarians/harvests")).text()
    assert 'href="/librarians/quarantine"' in harvests


async def test_the_quarantine_page_and_api_count_and_filter_by_kind(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    # A file of ZDB holdings records: leader/06 says which are holdings, of the records pymarc reads
    # (one record is damaged: quarantined for that, with no kind).
    path = SHARED_DATA / "marc21" / "zdblokutf8.mrc"
    with path.open("rb") as handle:
        readable = [record for record in pymarc.MARCReader(handle, to_unicode=True) if record is not None]
    holdings = sum(1 for record in readable if record.leader[6] in "uvxy")
    assert holdings == 292  # INDEX.md: 292 ZDB holdings records
    settings = Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}", data_dir=tmp_path)
    with open_catalogue(settings) as opened:
        assert main(["--data-dir", str(tmp_path), "import", "ZDB", str(path)]) == EXIT_OK
        assert main(["--data-dir", str(tmp_path), "index"]) == EXIT_OK
        client: TestClient[Any, Any] = await staff_client(
            aiohttp_client, make_app(opened, settings), opened.accounts
        )
        body = await (
            await client.get("/api/quarantine", params={"kind": "holdings", "page_size": "500"})
        ).json()
        assert body["kind"] == "holdings" and body["total"] == holdings == len(body["entries"])
        assert {entry["kind"] for entry in body["entries"]} == {"holdings"}
        assert body["kind_counts"] == [{"source": "ZDB", "kind": "holdings", "count": holdings}]
        everything = await (await client.get("/api/quarantine")).json()
        assert everything["total"] > holdings  # the damaged record, quarantined with no kind
        assert await (await client.get("/api/quarantine?kind=authority")).json() == {
            **body,
            "kind": "authority",
            "total": 0,
            "entries": [],
            "page_size": 50,
        }

        html = await (await client.get("/librarians/quarantine", params={"kind": "holdings"})).text()
        doc = lxml.html.fromstring(html)
        assert doc.xpath("//a[@href='/librarians/quarantine?source=ZDB&kind=holdings']")
        [table] = doc.find_class("quarantine-table")
        kinds = {row.xpath("td[4]")[0].text_content().strip() for row in table.iter("tr") if row.xpath("td")}
        assert kinds == {"holdings"}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("kind=%3Cscript%3E", "kind"),
        ("stage=parse", "stage"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page_size=501", "page_size"),
        ("source=%3Cscript%3E", "source"),
        ("stage=index&stage=import", "stage"),
    ],
)
async def test_bad_quarantine_parameters_are_a_400_naming_them(
    tmp_path: Path, aiohttp_client: Any, query: str, param: str
) -> None:
    settings = Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}", data_dir=tmp_path)
    with open_catalogue(settings) as opened:
        client: TestClient[Any, Any] = await staff_client(
            aiohttp_client, make_app(opened, settings), opened.accounts
        )
        await _assert_refused(client, query, param)


async def _assert_refused(client: TestClient[Any, Any], query: str, param: str) -> None:
    answer = await client.get(f"/api/quarantine?{query}")
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert error["param"] == param and error["message"]
    page = await client.get(f"/librarians/quarantine?{query}")
    assert page.status == 400 and "<script>" not in await page.text()
