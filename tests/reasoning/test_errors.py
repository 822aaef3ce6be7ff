"""Every defect is rejected by Program.parse, before evaluation, with its place in the text."""

import pytest

from reasoning.engine import (
    ArityError,
    DatalogError,
    DatalogSyntaxError,
    Program,
    StratificationError,
    UnsafeRuleError,
)


def parse_error(text: str) -> DatalogError:
    with pytest.raises(DatalogError) as caught:
        Program.parse(text)
    return caught.value


def test_it_names_what_the_parser_expected():
    error = parse_error('parent("tom", "bob").\n\nancestor(X, Z) :- p(X, Y.\n')

    assert isinstance(error, DatalogSyntaxError)
    assert str(error) == "expected ')' or ',' at line 3, column 25, found '.'"
    assert (error.line, error.column) == (3, 25)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("p(X) :- q(X)", "expected '.' or ',' at line 1, column 13, found end of input", 1, 13),
        ("p(X) :- q(X) r(X).", "expected '.' or ',' at line 1, column 14, found 'r'", 1, 14),
        ("p(1).\nq(X) :- X.", "expected a comparison operator (= != < <= > >=) at line 2, "
         "column 10, found '.'", 2, 10),
        ("P(1).", "expected a relation name or '?-' at line 1, column 1, found 'P'", 1, 1),
        ('p("abc).', "unterminated string at line 1, column 3", 1, 3),
        ('p("a\\qb").', "invalid escape '\\\\q' in string at line 1, column 5", 1, 5),
        ("p(1).\n/* open", "unterminated comment at line 2, column 1", 2, 1),
        ("p(X) :- q(X) & r(X).", "unexpected character '&' at line 1, column 14", 1, 14),
        ("n(N) :- N = sum : { q(_) }.", "expected an expression after 'sum' at line 1, "
         "column 17, found ':'", 1, 17),
    ],
)
def test_it_reports_syntax_errors_with_their_position(
    text: str, message: str, line: int, column: int
):
    error = parse_error(text)

    assert isinstance(error, DatalogSyntaxError)
    assert str(error) == message
    assert (error.line, error.column) == (line, column)


def test_it_rejects_an_unbound_head_variable():
    error = parse_error("edge(1, 2).\npath(X, Y) :- edge(X, Z).")

    assert isinstance(error, UnsafeRuleError)
    assert str(error) == (
        "unsafe rule 'path(X, Y) :- edge(X, Z).': variable Y in the head is not bound by a "
        "positive atom at line 2, column 9"
    )
    assert (error.line, error.column) == (2, 9)


def test_it_rejects_an_unbound_negated_variable():
    error = parse_error("p(X) :- q(X),\n        !r(X, Y).")

    assert isinstance(error, UnsafeRuleError)
    assert "unsafe rule 'p(X) :- q(X), !r(X, Y).'" in str(error)
    assert "variable Y in a negated atom" in str(error)
    assert (error.line, error.column) == (2, 15)


@pytest.mark.parametrize(
    ("text", "variable", "where", "column"),
    [
        ("p(X) :- q(X), X < Y.", "Y", "a comparison", 19),
        ("p(X) :- q(X), Z = Y + 1.", "Y", "an arithmetic expression", 19),
        ("p(X, Z) :- q(X), Z = Y.", "Y", "a comparison", 22),
        ("p(_).", "_", "the head", 3),
        ("p(X).", "X", "the head", 3),
        ("p(N) :- q(X), N = sum Y : { r(Z) }.", "Y", "an aggregate", 23),
        ("p(N) :- N = count : { r(Z), Z > W }.", "W", "an aggregate", 33),
    ],
)
def test_it_rejects_other_unbound_variables(text: str, variable: str, where: str, column: int):
    error = parse_error(text)

    assert isinstance(error, UnsafeRuleError)
    assert f"variable {variable} in {where} is not bound" in str(error)
    assert f"'{text}'" in str(error)
    assert (error.line, error.column) == (1, column)


def test_it_rejects_an_unbound_query_variable():
    error = parse_error("p(1).\n?- p(X), Y > X.")

    assert isinstance(error, UnsafeRuleError)
    assert str(error).startswith("unsafe query '?- p(X), Y > X.': variable Y in a comparison")
    assert (error.line, error.column) == (2, 10)


def test_it_rejects_an_arity_clash():
    error = parse_error('parent("a", "b").\nanc(X, Y) :- parent(X, Y, _).')

    assert isinstance(error, ArityError)
    assert str(error) == (
        "relation parent is used with arity 3 at line 2, column 14 but with arity 2 at "
        "line 1, column 1"
    )
    assert (error.line, error.column) == (2, 14)


def test_it_rejects_an_arity_clash_in_a_negation_or_query():
    negated = parse_error("q(1, 2).\np(X) :- q(X, X), !q(X).")
    queried = parse_error("q(1, 2).\n?- q(1, 2, 3).")

    assert "relation q is used with arity 1 at line 2, column 19" in str(negated)
    assert "relation q is used with arity 3 at line 2, column 4" in str(queried)


def test_it_rejects_negation_through_recursion_naming_the_cycle():
    error = parse_error("r(1).\np(X) :- r(X), !q(X).\nq(X) :- p(X).")

    assert isinstance(error, StratificationError)
    assert str(error) == (
        "cannot stratify rule 'p(X) :- r(X), !q(X).': negation inside the recursive cycle "
        "p -> not q -> p at line 2, column 15"
    )
    assert (error.line, error.column) == (2, 15)


def test_it_names_longer_and_self_negation_cycles():
    longer = parse_error("p(X) :- r(X), not q(X).\nq(X) :- s(X).\ns(X) :- t(X), p(X).")
    itself = parse_error("p(X) :- r(X), !p(X).")

    assert "p -> not q -> s -> p" in str(longer)
    assert "p -> not p at line 1, column 15" in str(itself)


def test_it_rejects_aggregation_through_recursion():
    error = parse_error("size(N) :- N = count : { member(_) }.\nmember(X) :- size(X).")

    assert isinstance(error, StratificationError)
    assert "aggregation inside the recursive cycle size -> count member -> size" in str(error)
    assert (error.line, error.column) == (1, 12)


def test_it_rejects_a_result_variable_inside_its_own_aggregate():
    error = parse_error("p(N) :- N = count : { q(N) }.")

    assert isinstance(error, UnsafeRuleError)
    assert "variable N in its own aggregate" in str(error)


def test_it_rejects_defects_in_queries_against_a_database():
    db = Program.parse("p(1, 2).").evaluate()

    with pytest.raises(DatalogSyntaxError, match="at line 1, column 7, found end of input"):
        db.query("p(X, Y")
    with pytest.raises(UnsafeRuleError, match="variable Z in a comparison"):
        db.query("p(X, Y), X < Z")
    with pytest.raises(ArityError, match="relation p is used with arity 1"):
        db.query("p(X)")
