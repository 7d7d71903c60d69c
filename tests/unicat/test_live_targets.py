"""The rules a live target keeps before it is stored (unicat/live_targets.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from unicat.errors import BadParameter
from unicat.live_search import MAX_RECORDS, MAX_TIMEOUT, LiveTarget
from unicat.live_targets import MIN_TIMEOUT, check_target, default_record_syntax, target_to_json

SRU = LiveTarget("LOC", " Library of Congress ", "sru", " https://lx2.loc.gov:210/LCDB ", "marcxml")
Z3950 = LiveTarget("ZEB", "Zebra", "z3950", "127.0.0.1:9999/Default", "usmarc")
SOURCES = ("NAMUR", "UVA")
DIRECTORY = ("BNF", "SCPO", "UVA-ALD")


def checked(target: LiveTarget, **changes: Any) -> LiveTarget:
    return check_target(dataclasses.replace(target, **changes), sources=SOURCES, libraries=DIRECTORY)


def refused(target: LiveTarget, **changes: Any) -> BadParameter:
    with pytest.raises(BadParameter) as caught:
        checked(target, **changes)
    return caught.value


def test_a_good_target_comes_back_cleaned() -> None:
    target = checked(
        SRU, query_map={"title": " dc.title "}, libraries=(" BNF", "SCPO", "BNF"), charset=" ", timeout=3
    )
    assert target.name == "Library of Congress" and target.address == "https://lx2.loc.gov:210/LCDB"
    assert target.query_map == {"title": "dc.title"}
    assert target.libraries == ("BNF", "SCPO")  # spaces dropped, each once
    assert target.charset is None and target.timeout == 3.0
    assert checked(Z3950, record_syntax="UNIMARC", profile="unimarc").record_syntax == "unimarc"


def test_the_code_is_a_source_code_and_not_a_sources() -> None:
    assert refused(SRU, code="L O C").param == "code"
    error = refused(SRU, code="NAMUR")
    assert error.param == "code" and "harvested source" in error.message and "another code" in error.message


@pytest.mark.parametrize(
    "address", ["ftp://lx2.loc.gov/LCDB", "lx2.loc.gov/LCDB", "https:///LCDB", "https://a b/sru", ""]
)
def test_an_sru_address_is_an_http_url(address: str) -> None:
    assert refused(SRU, address=address).param == "sru"


@pytest.mark.parametrize("address", ["127.0.0.1:9999", "127.0.0.1/Default", "host:70000/db", "http://h:1/d"])
def test_a_z3950_address_is_host_port_database(address: str) -> None:
    error = refused(Z3950, address=address)
    assert error.param == "z3950" and "host:port/database" in error.message


def test_an_ipv6_z3950_address_is_taken() -> None:
    assert checked(Z3950, address="[::1]:210/books").address == "[::1]:210/books"


@pytest.mark.parametrize(
    ("target", "syntax"), [(SRU, "usmarc"), (SRU, "marc21"), (Z3950, "marcxml"), (Z3950, "sutrs")]
)
def test_the_record_syntax_is_one_the_protocol_takes(target: LiveTarget, syntax: str) -> None:
    error = refused(target, record_syntax=syntax)
    assert error.param == "syntax"
    assert (
        ("marcxml" in error.message) if target is SRU else ("usmarc, marc21, unimarc, xml" in error.message)
    )


def test_the_default_syntax_follows_the_protocol_and_profile() -> None:
    assert default_record_syntax("sru", "unimarc") == "marcxml"
    assert default_record_syntax("z3950", "marc21") == "usmarc"
    assert default_record_syntax("z3950", "unimarc") == "unimarc"


def test_protocol_and_profile_are_known_ones() -> None:
    assert refused(SRU, protocol="http").param == "protocol"
    assert refused(SRU, profile="danmarc").param == "profile"


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"timeout": MIN_TIMEOUT - 0.01}, "timeout"),
        ({"timeout": MAX_TIMEOUT + 1}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"max_records": 0}, "max-records"),
        ({"max_records": MAX_RECORDS + 1}, "max-records"),
        ({"name": "  "}, "name"),
        ({"name": "line\nbreak"}, "name"),
        ({"charset": "utf 8"}, "charset"),
        ({"query_map": {"isbn": "@attr 1=7"}}, "map"),
        ({"query_map": {"title": " "}}, "map"),
        ({"libraries": ("no code",)}, "library"),
    ],
)
def test_values_out_of_bounds_are_refused(changes: dict[str, Any], param: str) -> None:
    assert refused(SRU, **changes).param == param


def test_the_bounds_themselves_are_taken() -> None:
    assert checked(SRU, timeout=MIN_TIMEOUT, max_records=1).timeout == MIN_TIMEOUT
    assert checked(SRU, timeout=MAX_TIMEOUT, max_records=MAX_RECORDS).max_records == MAX_RECORDS


def test_an_unknown_library_is_refused_with_the_known_ones() -> None:
    error = refused(SRU, libraries=("BNF", "OXF"))
    assert error.param == "library"
    assert "'OXF'" in error.message and "known: BNF, SCPO, UVA-ALD" in error.message


def test_an_empty_directory_checks_only_the_form_of_library_codes() -> None:
    target = check_target(dataclasses.replace(SRU, libraries=("OXF",)), sources=(), libraries=())
    assert target.libraries == ("OXF",)


def test_json_has_every_value() -> None:
    target = checked(Z3950, query_map={"author": "@attr 1=1003"}, libraries=("BNF",), charset="marc8")
    assert target_to_json(target) == {
        "code": "ZEB",
        "name": "Zebra",
        "protocol": "z3950",
        "address": "127.0.0.1:9999/Default",
        "record_syntax": "usmarc",
        "profile": "marc21",
        "charset": "marc8",
        "query_map": {"author": "@attr 1=1003"},
        "timeout": 10.0,
        "libraries": ["BNF"],
        "max_records": 20,
        "enabled": True,
        "created": None,
        "updated": None,
    }
