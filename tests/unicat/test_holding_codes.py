"""Code tables: import files checked whole, names applied beside the codes."""

from __future__ import annotations

import re

import pytest

from unicat.errors import BadParameter
from unicat.holding_codes import CodeName, name_holdings, parse_code_file, tables_of
from unicat.model import Holding


def test_a_toml_file_gives_one_entry_per_code_of_each_kind() -> None:
    text = (
        '[branch]\n"751072303" = "Médiathèque des Cotes"\n[item_type]\nCN = "Novel"\nDI = " Documentary "\n'
    )

    assert parse_code_file(text, "codes.toml") == [
        CodeName("branch", "751072303", "Médiathèque des Cotes"),
        CodeName("item_type", "CN", "Novel"),
        CodeName("item_type", "DI", "Documentary"),
    ]


def test_a_csv_file_may_start_with_its_header() -> None:
    text = 'kind,code,name\nlocation,ANX1,Annexe\r\nitem_type,CN,"Novel, children\'s"\n'

    assert parse_code_file(text, "codes.CSV") == [
        CodeName("location", "ANX1", "Annexe"),
        CodeName("item_type", "CN", "Novel, children's"),
    ]


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("branch,CN,Novel\nshelf,X,Y\n", "c.csv", "c.csv line 2: kind: 'shelf' is not a kind of code"),
        ("branch,,Novel\n", "c.csv", "c.csv line 1: code: '' is not a code"),
        ("branch,CN,  \n", "c.csv", "c.csv line 1: name: '  ' is not a name"),
        ("branch,CN\n", "c.csv", "c.csv line 1: expected 3 columns (kind,code,name), found 2"),
        ("[branch\n", "c.toml", "c.toml is not valid TOML"),
        ("branch = 3\n", "c.toml", "c.toml: branch must be a table"),
        ("[branch]\nCN = 3\n", "c.toml", "c.toml: [branch] 'CN' must be given a name in quotes"),
        ("branch,CN,A\nbranch,CN,B\n", "c.csv", "c.csv: branch code 'CN' is named twice"),
        ("branch,CN,A\n", "c.txt", "c.txt: expected a .csv or .toml file"),
    ],
)
def test_a_bad_file_is_refused_with_the_place_of_the_problem(text: str, name: str, message: str) -> None:
    with pytest.raises(BadParameter, match=re.escape(message)):
        parse_code_file(text, name)


def test_names_go_beside_the_codes_of_the_holdings_own_source() -> None:
    medi = Holding("MEDI", "Médiathèque", branch="751072303", item_type="CN", location="ANX1",
                   depositary="BIB01", depositary_name="ANX1")  # fmt: skip
    other = Holding("VIRG", "Virginia", item_type="CN")
    tables = {
        "MEDI": tables_of([CodeName("item_type", "CN", "Novel"), CodeName("depositary", "BIB01", "Main")])
    }

    named, unnamed = name_holdings([medi, other], tables)

    assert (named.item_type, named.item_type_name) == ("CN", "Novel")
    assert (named.depositary, named.depositary_name) == ("BIB01", "Main")
    assert named.branch_name is None and named.location_name is None
    assert unnamed is other


def test_a_name_the_record_carries_stays_when_the_table_does_not_name_the_code() -> None:
    holding = Holding("MEDI", "Médiathèque", depositary="BIB02", depositary_name="Annexe de la gare")

    assert name_holdings([holding], {"MEDI": {"depositary": {"BIB01": "Main"}}}) == [holding]
