"""Alert digests from end to end, on each setup (SQLite alone; PostgreSQL for the stores and
Elasticsearch for the union index), a real server on 127.0.0.1 and a real SMTP server on loopback: two
readers (French and Dutch) save searches and switch their alerts on over the JSON API; a second index
generation brings new titles and a new library's copy of an old title; ``unicat alerts send`` (the
command, in a process of its own) stores the digests and ``unicat mail send`` sends them. Each reader
gets exactly the titles new for their search, derived from the two generations; a second run sends
nothing; a run that stops between two searches then runs again sends each digest once; the unsubscribe
link works signed out and a tampered or expired one fails with a page that says what to do; the private
feed parses as Atom and a revoked address is 404; another reader cannot change a reader's alert, and bad
settings are a 400 with a message.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import lxml.html
import pytest
from aiohttp.test_utils import TestClient

from search_app.alert_digests import Outcome, send_digests
from search_app.app import make_app
from search_app.i18n import load_catalogues
from tests.conftest import build_union_record
from tests.search_app.accounts_http import Site, csrf_of, make_account
from tests.support.smtp_server import Mailbox, html_part, smtp_server, text_part
from unicat import signed_links
from unicat.alerts import UNSUBSCRIBE
from unicat.catalogue import Catalogue
from unicat.clock import utc_now
from unicat.engines.elasticsearch import ElasticsearchEngine
from unicat.model import UnionRecord
from unicat.saved_searches import SavedSearch
from unicat.settings import Settings
from unicat.stores.alerts import SqlAlertStore
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

SITE = "https://catalogue.example.org"
ANNE, BRAM = "anne@example.org", "bram@example.org"
Client = TestClient[Any, Any]

FIRST = [
    build_union_record("chat-1", "Les chats", libraries=["BNF"]),
    build_union_record("kat-1", "De katten", libraries=["UVA"]),
    build_union_record("kat-4", "Katten van Parijs", libraries=["OXF"]),
    build_union_record("hond-1", "Honden", libraries=["UVA"]),
]
SECOND = [
    *(record for record in FIRST if record.id != "kat-1"),
    build_union_record("kat-1", "De katten", libraries=["UVA", "OXF"]),  # a new library's copy
    build_union_record("chat-2", "Chats de gouttière", libraries=["BNF"]),
    build_union_record("chat-3", "Les chats noirs", libraries=["OXF"]),
    build_union_record("kat-2", "Katten en honden", libraries=["OXF"]),
    build_union_record("kat-3", "Katten", libraries=["UVA"]),
    build_union_record("hond-2", "Honden", libraries=["OXF"]),
]
# Anne's search: "chats" in the whole network; Bram's: "katten" held at the Bodleian (OXF).
ANNE_QUERY = {"q": ["chats"]}
BRAM_QUERY = {"q": ["katten"], "held_at": ["OXF"]}


def _words(record: UnionRecord) -> set[str]:
    return set(record.title.lower().split())


def _libraries(record: UnionRecord) -> set[str]:
    return {holding.library for holding in record.holdings}


BEFORE = {record.id: record for record in FIRST}
# What is new for each, from the generations: a title new to the network, or new at OXF.
ANNE_NEW = {r.id for r in SECOND if r.id not in BEFORE and "chats" in _words(r)}
BRAM_NEW = {
    r.id
    for r in SECOND
    if "katten" in _words(r)
    and "OXF" in _libraries(r)
    and (r.id not in BEFORE or "OXF" not in _libraries(BEFORE[r.id]))
}


def _after(moment: str) -> None:
    """Wait for the clock's next second: a generation's stamp is then later than ``moment``."""
    while utc_now() <= moment:
        time.sleep(0.05)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as served:
        yield served


@pytest.fixture(params=["sqlite", "scaled-out"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, mailbox: Mailbox) -> Settings:
    """The catalogue's settings on one setup: SQLite alone, or this test's PostgreSQL database for the
    stores beside an index prefix of its own on the Elasticsearch node."""
    if request.param == "sqlite":
        index, store = f"sqlite:///{tmp_path / 'unicat.db'}", ""
    else:
        node = request.getfixturevalue("elasticsearch_url")
        index = f"{node}/alerts-{uuid.uuid4().hex[:12]}"
        store = request.getfixturevalue("postgres_database_url")
    # Digests due from 00:00 UTC, the weekly ones today: a run now owes both their period's digest.
    return Settings(
        data_dir=tmp_path,
        engine_url=index,
        store_url=store,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_security="none",
        mail_from="catalogue@example.org",
        site_url=SITE,
        alerts_hour=0,
        alerts_weekday=datetime.now(UTC).strftime("%A").lower(),
    )


@pytest.fixture
def config(tmp_path: Path, settings: Settings) -> Path:
    path = tmp_path / "unicat.toml"
    path.write_text(
        f'smtp_host = "127.0.0.1"\nsmtp_port = {settings.smtp_port}\nsmtp_security = "none"\n'
        f'mail_from = "catalogue@example.org"\nsite_url = "{SITE}"\nalerts_hour = 0\n'
        f'alerts_weekday = "{settings.alerts_weekday}"\n'
    )
    return path


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    with open_catalogue(settings) as opened:
        write_union_generation(opened.records, opened.index, FIRST, {})
        yield opened
        if isinstance(opened.index, ElasticsearchEngine):
            opened.index.delete_catalogue()  # the node outlives the test


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    served = await Site(make_app(catalogue, settings)).start()
    yield served
    await served.close()


async def _save(client: Client, name: str, query: dict[str, list[str]], alert: str, lang: str) -> int:
    headers = {"X-CSRF-Token": await csrf_of(client)}
    saved = await client.post(
        f"/api/account/searches?lang={lang}", json={"name": name, "query": query}, headers=headers
    )
    assert saved.status == 201, await saved.text()
    search_id = int((await saved.json())["id"])
    changed = await client.patch(
        f"/api/account/searches/{search_id}?lang={lang}", json={"alert": alert}, headers=headers
    )
    assert changed.status == 200, await changed.text()
    assert (await changed.json())["alert"] == alert
    return search_id


def _command(config: Path, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "unicat",
            "--config",
            str(config),
            "--index",
            settings.engine_url,
            "--store",
            settings.resolved_store_url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _listed_ids(message: EmailMessage) -> set[str]:
    return set(re.findall(rf"{re.escape(SITE)}/record/([\w-]+)", text_part(message)))


def _frequency(store: SqlAlertStore, search_id: int) -> str:
    alert = store.by_search_id(search_id)
    assert alert is not None
    return alert.frequency


def _local(url: str) -> str:
    """The path and query of a link of an e-mail, to ask the test server."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_each_reader_gets_the_titles_new_for_their_search_once(
    site: Site, catalogue: Catalogue, settings: Settings, config: Path, mailbox: Mailbox
) -> None:
    anne = await site.signed_in(catalogue.accounts, ANNE)
    bram = await site.signed_in(catalogue.accounts, BRAM)
    anne_search = await _save(anne, "Chats", ANNE_QUERY, "daily", "fr")
    bram_search = await _save(bram, "Katten", BRAM_QUERY, "weekly", "nl")
    # The first generation's titles are the backlog, never reported: only the second's are new.
    _after(utc_now())
    write_union_generation(catalogue.records, catalogue.index, SECOND, {})

    dry = _command(config, settings, "alerts", "send", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"saved search #{anne_search}" in dry.stdout and "2 digest(s) would be stored" in dry.stdout
    run = _command(config, settings, "alerts", "send")
    assert run.returncode == 0, run.stderr
    assert "2 digest(s) stored in the outbox" in run.stdout
    sent = _command(config, settings, "mail", "send")
    assert sent.returncode == 0, sent.stderr

    [to_anne] = mailbox.to(ANNE)
    [to_bram] = mailbox.to(BRAM)
    assert _listed_ids(to_anne) == ANNE_NEW == {"chat-2", "chat-3"}
    assert _listed_ids(to_bram) == BRAM_NEW == {"kat-1", "kat-2"}
    assert _listed_ids(to_anne) == set(re.findall(rf"{re.escape(SITE)}/record/([\w-]+)", html_part(to_anne)))
    assert (to_anne["Content-Language"], to_bram["Content-Language"]) == ("fr", "nl")
    assert "Chats" in to_anne["Subject"] and "Katten" in to_bram["Subject"]
    assert "Bonjour Anne," in text_part(to_anne) and "Beste Bram," in text_part(to_bram)
    for message in (to_anne, to_bram):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message["List-Unsubscribe"].strip("<>")
        assert link.startswith(f"{SITE}/alerts/unsubscribe?") and link in text_part(message)

    # A second run: the period is done, nothing is stored or sent again.
    again = _command(config, settings, "alerts", "send")
    assert "0 due, 0 digest(s) stored" in again.stdout, again.stdout
    _command(config, settings, "mail", "send")
    assert len(mailbox.messages) == 2

    # The unsubscribe link, signed out: the page asks; a mail provider's one-click POST stops it.
    link = _local(to_anne["List-Unsubscribe"].strip("<>"))
    stranger = await site.browser()
    page = await stranger.get(link)
    assert page.status == 200 and "Chats" in await page.text()
    assert page.headers["Referrer-Policy"] == "no-referrer"
    store = SqlAlertStore(catalogue.database)
    assert _frequency(store, anne_search) == "daily"
    one_click = await stranger.post(link, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status == 200
    assert _frequency(store, anne_search) == "off"
    assert _frequency(store, bram_search) == "weekly"

    # Bram's link altered, or signed for another use, or expired: a page that says what to do.
    bram_link = _local(to_bram["List-Unsubscribe"].strip("<>"))
    token = parse_qs(urlsplit(bram_link).query)["token"][0]
    tampered = bram_link.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    answer = await stranger.get(tampered)
    assert answer.status == 400 and "sign in to manage your alerts" in await answer.text()
    found = store.by_search_id(bram_search)
    key = found.key if found is not None else None
    assert key is not None
    past = signed_links.sign(key, UNSUBSCRIBE, str(bram_search), datetime.now(UTC) - timedelta(seconds=1))
    expired = await stranger.get(f"/alerts/unsubscribe?search={bram_search}&token={past}")
    assert expired.status == 410 and "expired" in await expired.text()
    other = signed_links.sign(key, "alert.feed", str(bram_search), datetime.now(UTC) + timedelta(days=1))
    wrong = await stranger.post(
        f"/alerts/unsubscribe?search={bram_search}&token={other}", data={"List-Unsubscribe": "One-Click"}
    )
    assert wrong.status == 400
    assert _frequency(store, bram_search) == "weekly"
    # The page's own button, in a browser signed out: its form carries the CSRF cookie's token.
    browser = await site.browser()
    page = await browser.get(bram_link)
    fields = {
        field.get("name"): field.get("value")
        for field in lxml.html.fromstring(await page.text()).cssselect("main form input[type=hidden]")
    }
    assert set(fields) == {"csrf", "search", "token"}
    assert (await browser.post("/alerts/unsubscribe", data={**fields, "csrf": "forged"})).status == 403
    assert _frequency(store, bram_search) == "weekly"
    stopped = await browser.post("/alerts/unsubscribe", data=fields)
    assert stopped.status == 200 and "Katten" in await stopped.text()
    assert _frequency(store, bram_search) == "off"


async def test_a_run_stopped_between_searches_then_run_again_stores_each_digest_once(
    site: Site, catalogue: Catalogue, settings: Settings
) -> None:
    readers = [await site.signed_in(catalogue.accounts, f"reader{n}@example.org") for n in range(3)]
    for reader in readers:
        await _save(reader, "Chats", ANNE_QUERY, "daily", "en")
    _after(utc_now())
    write_union_generation(catalogue.records, catalogue.index, SECOND, {})

    class Stop(Exception):
        pass

    def stop_after_first(outcome: Outcome) -> None:
        raise Stop(outcome.key)

    with pytest.raises(Stop):
        send_digests(catalogue, settings, load_catalogues(), datetime.now(UTC), notify=stop_after_first)
    assert catalogue.outbox.counts()["queued"] == 1
    report = send_digests(catalogue, settings, load_catalogues(), datetime.now(UTC))
    assert (report.due, report.stored) == (2, 2)
    queued = catalogue.outbox.list_messages("queued")
    assert sorted(message.recipient for message in queued) == [f"reader{n}@example.org" for n in range(3)]
    assert len({message.key for message in queued}) == 3
    assert send_digests(catalogue, settings, load_catalogues(), datetime.now(UTC)).due == 0


async def test_the_private_feed_lists_the_search_newest_first_and_a_new_address_revokes_the_old(
    site: Site, catalogue: Catalogue
) -> None:
    anne = await site.signed_in(catalogue.accounts, ANNE)
    search_id = await _save(anne, "Katten", BRAM_QUERY, "off", "en")
    headers = {"X-CSRF-Token": await csrf_of(anne)}
    _after(utc_now())
    write_union_generation(catalogue.records, catalogue.index, SECOND, {})
    answer = await (
        await anne.patch(f"/api/account/searches/{search_id}", json={"feed": True}, headers=headers)
    ).json()
    address = _local(answer["feed"])
    stranger = await site.browser()
    response = await stranger.get(address)
    assert response.status == 200
    assert response.headers["Cache-Control"].startswith("private")
    assert "noindex" in response.headers["X-Robots-Tag"]
    parsed = feedparser.parse(await response.read())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    ids = [entry.id.rsplit("/", 1)[-1] for entry in parsed.entries]
    held_at_oxf = {r.id for r in SECOND if "katten" in _words(r) and "OXF" in _libraries(r)}
    assert set(ids) == held_at_oxf
    # Newest first by the date each was first held at OXF: the new ones before the older title.
    assert ids[-1] == "kat-4"
    renewed = await (
        await anne.patch(f"/api/account/searches/{search_id}", json={"feed": "new"}, headers=headers)
    ).json()
    assert (await stranger.get(address)).status == 404
    assert (await stranger.get(_local(renewed["feed"]))).status == 200
    assert (await stranger.get("/alerts/feed/" + "x" * 43 + ".atom")).status == 404


async def test_another_reader_cannot_change_an_alert_and_bad_settings_are_refused(
    site: Site, catalogue: Catalogue
) -> None:
    anne = await site.signed_in(catalogue.accounts, ANNE)
    bram = await site.signed_in(catalogue.accounts, BRAM)
    search_id = await _save(anne, "Chats", ANNE_QUERY, "daily", "fr")
    headers = {"X-CSRF-Token": await csrf_of(bram)}
    stolen = await bram.patch(f"/api/account/searches/{search_id}", json={"alert": "off"}, headers=headers)
    assert stolen.status == 404
    form = {"csrf": await csrf_of(bram), "alert": "off"}
    by_form = await bram.post(f"/account/searches/{search_id}/alert", data=form, allow_redirects=False)
    assert by_form.status == 404
    assert _frequency(SqlAlertStore(catalogue.database), search_id) == "daily"
    mine = {"X-CSRF-Token": await csrf_of(anne)}
    for body, param in (({"alert": "hourly"}, "alert"), ({"feed": "maybe"}, "feed"), ({}, "body")):
        refused = await anne.patch(f"/api/account/searches/{search_id}", json=body, headers=mine)
        assert refused.status == 400
        error = (await refused.json())["error"]
        assert error["param"] == param and error["message"]
    # A bad choice by the page's form: the page again, the message in that search's alert form.
    bad_form = await anne.post(
        f"/account/searches/{search_id}/alert", data={"csrf": mine["X-CSRF-Token"], "alert": "hourly"}
    )
    assert bad_form.status == 400
    redrawn = lxml.html.fromstring(await bad_form.text())
    [message] = redrawn.cssselect("#form-error")
    [alert_form] = redrawn.cssselect(f"#search-{search_id} form.kept-searches__alert")
    assert message in alert_form.iter() and "daily digest" in message.text_content()
    assert alert_form.cssselect("select[name=alert]")[0].get("aria-describedby") == "form-error"
    assert _frequency(SqlAlertStore(catalogue.database), search_id) == "daily"
    # Another reader's search stays not found, whatever the form says.
    their_bad = {"csrf": await csrf_of(bram), "alert": "hourly"}
    assert (await bram.post(f"/account/searches/{search_id}/alert", data=their_bad)).status == 404
    # The page's form sets it, with the CSRF token; without it nothing changes.
    no_token = await anne.post(f"/account/searches/{search_id}/alert", data={"alert": "weekly"})
    assert no_token.status == 403
    done = await anne.post(
        f"/account/searches/{search_id}/alert",
        data={"csrf": mine["X-CSRF-Token"], "alert": "weekly", "feed": "on"},
        allow_redirects=False,
    )
    assert done.status == 303
    alert = SqlAlertStore(catalogue.database).by_search_id(search_id)
    assert alert is not None and alert.frequency == "weekly" and alert.feed_token is not None
    page = await (await anne.get("/account/searches")).text()
    assert f"/alerts/feed/{alert.feed_token}.atom" in page


async def test_the_scheduler_of_serve_stores_the_digests_and_its_sender_sends_them(
    catalogue: Catalogue, settings: Settings, mailbox: Mailbox
) -> None:
    reader = make_account(catalogue.accounts, ANNE, "Anne")
    assert reader.id is not None
    saved = catalogue.searches.add_search(SavedSearch(reader.id, "Chats", "q=chats"), 10)
    assert saved.id is not None
    SqlAlertStore(catalogue.database).set_alert(reader.id, saved.id, "daily", "fr", utc_now())
    _after(utc_now())
    write_union_generation(catalogue.records, catalogue.index, SECOND, {})
    served = await Site(make_app(catalogue, settings)).start()
    try:
        deadline = time.monotonic() + 60
        while not mailbox.to(ANNE):
            assert time.monotonic() < deadline, "the scheduler sent no digest"
            await asyncio.sleep(0.1)
    finally:
        await served.close()
    [message] = mailbox.to(ANNE)
    assert _listed_ids(message) == ANNE_NEW
    assert [m.kind for m in catalogue.outbox.list_messages("sent")] == ["alert.digest"]
