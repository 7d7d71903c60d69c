"""The search box's grammar (unicat/query_syntax.py): the trees its rules give, the notices of what was
read otherwise than typed, and no input that raises anything but BadParameter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unicat.errors import BadParameter
from unicat.query import (
    FIELD_ALIASES,
    MAX_CLAUSES,
    MAX_QUERY_LENGTH,
    NOTHING,
    And,
    Clause,
    Not,
    Or,
    parse_text_query,
)
from unicat.query_syntax import MAX_DEPTH, AllOf, AnyOf, Notice, Term, Without, parse

FIELDS = FIELD_ALIASES.keys()


def tree(text: str) -> object:
    return parse(text, FIELDS).tree


def notices(text: str) -> list[str]:
    return [notice.kind for notice in parse(text, FIELDS).notices]


def w(text: str) -> Term:
    return Term(text)


def test_words_side_by_side_are_anded() -> None:
    assert tree("pride prejudice") == AllOf((w("pride"), w("prejudice")))
    assert tree("pride AND prejudice") == AllOf((w("pride"), w("prejudice")))
    assert tree("emma") == w("emma")


def test_not_binds_before_and_and_and_before_or() -> None:
    assert tree("a OR b c") == AnyOf((w("a"), AllOf((w("b"), w("c")))))
    assert tree("a b OR c") == AnyOf((AllOf((w("a"), w("b"))), w("c")))
    assert tree("a OR NOT b c") == AnyOf((w("a"), AllOf((Without(w("b")), w("c")))))
    assert tree("a OR b AND c OR d") == AnyOf((w("a"), AllOf((w("b"), w("c"))), w("d")))


def test_parentheses_group() -> None:
    assert tree("(a OR b) c") == AllOf((AnyOf((w("a"), w("b"))), w("c")))
    assert tree("NOT (a OR b)") == Without(AnyOf((w("a"), w("b"))))
    assert tree("((a))") == w("a")


def test_exclusion_with_minus_only_at_the_start_of_a_word() -> None:
    assert tree("austen -emma") == AllOf((w("austen"), Without(w("emma"))))
    assert tree('austen -"jane eyre"') == AllOf((w("austen"), Without(Term("jane eyre", quoted=True))))
    assert tree("-(a b)") == Without(AllOf((w("a"), w("b"))))
    assert tree("jean-paul sartre") == AllOf((w("jean-paul"), w("sartre")))
    assert tree("a - b") == AllOf((w("a"), w("-"), w("b")))


def test_phrases_and_fields() -> None:
    assert tree('"petit prince"') == Term("petit prince", quoted=True)
    assert tree('title:"petit prince" au:camus') == AllOf(
        (Term("petit prince", "title", quoted=True), Term("camus", "au"))
    )
    assert tree("TITLE:peste") == Term("peste", "title")
    # Not a field: the word is kept whole, a title with a colon.
    assert tree("Faust:Tragödie") == w("Faust:Tragödie")
    assert tree("prej*") == w("prej*")


def test_french_and_dutch_operators() -> None:
    assert tree("emma OU pride") == tree("emma OF pride") == AnyOf((w("emma"), w("pride")))
    assert tree("camus SAUF peste") == tree("camus NIET peste") == AllOf((w("camus"), Without(w("peste"))))
    assert tree("guerre ET paix") == tree("guerre EN paix") == AllOf((w("guerre"), w("paix")))


def test_operators_are_upper_case_words() -> None:
    assert tree("pride and prejudice") == AllOf((w("pride"), w("and"), w("prejudice")))
    assert tree("to be or not to be") == AllOf(tuple(map(w, ("to", "be", "or", "not", "to", "be"))))
    assert tree('"pride OR emma"') == Term("pride OR emma", quoted=True)


def test_a_query_in_capitals_takes_only_the_english_operators() -> None:
    assert tree("LORD OF THE RINGS") == AllOf(tuple(w(word) for word in ("LORD", "OF", "THE", "RINGS")))
    assert tree("EN ATTENDANT GODOT") == AllOf((w("EN"), w("ATTENDANT"), w("GODOT")))
    assert tree("GUERRE ET PAIX") == AllOf((w("GUERRE"), w("ET"), w("PAIX")))
    assert tree("PRIDE AND PREJUDICE") == AllOf((w("PRIDE"), w("PREJUDICE")))
    assert tree("PRIDE OR EMMA") == AnyOf((w("PRIDE"), w("EMMA")))
    assert notices("LORD OF THE RINGS") == notices("EN ATTENDANT GODOT") == []


@pytest.mark.parametrize(
    ("text", "expected", "kinds"),
    [
        ('"pride and', AllOf((w("pride"), w("and"))), ["unclosed_quote"]),
        ('pride "', w("pride"), ["unclosed_quote"]),
        ("(pride OR emma", AnyOf((w("pride"), w("emma"))), ["unbalanced_parenthesis"]),
        ("pride) emma", AllOf((w("pride"), w("emma"))), ["unbalanced_parenthesis"]),
        ("pride AND", w("pride"), ["dangling_operator"]),
        ("OR pride", w("pride"), ["dangling_operator"]),
        ("pride OR", w("pride"), ["dangling_operator"]),
        ("pride AND OR emma", AnyOf((w("pride"), w("emma"))), ["dangling_operator"]),
        ("pride NOT", w("pride"), ["dangling_operator"]),
        ("pride ()", w("pride"), ["empty_group"]),
        ("(", None, ["unbalanced_parenthesis"]),
        ('"', None, ["unclosed_quote"]),
        ("()", None, ["empty_group"]),
        ("AND", None, ["dangling_operator"]),
    ],
)
def test_unbalanced_and_dangling_input_is_read_as_text_with_a_notice(
    text: str, expected: object, kinds: list[str]
) -> None:
    assert tree(text) == expected
    assert notices(text) == kinds


def test_a_notice_says_which_operator_it_dropped() -> None:
    [notice] = parse("emma SAUF", FIELDS).notices
    assert notice == Notice("dangling_operator", "SAUF")
    assert "SAUF" in notice.message


def test_the_query_model_of_operators() -> None:
    pride, emma = Clause("any", ("pride",)), Clause("any", ("emma",))
    assert parse_text_query("pride OR emma").expression == Or((pride, emma))
    assert parse_text_query("pride -emma").expression == And((pride, Not(emma)))
    # Plain words stay the scored clauses of before; AND between them changes nothing.
    assert (
        parse_text_query("pride AND emma").clauses == (pride, emma) == parse_text_query("pride emma").clauses
    )
    assert parse_text_query("pride AND emma").expression is None
    # Terms analysis empties drop out with what held only them.
    assert parse_text_query("pride OR (* AND !)").clauses == (pride,)
    assert parse_text_query("NOT NOT emma").clauses == (emma,)


def test_only_exclusions_lists_everything_else_and_no_words_lists_nothing() -> None:
    emma = Clause("any", ("emma",))
    only = parse_text_query("-emma")
    assert (only.clauses, only.expression, only.notices) == ((), Not(emma), (Notice("only_exclusions"),))
    for text in ('"', "(", "()", "*", "AND"):
        parsed = parse_text_query(text)
        assert parsed.expression == NOTHING, text
        assert parsed.notices[-1] == Notice("nothing_to_search"), text
    assert parse_text_query("   ").expression is None


def test_limits_are_400s_that_name_them() -> None:
    with pytest.raises(BadParameter, match="MAX_QUERY_LENGTH"):
        parse_text_query("a" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(BadParameter, match="MAX_CLAUSES"):
        parse_text_query(" OR ".join(["mot"] * (MAX_CLAUSES + 1)))
    with pytest.raises(BadParameter, match=f"more than {MAX_DEPTH} deep"):
        parse_text_query("(" * (MAX_DEPTH + 1) + "a")
    assert parse_text_query("(" * MAX_DEPTH + "a").clauses == (Clause("any", ("a",)),)
    # Negations do not nest the parser: a long run of them is no limit and no crash.
    assert parse_text_query("-" * 500 + "a").clauses == (Clause("any", ("a",)),)
    assert parse_text_query("NOT " * 249 + "a").expression == Not(Clause("any", ("a",)))


SYNTAX_CHARACTERS = st.sampled_from([*'()"-*: ', "AND", "OR", "NOT", "SAUF", "OF", "ti", "x", "É", "\t"])


@settings(max_examples=400, deadline=None)
@given(st.lists(SYNTAX_CHARACTERS, max_size=40).map("".join) | st.text(max_size=60))
def test_no_text_raises_anything_but_bad_parameter(text: str) -> None:
    try:
        parsed = parse_text_query(text)
    except BadParameter:
        return
    # Text never lists the whole catalogue unless it was blank (spaces and control characters only).
    if "".join(ch for ch in text if ch.isprintable()).strip():
        assert parsed.clauses or parsed.expression is not None
