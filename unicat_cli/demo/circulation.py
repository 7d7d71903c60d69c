"""The demo's own example circulation data, added to the copies its libraries serve.

The demo's records are real records (``data/PROVENANCE.md``), and none carries the circulation state of
its copies: left so, every copy would show "status unknown". So that ``unicat demo`` shows every status
a reader meets, the demo libraries write some, as a library system would, in the fields the built-in
profiles read (``mappings/*.toml``): Koha's 952 flags and date due on MARC 21 copies (an 876 item after
an 852, with its item status, where the record has 852 holdings), Koha's 995 flags and Recommandation
995's date due on UNIMARC ones. The state of a copy is a function of the record's number in its library
and the copy's position, so every run of the demo shows the same; the dates due are fixed days.
"""

from __future__ import annotations

import pymarc

# The states dealt to copies in turn: most copies are on the shelf, as in a library.
STATES = (
    "available",
    "on_loan",
    "available",
    "not_for_loan",
    "available",
    "on_loan",
    "lost",
    "available",
    "damaged",
    "withdrawn",
)

# Koha's 952 flags: $0 withdrawn, $1 lost, $4 damaged, $7 not for loan (0 = not set); $q date due.
_KOHA_952 = {"withdrawn": "0", "lost": "1", "damaged": "4", "not_for_loan": "7"}
# Koha's UNIMARC 995 flags: $0 withdrawn, $1 damaged, $2 lost; $o circulation type (not for loan).
_KOHA_995 = {"withdrawn": "0", "damaged": "1", "lost": "2", "not_for_loan": "o"}
# MARC 21 876 $j item status, written out as the built-in profile's rules read it.
_ITEM_STATUS = {
    "available": "On shelf",
    "on_loan": "Checked out",
    "not_for_loan": "Not for loan",
    "lost": "Missing",
    "damaged": "Damaged",
    "withdrawn": "Withdrawn",
}


def state(number: int, position: int) -> str:
    """The state of copy ``position`` (0-based) of record ``number`` of a demo library."""
    return STATES[(number * 3 + position) % len(STATES)]


def due_date(number: int, position: int) -> str:
    """A fixed day of January 2027 for a copy on loan."""
    return f"2027-01-{(number + position) % 28 + 1:02d}"


def add_example_circulation(record: pymarc.Record, profile: str, number: int) -> None:
    """Write the example state of each copy of ``record`` (number ``number`` of its library) into it."""
    if profile == "unimarc":
        for position, field in enumerate(record.get_fields("995")):
            _flags(field, state(number, position), _KOHA_995, "n", due_date(number, position))
        return
    koha = record.get_fields("952")
    for position, field in enumerate(koha):
        _flags(field, state(number, position), _KOHA_952, "q", due_date(number, position))
    if koha or record.get_fields("876", "877", "878"):
        return
    for position, holding in enumerate(record.get_fields("852")):
        copy_state = state(number, position)
        item = pymarc.Field(
            tag="876",
            indicators=pymarc.Indicators(" ", " "),
            subfields=[pymarc.Subfield("j", _ITEM_STATUS[copy_state])],
        )
        record.fields.insert(record.fields.index(holding) + 1, item)


def _flags(field: pymarc.Field, copy_state: str, flags: dict[str, str], due_code: str, due: str) -> None:
    """Koha's flags as Koha writes them: each present, ``1`` for the one set, ``0`` for the others; a
    subfield the library already fills (the loan category some 995 $o hold) is left as it is, unless
    the copy's state is that flag's."""
    for flag_state, code in flags.items():
        if flag_state == copy_state:
            field.add_subfield(code, "1")
        elif code not in field:
            field.add_subfield(code, "0")
    if copy_state == "on_loan":
        field.add_subfield(due_code, due)
