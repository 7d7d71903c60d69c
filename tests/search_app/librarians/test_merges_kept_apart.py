"""A reissue that kept its original's LCCN is kept apart by the edition evidence, and the merge desk
says so, in its page and its JSON.

Records 118 and 120 of dedup/pride-and-prejudice-fixed.mrc, read with plain pymarc here: both carry
the LCCN 81010777 (010 $a) and the year 1981 (008/07-10); 120 says "Avenel 1981 ed." (250 $a), 118
gives no edition statement. 118 is stored as a library that did not record its ISBN (020 removed):
records whose ISBNs differ are refused before edition and date are looked at.
"""

from __future__ import annotations

import io
from typing import Any

import lxml.html
import pymarc
import pytest

from indexer import run_index
from search_app.app import make_app
from tests.indexer.indexer_testdata import home, iso2709_records
from tests.search_app.accounts_http import staff_client
from unicat.catalogue import Catalogue
from unicat.model import Source, SourceRecord

GRAMERCY_1981, AVENEL_1981 = 118, 120


def _marc(position: int) -> pymarc.Record:
    raw = iso2709_records("dedup/pride-and-prejudice-fixed.mrc")[position]
    [record] = list(pymarc.MARCReader(io.BytesIO(raw), to_unicode=True, force_utf8=True))
    assert record is not None
    return record


@pytest.fixture
def catalogue(catalogue: Catalogue) -> Catalogue:
    """The web app tests' catalogue with the two records, each in a library of its own, indexed."""
    gramercy = _marc(GRAMERCY_1981)
    gramercy.remove_fields("020")
    for position, record in ((GRAMERCY_1981, gramercy), (AVENEL_1981, _marc(AVENEL_1981))):
        code = f"L{position}"
        catalogue.records.save_source(Source(code, f"Library {position}"))
        stored = SourceRecord(code, "r", record.as_marc(), "iso2709", "2024-01-01T00:00:00Z")
        catalogue.records.store_page(code, [stored], None)
    run_index(catalogue.records, catalogue.index, workers=1)
    return catalogue


async def test_the_merge_desk_says_which_rule_kept_a_reissue_apart(
    catalogue: Catalogue, aiohttp_client: Any
) -> None:
    gramercy, avenel = _marc(GRAMERCY_1981), _marc(AVENEL_1981)
    [lccn] = [value.strip() for field in gramercy.get_fields("010") for value in field.get_subfields("a")]
    assert [value.strip() for field in avenel.get_fields("010") for value in field.get_subfields("a")] == [
        lccn
    ]
    assert not gramercy.get_fields("250") and avenel["250"]["a"] == "Avenel 1981 ed."

    original, reissue = home(catalogue.records, GRAMERCY_1981), home(catalogue.records, AVENEL_1981)
    assert original != reissue
    app = make_app(catalogue, catalogue.index.settings)
    client = await staff_client(aiohttp_client, app, catalogue.accounts)

    explained = await (await client.get(f"/api/records/{original}/merge")).json()
    # The statement "Avenel 1981 ed." is compared by its number, 1981; the original has none.
    assert explained["kept_apart"] == [
        {
            "other": {"source": f"L{AVENEL_1981}", "local_id": "r"},
            "rule": "lccn",
            "key": lccn,
            "label": "same LCCN",
            "reason": "an edition statement on one only (none / ed. 1981)",
            "text": f"kept apart from L{AVENEL_1981}:r (same LCCN {lccn}): "
            "an edition statement on one only (none / ed. 1981)",
        }
    ]
    other_side = await (await client.get(f"/api/records/{reissue}/merge")).json()
    assert [(note["other"]["source"], note["reason"]) for note in other_side["kept_apart"]] == [
        (f"L{GRAMERCY_1981}", "an edition statement on one only (ed. 1981 / none)")
    ]
    record = await (await client.get(f"/api/records/{original}")).json()
    assert record["kept_apart"][0]["reason"] == "an edition statement on one only (none / ed. 1981)"

    page = await client.get(f"/librarians/merges/{original}")
    assert page.status == 200
    text = " ".join(lxml.html.fromstring(await page.text()).text_content().split())
    assert "Kept apart by a rule" in text
    assert f"Kept apart from L{AVENEL_1981}:r (same LCCN {lccn}): an edition statement on one only" in text
