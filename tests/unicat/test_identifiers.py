"""Identifiers. Check digits are worked out by hand from the standards, in the comments:
ISBN-10 (ISO 2108): sum of digit × weight 10..2, check = (11 - sum mod 11) mod 11, 10 → X;
ISBN-13: weights 1,3,1,3…, check = (10 - sum mod 10) mod 10; ISSN (ISO 3297): weights 8..2 like ISBN-10.
"""

from __future__ import annotations

import pytest

from unicat.identifiers import normalize_isbn, normalize_issn, normalize_system_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # 2,0,7,0,3,6,0,0,2 × 10..2 = 128; 128 mod 11 = 7; check 4. ISBN-13 978207036002: sum 86 → 4.
        ("2-07-036002-4", "9782070360024"),
        ("2070360024", "9782070360024"),
        ("2070360024 (pbk.)", "9782070360024"),
        ("978-2-07-036002-4", "9782070360024"),
        # 0,1,4,1,4,3,9,5,1 → 140; mod 11 = 8; check 3. 978014143951: sum 102 → 8.
        ("0-14-143951-3", "9780141439518"),
        # 0,8,0,4,4,2,9,5,7 → 199; mod 11 = 1; check 10 = X. 978080442957: sum 117 → 3.
        ("0-8044-2957-X", "9780804429573"),
        ("080442957x", "9780804429573"),
    ],
)
def test_isbn_normalised_to_isbn13(value: str, expected: str) -> None:
    assert normalize_isbn(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2-07-036002-5",  # check digit should be 4
        "9782070360025",  # check digit should be 4
        "0-8044-2957-0",  # check digit should be X
        "1234567890128",  # 13 digits but no 978/979 prefix
        "12345",
        "not an isbn",
    ],
)
def test_isbn_with_wrong_check_digit_or_shape_is_rejected(value: str) -> None:
    assert normalize_isbn(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # 0,0,3,5,2,9,5 × 8..2 = 88; 88 mod 11 = 0; check 0.
        ("0035-2950", "0035-2950"),
        ("00352950", "0035-2950"),
        ("ISSN 0035-2950 (print)", "0035-2950"),
        # 0,0,0,0,0,0,6 × 8..2 = 12; 12 mod 11 = 1; check 10 = X.
        ("0000-006x", "0000-006X"),
    ],
)
def test_issn(value: str, expected: str) -> None:
    assert normalize_issn(value) == expected


def test_issn_with_wrong_check_digit_is_rejected() -> None:
    assert normalize_issn("0035-2951") is None
    assert normalize_issn("0000-0060") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("(OCoLC)ocm01234567", "ocolc:1234567"),
        ("(OCoLC)ocn123456789", "ocolc:123456789"),
        ("(OCoLC)00012345", "ocolc:12345"),
        ("(DE-599)ZDB123456-7", "de-599:zdb123456-7"),
        (" (DE-101) 1012345678 ", "de-101:1012345678"),
    ],
)
def test_system_numbers_keep_their_organisation(value: str, expected: str) -> None:
    assert normalize_system_number(value) == expected


@pytest.mark.parametrize("value", ["123456", "(OCoLC)ocm000", "()123"])
def test_system_numbers_without_organisation_or_number_are_not_comparable(value: str) -> None:
    assert normalize_system_number(value) is None
