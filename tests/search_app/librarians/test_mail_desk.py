"""``/librarians/mail`` over real HTTP: counts by state, failed and interrupted messages with the mail
server's answer, addresses whole for admins and masked for librarians, patrons kept out, and the resend
button (CSRF-checked) that queues a message again once — a sent message is a 409, never resent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import Site, csrf_of, post_form
from unicat.catalogue import Catalogue
from unicat.outbox import Message
from unicat.settings import Settings


def failed_and_interrupted(catalogue: Catalogue) -> tuple[int, int, int]:
    """Three messages: one failed with a 550, one interrupted, one sent; their ids."""
    store = catalogue.outbox
    ids = [
        store.enqueue(Message(f"reader{n}@example.org", f"Subject {n}", "Text", "registration", f"k:{n}")).id
        or 0
        for n in range(3)
    ]
    claimed = {item.message.id: item for item in store.claim(3, 600)}
    store.mark_failed(claimed[ids[0]], "550 5.1.1 no such mailbox", None)
    store.mark_sent(claimed[ids[2]])
    store.interrupt_expired(datetime.now(UTC) + timedelta(hours=1))  # ids[1]'s sender died
    return ids[0], ids[1], ids[2]


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    served = await Site(make_app(catalogue, settings)).start()
    yield served
    await served.close()


async def test_librarians_see_failures_masked_and_resend_one(site: Site, catalogue: Catalogue) -> None:
    failed, interrupted, sent = failed_and_interrupted(catalogue)
    librarian = await site.signed_in(catalogue.accounts, "desk@example.org", "librarian")
    page = await (await librarian.get("/librarians/mail")).text()
    assert "550 5.1.1 no such mailbox" in page and "Subject 0" in page and "Subject 1" in page
    assert "Subject 2" not in page  # sent: counted, not listed
    assert "r***@example.org" in page and "reader0@example.org" not in page
    assert 'href="/librarians/mail"' in (await (await librarian.get("/librarians/harvests")).text())
    answer = await post_form(librarian, "/librarians/mail", {"message": str(failed)})
    assert answer.status == 303 and answer.headers["Location"] == "/librarians/mail?done=resent"
    resent = catalogue.outbox.get(failed)
    assert resent is not None and (resent.state, resent.attempts) == ("queued", 0)
    for message_id in (failed, sent):  # queued now, or sent: resending could double it
        again = await post_form(librarian, "/librarians/mail", {"message": str(message_id)})
        assert again.status == 409 and "only failed or interrupted" in await again.text()
    missing = await post_form(librarian, "/librarians/mail", {"message": "999999"})
    assert missing.status == 404
    bad = await post_form(librarian, "/librarians/mail", {"message": "x"})
    assert bad.status == 400
    # Without the page's CSRF token, nothing is resent.
    forged = await librarian.post(
        "/librarians/mail", data={"message": str(interrupted)}, allow_redirects=False
    )
    assert forged.status == 403
    still = catalogue.outbox.get(interrupted)
    assert still is not None and still.state == "interrupted"


async def test_admins_see_whole_addresses_and_patrons_are_kept_out(site: Site, catalogue: Catalogue) -> None:
    failed_and_interrupted(catalogue)
    admin = await site.signed_in(catalogue.accounts, "boss@example.org", "admin")
    page = await (await admin.get("/librarians/mail")).text()
    assert "reader0@example.org" in page and "reader1@example.org" in page
    patron = await site.signed_in(catalogue.accounts, "pat@example.org", "patron")
    assert (await patron.get("/librarians/mail")).status == 403
    answer = await patron.post(
        "/librarians/mail", data={"message": "1", "csrf": await csrf_of(patron)}, allow_redirects=False
    )
    assert answer.status == 403
