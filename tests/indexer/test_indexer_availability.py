"""A copy's status read by the built-in profiles' [[holdings.status]] rules from records built here
with the codes the standards and Koha document (cited in mappings/marc21.toml and unimarc.toml): the
expected statuses are those documents' meanings, not what the code happens to answer."""

from __future__ import annotations

import pymarc
import pytest

from indexer.extract import extract
from indexer.overrides import apply_override, parse_override
from indexer.profiles import builtin_profile
from unicat.errors import ConfigError
from unicat.model import Holding, Profile, Source


def _record(*fields: tuple[str, list[tuple[str, str]]]) -> pymarc.Record:
    record = pymarc.Record()
    record.add_field(pymarc.Field(tag="001", data="rec-1"))
    title_tag, title_code = ("200", "a") if any(tag == "995" for tag, _ in fields) else ("245", "a")
    record.add_field(
        pymarc.Field(
            tag=title_tag,
            indicators=pymarc.Indicators("1", "0"),
            subfields=[pymarc.Subfield(title_code, "A title")],
        )
    )
    for tag, subfields in fields:
        record.add_field(
            pymarc.Field(
                tag=tag,
                indicators=pymarc.Indicators(" ", " "),
                subfields=[pymarc.Subfield(code, value) for code, value in subfields],
            )
        )
    return record


def _holdings(record: pymarc.Record, profile: Profile, mapping: str | None = None) -> list[Holding]:
    source = Source(code="LIB", name="Library", profile=profile, mapping=mapping)
    chosen = builtin_profile(profile)
    if mapping is not None:
        chosen = apply_override(chosen, parse_override(mapping, "test override"), "test override")
    return extract(record, chosen, source, "rec-1").holdings


# Koha 952: $0 withdrawn, $1 lost, $4 damaged, $7 not for loan (0 = not set), $q date due.
KOHA_952 = [
    ([("a", "MAIN"), ("0", "0"), ("1", "0"), ("4", "0"), ("7", "0")], "available", None),
    ([("a", "MAIN"), ("0", "0"), ("1", "0"), ("7", "0"), ("q", "2026-12-24")], "on_loan", "2026-12-24"),
    ([("a", "MAIN"), ("7", "1")], "not_for_loan", None),
    ([("a", "MAIN"), ("7", "-1")], "not_for_loan", None),  # Koha's "ordered" is negative: not loanable
    ([("a", "MAIN"), ("1", "2")], "lost", None),
    ([("a", "MAIN"), ("4", "1")], "damaged", None),
    ([("a", "MAIN"), ("0", "1"), ("1", "1")], "withdrawn", None),  # withdrawn wins over lost
    ([("a", "MAIN"), ("1", "1"), ("q", "2026-12-24")], "lost", None),  # lost on loan: lost, no date
    ([("a", "MAIN"), ("p", "123")], None, None),  # no circulation subfield: status unknown
]


@pytest.mark.parametrize(("subfields", "status", "due"), KOHA_952)
def test_koha_952_flags_give_the_copy_status(
    subfields: list[tuple[str, str]], status: str | None, due: str | None
) -> None:
    [holding] = _holdings(_record(("952", subfields)), "marc21")
    assert (holding.status, holding.due_date) == (status, due)


# Koha's UNIMARC 995: $0 withdrawn, $1 damaged, $2 lost, $n date due (Recommandation 995: date of
# return foreseen), $o circulation type (Koha: items.notforloan).
KOHA_995 = [
    ([("b", "BIB"), ("2", "0"), ("o", "0")], "available", None),
    ([("b", "BIB"), ("2", "0"), ("n", "20270105")], "on_loan", "2027-01-05"),
    ([("b", "BIB"), ("2", "0"), ("o", "1")], "not_for_loan", None),
    ([("b", "BIB"), ("2", "1")], "lost", None),
    ([("b", "BIB"), ("1", "1"), ("2", "0")], "damaged", None),
    ([("b", "BIB"), ("0", "1"), ("2", "0")], "withdrawn", None),
    # A circulation type that is no Koha flag (a loan category of another system) says nothing.
    ([("b", "BIB"), ("o", "L4")], None, None),
    ([("b", "BIB"), ("k", "843 DUR")], None, None),
]


@pytest.mark.parametrize(("subfields", "status", "due"), KOHA_995)
def test_995_circulation_subfields_give_the_copy_status(
    subfields: list[tuple[str, str]], status: str | None, due: str | None
) -> None:
    [holding] = _holdings(_record(("995", subfields)), "unimarc")
    assert (holding.status, holding.due_date) == (status, due)


def test_852_items_876_give_status_from_item_status_and_use_restrictions() -> None:
    # MARC 21 Holdings 876 $j item status, $h use restrictions; an item belongs to the 852 before it.
    record = _record(
        ("852", [("a", "ONE"), ("h", "PR4034")]),
        ("876", [("p", "b1"), ("j", "Missing")]),
        ("876", [("p", "b2"), ("j", "Checked out")]),
        ("852", [("a", "TWO")]),
        ("876", [("p", "b3"), ("h", "In library use only")]),
        ("852", [("a", "THREE")]),
        ("876", [("p", "b4"), ("j", "On shelf")]),
        ("852", [("a", "FOUR")]),
    )
    holdings = _holdings(record, "marc21")
    assert [(h.branch, h.status) for h in holdings] == [
        # One item missing, one on loan: the copy a reader can soonest have is the one on loan.
        ("ONE", "on_loan"),
        ("TWO", "not_for_loan"),
        # An item status no rule names: the library sent circulation data and no flag.
        ("THREE", "available"),
        # An 852 without item information: nothing said, nothing guessed.
        ("FOUR", None),
    ]


def test_949_copies_stay_status_unknown() -> None:
    [holding] = _holdings(_record(("949", [("a", "PR4034"), ("i", "X1")])), "marc21")
    assert holding.status is None


def test_an_override_changes_the_rules_of_a_tag() -> None:
    # A library whose 952 $7 = 2 means "staff collection, loanable on request": its override keeps
    # the other flags and reads $7 as not for loan only for the values it lists.
    mapping = """
[[holdings]]
tag = "952"
branch = "a"
circulation = "952017q"
due_date = "q"

[[holdings.status]]
spec = "9521"
when = "nonzero"
status = "lost"

[[holdings.status]]
spec = "9527"
values = ["1", "3"]
status = "not_for_loan"
"""
    statuses = [
        _holdings(_record(("952", [("a", "M"), ("7", code)])), "marc21", mapping)[0].status
        for code in ("1", "2", "3")
    ]
    assert statuses == ["not_for_loan", "available", "not_for_loan"]


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ('spec = "9527"\nwhen = "nonzero"\nstatus = "gone"', "holdings #1.status #1.status"),
        ('spec = "9527"\nwhen = "sometimes"\nstatus = "lost"', "holdings #1.status #1.when"),
        ('spec = "9527"\nstatus = "lost"', "holdings #1.status #1 must have either"),
        ('spec = "9527"\nwhen = "present"\nvalues = ["1"]\nstatus = "lost"', "holdings #1.status #1 must"),
        ('spec = "952"\nwhen = "present"\nstatus = "lost"', "holdings #1.status #1.spec"),
        ('spec = "9527"\nvalues = []\nstatus = "lost"', "holdings #1.status #1.values"),
        ('spec = "9527"\nwhen = "present"\nstatus = "lost"\ncolour = "red"', "holdings #1.status #1.colour"),
    ],
)
def test_a_wrong_status_rule_is_an_error_naming_its_key(rule: str, named: str) -> None:
    text = f'[[holdings]]\ntag = "952"\nbranch = "a"\n\n[[holdings.status]]\n{rule}\n'
    with pytest.raises(ConfigError, match=named):
        apply_override(builtin_profile("marc21"), parse_override(text, "over.toml"), "over.toml")
