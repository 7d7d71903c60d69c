"""What the API shows of a hit (search_app/catalogue/present.py): written from the stored document, it
must be the JSON that the record built from that document gives, key for key and byte for byte.

The documents are written out here, as the union index stores records (``UnionRecord.to_json``),
including the shapes an older index holds (fields left out) and every optional holding field."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from search_app.catalogue.present import document_hit_json, hit_json
from unicat.model import Contributor, Holding, UnionRecord

NAMES = {"BNF": "Bibliothèque nationale", "OXF": "Bodleian"}
AS_OF = {"BNF": "2024-05-01T10:00:00Z", "UVA": "2024-05-02T10:00:00Z"}


def full_record() -> UnionRecord:
    return UnionRecord(
        id="u-1",
        title="Le petit prince",
        authors=["Saint-Exupéry, Antoine de"],
        contributors=[Contributor("Saint-Exupéry, Antoine de", "author")],
        isbns=["9782070612758"],
        year=1943,
        language="fre",
        publisher="Gallimard",
        format="book",
        first_seen="2024-04-01T00:00:00Z",
        holdings=[
            Holding("UVA", "University of Virginia", call_number="PQ2637", barcode="X1", site="UVA-ALD"),
            Holding(
                "BNF",
                "BnF",
                call_number="8-Y2-1",
                branch="TOL",
                location="MAG",
                barcode="B2",
                item_type="LIV",
                note="fragile",
                branch_name="Tolbiac",
                depositary="D1",
                depositary_name="Dépôt",
                location_name="Magasin",
                item_type_name="Livre",
                status="on_loan",
                due_date="2024-06-01",
                site="BNF-TOL",
            ),
            Holding("OXF", "Oxford"),
        ],
    )


# An older index's document: no authors, format, first_seen; a holding whose barcode is null.
OLD_DOCUMENT: dict[str, Any] = {
    "id": "u-2",
    "title": "Atlas",
    "year": None,
    "holdings": [{"library": "BNF", "library_name": "BnF", "call_number": "GE-1", "barcode": None}],
}


@pytest.mark.parametrize("barcodes", [False, True])
@pytest.mark.parametrize("document", [full_record().to_json(), OLD_DOCUMENT], ids=["full", "old"])
def test_a_hit_from_its_document_is_the_hit_of_its_record(document: dict[str, Any], barcodes: bool) -> None:
    record = UnionRecord.from_json(document)
    for as_of in (AS_OF, None):
        ours = document_hit_json(document, NAMES, barcodes=barcodes, as_of=as_of)
        theirs = hit_json(record, NAMES, barcodes=barcodes, as_of=as_of)
        assert ours == theirs
        assert orjson.dumps(ours) == orjson.dumps(theirs)


def test_an_old_document_as_the_api_shows_it() -> None:
    assert document_hit_json(OLD_DOCUMENT, NAMES, barcodes=False, as_of=AS_OF) == {
        "id": "u-2",
        "title": "Atlas",
        "authors": [],
        "year": None,
        "language": None,
        "publisher": None,
        "format": "other",
        "libraries": ["BNF"],
        "first_seen": None,
        "holdings": [{"library": "BNF", "library_name": "Bibliothèque nationale", "call_number": "GE-1"}],
        "as_of": {"BNF": "2024-05-01T10:00:00Z"},
    }
