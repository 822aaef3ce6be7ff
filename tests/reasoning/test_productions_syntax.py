"""Production rules in the program text: their syntax, their static checks, and that
evaluate() leaves them alone."""

import pytest

from reasoning.engine import (
    Action,
    ArityError,
    DatalogError,
    DatalogSyntaxError,
    DuplicateProductionError,
    Production,
    Program,
    UnsafeRuleError,
)
from reasoning.engine.syntax import (
    Aggregate,
    Atom,
    Comparison,
    Constant,
    Negation,
    Variable,
    render_action,
    render_production,
)

BANK = """
account("acme", -5).  account("zeta", 3).
@salience(10)
flag_overdrawn: account(A, B), B < 0 ==> assert flagged(A), emit overdrawn(A, B),
                                         call notify(A, "overdrawn").
close_it: flagged(A), !vip(A), account(A, B) ==> retract account(A, B).
"""


def parse_error(text: str) -> DatalogError:
    with pytest.raises(DatalogError) as caught:
        Program.parse(text)
    return caught.value


def test_it_parses_every_action_kind():
    flag, close = Program.parse(BANK).productions

    assert flag.actions == (
        Action("assert", "flagged", (Variable("A"),)),
        Action("emit", "overdrawn", (Variable("A"), Variable("B"))),
        Action("call", "notify", (Variable("A"), Constant("overdrawn"))),
    )
    assert close.actions == (Action("retract", "account", (Variable("A"), Variable("B"))),)


def test_it_parses_the_name_salience_and_body_of_a_production():
    flag, close = Program.parse(BANK).productions

    assert (flag.name, flag.salience, close.name, close.salience) == (
        "flag_overdrawn", 10, "close_it", 0,
    )
    assert flag.body == (
        Atom("account", (Variable("A"), Variable("B"))),
        Comparison("<", Variable("B"), Constant(0)),
    )
    assert close.body[1] == Negation(Atom("vip", (Variable("A"),)))


def test_it_records_where_productions_and_actions_are_written():
    flag, close = Program.parse(BANK).productions

    assert (flag.line, flag.column) == (4, 1)
    assert [(action.line, action.column) for action in flag.actions] == [
        (4, 49), (4, 66), (5, 47),
    ]
    assert (close.line, close.column) == (6, 1)
    assert close.text == "close_it: flagged(A), !vip(A), account(A, B) ==> retract account(A, B)."
    assert flag.text.startswith("@salience(10) flag_overdrawn: account(A, B), B < 0 ==> ")


@pytest.mark.parametrize(
    ("annotation", "salience"), [("", 0), ("@salience(7)", 7), ("@salience(-3)", -3)]
)
def test_it_reads_the_salience_annotation(annotation: str, salience: int):
    program = Program.parse(f"{annotation}\nwatch: p(X) ==> emit seen(X).")

    assert program.productions[0].salience == salience


def test_it_accepts_constants_and_zero_arity_actions():
    program = Program.parse('tick: clock(T) ==> emit done, call log("tick", -1, 2.5, T).')

    done, log = program.productions[0].actions
    assert done == Action("emit", "done", ())
    assert log.args == (Constant("tick"), Constant(-1), Constant(2.5), Variable("T"))


def test_it_accepts_any_rule_body_in_a_production():
    program = Program.parse(
        "big: dept(D), N = count : { works(_, D) }, N > 10, M = N * 2, not closed(D)\n"
        "     ==> emit big(D, M)."
    )

    body = program.productions[0].body
    assert [type(literal) for literal in body] == [
        Atom, Aggregate, Comparison, Comparison, Negation,
    ]


def test_it_parses_productions_anywhere_among_rules_facts_and_queries():
    program = Program.parse(
        "edge(1, 2).\n"
        "first: edge(X, Y) ==> emit e(X, Y).\n"
        "path(X, Y) :- edge(X, Y).\n"
        "?- path(1, X).\n"
        "second: path(X, Y) ==> assert seen(X, Y).\n"
        "ready :- path(1, 2).\n"
    )

    assert [p.name for p in program.productions] == ["first", "second"]
    assert [rule.head.relation for rule in program.rules] == ["path", "ready"]
    assert len(program.queries) == 1


def test_it_renders_a_production_back_to_text_that_parses_to_the_same():
    original = Program.parse(BANK).productions

    rendered = "\n".join(render_production(production) for production in original)

    assert Program.parse(rendered).productions == original
    assert render_production(original[1]) == (
        "close_it: flagged(A), not vip(A), account(A, B) ==> retract account(A, B)."
    )


def test_it_renders_a_fired_action_with_its_bindings():
    action = Program.parse(BANK).productions[0].actions[2]

    assert render_action(action, {"A": "acme"}) == 'call notify("acme", "overdrawn")'


def test_it_ignores_productions_when_evaluating():
    with_productions = Program.parse(BANK + "owes(A) :- account(A, B), B < 0.").evaluate()

    assert with_productions.relation("account") == {("acme", -5), ("zeta", 3)}
    assert with_productions.relation("owes") == {("acme",)}
    assert with_productions.relation("flagged") == frozenset()


def test_it_leaves_productions_out_of_stratification():
    # As a rule, `p(X) :- r(X), !p(X)` negates through its own cycle; a production acts
    # between evaluations, so it is no such cycle.
    program = Program.parse("r(X) :- q(X).\ngrow: r(X), !p(X) ==> assert p(X).")

    assert program.productions[0].name == "grow"


def test_it_keeps_production_objects_comparable_and_hashable():
    twice = [Program.parse(BANK).productions for _ in range(2)]

    assert twice[0] == twice[1]
    assert len({*twice[0], *twice[1]}) == 2
    assert isinstance(twice[0][0], Production)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("watch: p(X), q(X)\n  emit seen(X).",
         "expected '==>' or ',' at line 2, column 3, found 'emit'", 2, 3),
        ("watch: p(X) ==> emit seen(X)",
         "expected '.' or ',' at line 1, column 29, found end of input", 1, 29),
        ("watch: p(X) ==> shout(X).",
         "expected an action (assert, retract, emit or call) at line 1, column 17, "
         "found 'shout'", 1, 17),
        ("watch: p(X) ==> assert Q(X).",
         "expected a relation name after 'assert' at line 1, column 24, found 'Q'", 1, 24),
        ("watch: p(X) ==> call (X).",
         "expected a tool name after 'call' at line 1, column 22, found '('", 1, 22),
        ("watch: p(X) ==> emit e(X + 1).",
         "expected ')' or ',' at line 1, column 26, found '+'", 1, 26),
        ("@salience(1.5) watch: p(X) ==> emit e(X).",
         "expected an integer salience at line 1, column 11, found '1.5'", 1, 11),
        ("@salience(high) watch: p(X) ==> emit e(X).",
         "expected an integer salience at line 1, column 11, found 'high'", 1, 11),
        ("@priority(1) watch: p(X) ==> emit e(X).",
         "expected 'salience' after '@' at line 1, column 2, found 'priority'", 1, 2),
        ("@salience(1)\np(X) :- q(X).",
         "expected a production name followed by ':' at line 2, column 1, found 'p'", 2, 1),
    ],
)
def test_it_reports_production_syntax_errors_with_their_position(
    text: str, message: str, line: int, column: int
):
    error = parse_error(text)

    assert isinstance(error, DatalogSyntaxError)
    assert str(error) == message
    assert (error.line, error.column) == (line, column)


def test_it_rejects_an_action_variable_the_body_does_not_bind():
    error = parse_error("p(1).\nwatch: p(X) ==> emit seen(X),\n  assert pair(X, Y).")

    assert isinstance(error, UnsafeRuleError)
    assert str(error) == (
        "unsafe production 'watch: p(X) ==> emit seen(X), assert pair(X, Y).': variable Y in "
        "an action is not bound by a positive atom at line 3, column 18"
    )
    assert (error.line, error.column) == (3, 18)


@pytest.mark.parametrize(
    ("text", "variable", "where", "column"),
    [
        ("close: flagged(A) ==> retract account(A, _).", "_", "an action", 42),
        ("close: flagged(A) ==> retract account(A, _B).", "_B", "an action", 42),
        ("watch: p(X), !q(X, Y) ==> emit e(X).", "Y", "a negated atom", 20),
        ("watch: p(X), X < Y ==> emit e(X).", "Y", "a comparison", 18),
        ("watch: p(X), !q(X) ==> emit e(Y).", "Y", "an action", 31),
    ],
)
def test_it_rejects_unsafe_production_bodies_and_actions(
    text: str, variable: str, where: str, column: int
):
    error = parse_error(text)

    assert isinstance(error, UnsafeRuleError)
    assert f"variable {variable} in {where} is not bound" in str(error)
    assert (error.line, error.column) == (1, column)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("account(1, 2).\nwatch: account(A) ==> emit e(A).",
         "relation account is used with arity 1 at line 2, column 8", 2, 8),
        ("flagged(1).\nwatch: p(X, Y) ==> assert flagged(X, Y).",
         "relation flagged is used with arity 2 at line 2, column 27", 2, 27),
        ("watch: p(X, Y) ==> retract p(X).",
         "relation p is used with arity 1 at line 1, column 28", 1, 28),
        ("watch: p(X) ==> assert q(X).\nr(X) :- q(X, X).",
         "relation q is used with arity 2 at line 2, column 9 but with arity 1 at line 1, "
         "column 24", 2, 9),
    ],
)
def test_it_rejects_an_arity_clash_with_the_rest_of_the_program(
    text: str, message: str, line: int, column: int
):
    error = parse_error(text)

    assert isinstance(error, ArityError)
    assert message in str(error)
    assert (error.line, error.column) == (line, column)


def test_it_lets_events_and_tools_take_any_number_of_arguments():
    program = Program.parse("a: p(X) ==> emit e(X), call t(X).\nb: p(X) ==> emit e, call t.")

    assert len(program.productions) == 2


def test_it_rejects_a_duplicate_production_name():
    error = parse_error("watch: p(X) ==> emit e(X).\nr(1).\n  watch: r(X) ==> emit f(X).")

    assert isinstance(error, DuplicateProductionError)
    assert str(error) == (
        "production watch at line 3, column 3 is already defined at line 1, column 1"
    )
    assert (error.line, error.column) == (3, 3)
