"""Edition and date evidence binds every merge key but a shared ISBN, on real records.

Pairs of dedup/pride-and-prejudice-fixed.mrc (0-based, file order). What each pair says is read here
with plain pymarc, and the expected refusal follows from it:

- 118 and 120 share the LCCN 81010777 (010 $a of both): the Gramercy *Complete novels* of 1981 with no
  edition statement, and the Avenel *Jane Austen, her complete novels* of 1981 with "Avenel 1981 ed."
  (250 $a): a reissue that kept its original's LCCN.
- 85 and 112: *Pride and prejudice* of 1993, "2nd ed." (Norton) and "New ed" (Dent).
- 148 and 27: *Pride and prejudice*, Project Gutenberg "[199-?]" (008/07-10 ``199u``: no year) and
  Penguin 2003.
- 19 and 27: *Pride and prejudice*, Penguin 1994 and Penguin 2003.

Both records of a pair carry ISBNs that differ, and records whose ISBNs differ are refused under any
key but an ISBN before edition and date are looked at. To see the edition and date rules, the tests
compare them as a library that did not record the ISBNs would have catalogued them (no ISBNs).
"""

from __future__ import annotations

import dataclasses
import io

import pymarc
import pytest

from indexer.decoding import decode_record
from indexer.dedup import MAX_KEPT_APART, cluster_records
from indexer.extract import ExtractedRecord, extract
from indexer.matching import TITLE_RULE, Traits, conflict, refusal_text, traits_of
from indexer.profiles import builtin_profile
from tests.indexer.indexer_testdata import iso2709_records
from unicat.model import Source

PRIDE_FILE = "dedup/pride-and-prejudice-fixed.mrc"
GRAMERCY_1981, AVENEL_1981, NORTON_1993, DENT_1993, GUTENBERG, PENGUIN_2003, PENGUIN_1994 = (
    118, 120, 85, 112, 148, 27, 19,
)  # fmt: skip
IDENTIFIER_KEYS = ("system_number", "lccn", "ean", "issn")


def _marc(position: int) -> pymarc.Record:
    raw = iso2709_records(PRIDE_FILE)[position]
    [record] = list(pymarc.MARCReader(io.BytesIO(raw), to_unicode=True, force_utf8=True))
    assert record is not None
    return record


def _values(record: pymarc.Record, tag: str, code: str) -> list[str]:
    return [value.strip() for field in record.get_fields(tag) for value in field.get_subfields(code)]


def _traits(position: int) -> Traits:
    """The record's traits as the indexer reads it, without its ISBNs (see the module docstring)."""
    raw = iso2709_records(PRIDE_FILE)[position]
    source = Source(code=f"L{position}", name=f"Library {position}", profile="marc21")
    extracted = extract(
        decode_record(raw, "iso2709", "marc21").record, builtin_profile("marc21"), source, "r"
    )
    return dataclasses.replace(traits_of(extracted), isbns=frozenset())


def test_the_pairs_say_what_the_tests_rely_on() -> None:
    gramercy, avenel = _marc(GRAMERCY_1981), _marc(AVENEL_1981)
    assert _values(gramercy, "010", "a") == _values(avenel, "010", "a") == ["81010777"]
    assert _values(gramercy, "250", "a") == [] and _values(avenel, "250", "a") == ["Avenel 1981 ed."]
    assert gramercy["008"].data[7:11] == avenel["008"].data[7:11] == "1981"
    norton, dent = _marc(NORTON_1993), _marc(DENT_1993)
    assert (_values(norton, "250", "a"), _values(dent, "250", "a")) == (["2nd ed."], ["New ed"])
    assert norton["008"].data[7:11] == dent["008"].data[7:11] == "1993"
    gutenberg, penguin = _marc(GUTENBERG), _marc(PENGUIN_2003)
    assert gutenberg["008"].data[7:11] == "199u" and _values(gutenberg, "260", "c") == ["[199-?]."]
    assert penguin["008"].data[7:11] == "2003" and _values(penguin, "250", "a") == []
    assert _marc(PENGUIN_1994)["008"].data[7:11] == "1994"


@pytest.mark.parametrize("rule", IDENTIFIER_KEYS)
def test_an_edition_statement_on_one_record_only_refuses_every_identifier_but_an_isbn(rule: str) -> None:
    gramercy, avenel = _traits(GRAMERCY_1981), _traits(AVENEL_1981)
    assert conflict(avenel, gramercy, rule=rule) == "edition"
    assert conflict(gramercy, avenel, rule=rule) == "edition"
    # A shared ISBN is the publisher's word for one product: a statement on one record only is a
    # cataloguer's choice, not another edition.
    assert conflict(avenel, gramercy, rule="isbn") is None


@pytest.mark.parametrize("rule", IDENTIFIER_KEYS)
def test_two_different_edition_statements_refuse_every_identifier(rule: str) -> None:
    norton, dent = _traits(NORTON_1993), _traits(DENT_1993)
    assert conflict(norton, dent, rule=rule) == "edition"
    # Under an ISBN only two different edition numbers refuse; "New ed" has none.
    assert conflict(norton, dent, rule="isbn") is None


@pytest.mark.parametrize("rule", IDENTIFIER_KEYS)
def test_a_year_known_on_one_record_only_refuses_every_identifier_but_an_isbn(rule: str) -> None:
    gutenberg, penguin = _traits(GUTENBERG), _traits(PENGUIN_2003)
    assert conflict(gutenberg, penguin, rule=rule) == "year unknown"
    assert conflict(penguin, gutenberg, rule=rule) == "year unknown"
    assert conflict(gutenberg, penguin, rule="isbn") is None


@pytest.mark.parametrize("rule", [*IDENTIFIER_KEYS, "isbn", TITLE_RULE])
def test_two_years_refuse_every_key(rule: str) -> None:
    assert conflict(_traits(PENGUIN_1994), _traits(PENGUIN_2003), rule=rule) == "year"


@pytest.mark.parametrize("rule", IDENTIFIER_KEYS)
def test_copies_that_agree_on_edition_and_year_still_merge(rule: str) -> None:
    penguin = _traits(PENGUIN_2003)
    assert conflict(penguin, penguin, rule=rule) is None
    # "First edition" says no more than no statement: a first edition seldom says so.
    assert conflict(penguin, dataclasses.replace(penguin, edition="1"), rule=rule) is None


def test_a_refusal_reads_with_both_values() -> None:
    assert (
        refusal_text("year", _traits(PENGUIN_1994), _traits(PENGUIN_2003)) == "the years differ (1994 / 2003)"
    )
    assert (
        refusal_text("year unknown", _traits(PENGUIN_2003), _traits(GUTENBERG))
        == "the year is known on one only (2003 / none)"
    )
    # The Avenel statement "Avenel 1981 ed." is compared by its number, 1981.
    assert (
        refusal_text("edition", _traits(GRAMERCY_1981), _traits(AVENEL_1981))
        == "an edition statement on one only (none / ed. 1981)"
    )


def _copy(source: str, **fields: object) -> ExtractedRecord:
    """A library's record of the 2003 Penguin *Pride and prejudice* (as record 27 describes it)."""
    defaults: dict[str, object] = {
        "local_id": "r",
        "datestamp": None,
        "title": "Pride and prejudice",
        "title_proper": "Pride and prejudice",
        "format": "book",
        "authors": ["Austen, Jane"],
        "year": 2003,
        "publisher": "Penguin Books",
    }
    defaults.update(fields)
    return ExtractedRecord(source=source, **defaults)  # type: ignore[arg-type]


def test_a_refusal_under_a_shared_identifier_is_never_crowded_out_by_the_title_key() -> None:
    # Seven audiobooks of the same title, author and year by seven publishers (kept apart from each
    # other and, by the title key, from the book: another material type), then a record with a
    # shared LCCN and a "2nd ed." statement.
    labels = ("Naxos", "Blackstone", "Audible", "Tantor", "Brilliance", "Chivers", "Listening")
    audiobooks = [_copy(f"A{n}", format="sound recording", publisher=label) for n, label in enumerate(labels)]
    original = _copy("B0", lccns=["2003265779"])
    reissue = _copy("C0", lccns=["2003265779"], edition="2nd ed.")
    clusters = cluster_records([*audiobooks, original, reissue])
    [home] = [cluster for cluster in clusters if cluster.members == [original]]
    assert len(home.kept_apart) == MAX_KEPT_APART
    first = home.kept_apart[0]
    assert (first.other.source, first.rule, first.key) == ("C0", "lccn", "2003265779")
    assert first.reason == "an edition statement on one only (none / ed. 2)"
    assert {note.rule for note in home.kept_apart[1:]} == {TITLE_RULE}
