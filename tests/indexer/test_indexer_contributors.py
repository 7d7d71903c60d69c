"""Contributors with roles, other titles and format refinements on real records; expected values are
read from the same records with plain pymarc (and the relator words the UNIMARC and MARC code lists
give, quoted here)."""

from __future__ import annotations

import pymarc
import pytest

from indexer.extract import ExtractedRecord, extract, strip_isbd
from indexer.profiles import builtin_profile
from tests.indexer.indexer_testdata import DATA
from unicat.model import Contributor, Profile, Source

# UNIMARC relator codes (Appendix C) and MARC relator codes, as their lists word them.
UNIMARC_WORDS = {"070": "author", "080": "author of introduction", "340": "editor", "440": "illustrator",
                 "730": "translator", "651": "publishing director"}  # fmt: skip
MARC_WORDS = {"aut": "author", "ill": "illustrator", "trl": "translator", "edt": "editor", "nrt": "narrator"}


def _records(relative: str, utf8: bool) -> list[pymarc.Record]:
    with (DATA / relative).open("rb") as handle:
        reader = pymarc.MARCReader(handle, to_unicode=True, force_utf8=utf8, permissive=True)
        return [record for record in reader if record is not None]


def _extract(record: pymarc.Record, profile: Profile) -> ExtractedRecord:
    return extract(record, builtin_profile(profile), Source("LIB", "Library", profile=profile), "id")


@pytest.mark.parametrize("name", ["unimarc/cotes8.mrc", "unimarc/cotesD.mrc", "unimarc/periouni.mrc"])
def test_unimarc_7xx_names_with_their_relator_codes_in_words(name: str) -> None:
    seen: set[str] = set()
    for record in _records(name, utf8=True):
        expected: dict[tuple[str, str | None], None] = {}
        for field in record.get_fields("700", "701", "702", "710", "711", "712"):
            person = strip_isbd(", ".join(v for v in field.get_subfields("a", "b") if v.strip()))
            if not person:
                continue
            codes = [code.strip() for code in field.get_subfields("4")]
            seen.update(codes)
            if all(code in UNIMARC_WORDS for code in codes):
                role = ", ".join(dict.fromkeys(UNIMARC_WORDS[c] for c in codes)) or None
                expected.setdefault((person, role), None)
            else:
                # A code the quoted list lacks: the name is there, with some role.
                expected.setdefault((person, "?"), None)
        got = [(c.name, c.role) for c in _extract(record, "unimarc").contributors]
        assert len(got) == len(expected)
        for (name_got, role_got), (name_expected, role_expected) in zip(got, expected, strict=True):
            assert name_got == name_expected
            assert role_got == role_expected if role_expected != "?" else role_got
    assert {"070", "340"} <= seen


def test_a_known_unimarc_author() -> None:
    # cotes8.mrc, first record: 700 $aLeroy-Beaulieu $bPaul $f(1843-1916) $4070.
    record = _records("unimarc/cotes8.mrc", utf8=True)[0]
    extracted = _extract(record, "unimarc")
    assert extracted.contributors == [Contributor("Leroy-Beaulieu, Paul", "author")]
    assert extracted.authors == ["Leroy-Beaulieu, Paul"]


def test_marc21_roles_from_relator_terms_and_codes() -> None:
    records = _records("dedup/pride-and-prejudice-fixed.mrc", utf8=False)
    checked = 0
    for record in records:
        extracted = _extract(record, "marc21")
        roles = {c.name: c.role for c in extracted.contributors}
        for field in record.get_fields("100", "700"):
            name = strip_isbd(" ".join(v for v in field.get_subfields("a", "b", "c", "d") if v.strip()))
            codes = [c.strip(" .").lower() for c in field.get_subfields("4")]
            terms = [strip_isbd(t).strip(" ,;()") for t in field.get_subfields("e") if t.strip()]
            if name not in roles:
                continue
            words = [MARC_WORDS[c] for c in codes if c in MARC_WORDS]
            if words and len(words) == len(codes):
                assert roles[name] == ", ".join(words), (name, roles[name])
                checked += 1
            elif terms and not codes:
                assert roles[name] == ", ".join(dict.fromkeys(terms)), (name, roles[name])
                checked += 1
    assert checked >= 20


def test_a_known_illustrator_written_as_a_term() -> None:
    # pride-and-prejudice-fixed.mrc, 001 13811704: 700 1_ $aThomson, Hugh, $d1860-1920, $eill.
    (record,) = [
        r for r in _records("dedup/pride-and-prejudice-fixed.mrc", utf8=False)
        if r.get_fields("001") and r.get_fields("001")[0].data == "13811704"
    ]  # fmt: skip
    contributors = _extract(record, "marc21").contributors
    assert Contributor("Thomson, Hugh, 1860-1920", "ill.") in contributors


def test_other_titles_come_from_uniform_and_variant_title_fields() -> None:
    for record in _records("dedup/pride-and-prejudice-fixed.mrc", utf8=False):
        expected = [
            strip_isbd(" ".join(v for v in field.get_subfields(*codes) if v.strip()))
            for field in record.get_fields("130", "240", "246", "730")
            for codes in [("a", "b", "n", "p") if field.tag == "246" else tuple("adfklmnoprs")]
        ]
        expected = [value for value in dict.fromkeys(expected) if value]
        assert sorted(_extract(record, "marc21").other_titles) == sorted(expected)


def test_marc21_008_form_of_item_refines_the_format() -> None:
    words = {"d": "large print", "f": "braille", "o": "online", "q": "electronic", "s": "electronic"}
    textual = {"a", "t", "c", "d", "p"}  # leader/06 of books, music and mixed materials
    found: set[str] = set()
    for record in _records("dedup/pride-and-prejudice-fixed.mrc", utf8=False):
        extracted = _extract(record, "marc21")
        fixed = record.get_fields("008")
        form = fixed[0].data[23] if fixed and len(fixed[0].data) > 23 else ""
        if record.leader[6] in textual and form in words:
            assert extracted.format_detail == words[form]
            found.add(words[form])
        elif record.leader[6] in textual and form in " r|":
            assert extracted.format_detail is None
    assert {"large print", "electronic"} <= found


def test_unimarc_106_form_of_item_refines_the_format() -> None:
    words = {"d": "large print", "f": "braille", "g": "microform", "t": "microform", "s": "electronic"}
    found = 0
    for record in _records("unimarc/periouni.mrc", utf8=True):
        coded = record.get_fields("106")
        form = (coded[0].get("a") or "")[:1] if coded else ""
        extracted = _extract(record, "unimarc")
        if extracted.format in ("book", "serial"):
            assert extracted.format_detail == words.get(form), form
            found += form in words
    assert found >= 1  # periouni.mrc: one record with 106 $a g (microform)
