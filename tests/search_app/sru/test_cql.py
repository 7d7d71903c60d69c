"""The CQL parser (grammar, precedence, errors) and its translation into the query model."""

from __future__ import annotations

import pytest

from search_app.sru.cql import BooleanClause, CqlError, Modifier, Relation, SearchClause, parse
from search_app.sru.cql_search import DC_SET, translate
from unicat.query import And, Clause, MatchAll, Not, Or, ValueFilter, YearRange


def clause(text: str) -> SearchClause:
    root = parse(text).root
    assert isinstance(root, SearchClause)
    return root


def test_search_clause_forms() -> None:
    assert clause("dog") == SearchClause(None, Relation("="), "dog")
    assert clause("dc.title = dog") == SearchClause("dc.title", Relation("="), "dog")
    assert clause('title any "a b"').relation == Relation("any")
    assert clause("title =/relevant/x.y=3 dog").relation == Relation(
        "=", (Modifier("relevant"), Modifier("x.y", "=", "3"))
    )
    assert clause("title<>dog").relation.name == "<>"
    assert clause("date>=1990").relation.name == ">="


def test_quoted_terms_and_escapes() -> None:
    assert clause('title="pride and prejudice"').term == "pride and prejudice"
    assert clause(r'title="say \"hi\""').term == 'say "hi"'
    assert clause(r"title=star\*").term == r"star\*"  # kept for the masking rules


def test_booleans_left_to_right_one_precedence() -> None:
    root = parse("a or b and c not d").root
    assert isinstance(root, BooleanClause) and root.operator == "not"
    assert isinstance(root.left, BooleanClause) and root.left.operator == "and"
    assert isinstance(root.left.left, BooleanClause) and root.left.left.operator == "or"
    grouped = parse("a or (b and c)").root
    assert isinstance(grouped, BooleanClause) and isinstance(grouped.right, BooleanClause)
    assert grouped.operator == "or" and grouped.right.operator == "and"
    assert parse("A AND b").root == BooleanClause(
        "and", SearchClause(None, Relation("="), "A"), SearchClause(None, Relation("="), "b")
    )


def test_prefix_assignment_and_sort() -> None:
    parsed = parse('>x="info:srw/cql-context-set/1/dc-v1.1" x.title=a sortBy x.date/sort.descending')
    assert isinstance(parsed.root, SearchClause) and parsed.root.prefixes == {"x": DC_SET}
    assert translate(parsed).sort == "year_desc"
    assert translate(parsed).expression == Clause("title", ("a",))
    assert translate(parse('>"info:srw/cql-context-set/1/dc-v1.1" creator=austen')).expression == Clause(
        "author", ("austen",)
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('"open', 14),
        ("(a", 13),
        ("a)", 13),
        ("a and", 10),
        ("cat dog", 10),
        ("title =", 10),
        ("", 10),
        ("x" * 3000, 12),
        ("a sortBy", 10),
    ],
)
def test_syntax_errors(text: str, code: int) -> None:
    with pytest.raises(CqlError) as caught:
        parse(text)
    assert caught.value.code == code


def test_translation_of_booleans() -> None:
    assert translate(parse("a and (b or c) not d")).expression == And(
        (
            Clause("any", ("a",)),
            Or((Clause("any", ("b",)), Clause("any", ("c",)))),
            Not(Clause("any", ("d",))),
        )
    )


def test_relations_on_text() -> None:
    def expression(text: str) -> object:
        return translate(parse(text)).expression

    assert expression('title="pride prejudice"') == Clause("title", ("pride", "prejudice"), phrase=True)
    assert expression('title adj "pride prejudice"') == Clause("title", ("pride", "prejudice"), phrase=True)
    assert expression('title all "pride prejudice"') == And(
        (Clause("title", ("pride",)), Clause("title", ("prejudice",)))
    )
    assert expression('title any "pride prejudice"') == Or(
        (Clause("title", ("pride",)), Clause("title", ("prejudice",)))
    )
    assert expression("title <> pride") == Not(Clause("title", ("pride",)))
    assert expression("title = préjugé*") == Clause("title", ("prejuge",), prefix=True)
    assert expression(r"title = a\*") == Clause("title", ("a",))


def test_identifiers_and_codes_and_dates() -> None:
    def expression(text: str) -> object:
        return translate(parse(text)).expression

    assert expression("bath.isbn = 0-14-043426-7") == Clause("ident", ("9780140434262",))
    assert expression("0140434267") == Clause("ident", ("9780140434262",))
    assert expression("bath.issn = 0035-2950") == Clause("ident", ("0035", "2950"), phrase=True)
    assert expression('unicat.library any "oxford mcgill"') == ValueFilter("library", ("oxford", "mcgill"))
    assert expression('dc.type = "music score"') == ValueFilter("format", ("music score",))
    assert expression("dc.language = ENG") == ValueFilter("language", ("eng",))
    assert expression("dc.date < 1900") == YearRange(None, 1899)
    assert expression('dc.date within "1990 1999"') == YearRange(1990, 1999)
    assert expression("dc.date within 1990-1999") == YearRange(1990, 1999)
    assert expression("dc.date <> 1990") == Not(YearRange(1990, 1990))
    assert expression("cql.allRecords = 1") == MatchAll()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("foo.title = a", 15),
        ("dc.nope = a", 16),
        ("title frob a", 19),
        ("title =/respectCase a", 20),
        ("title < a", 22),
        ("dc.date adj 1990", 22),
        ("a prox b", 39),
        ("a and/x b", 46),
        ("title = *a", 28),
        ("title = a?c", 28),
        ('title adj "a* b"', 28),
        ("title = ^a", 31),
        ("title = *", 29),
        ('title = ""', 27),
        ("title = !!!", 27),
        ("dc.date = soon", 36),
        ('dc.date within "1999 1990"', 36),
        ("a sortBy dc.publisher", 88),
        ("a sortBy dc.title/sort.descending", 90),
        ("a sortBy dc.title dc.date", 84),
        (" or ".join(["a"] * 70), 38),
    ],
)
def test_translation_diagnostics(text: str, code: int) -> None:
    with pytest.raises(CqlError) as caught:
        translate(parse(text))
    assert caught.value.code == code
