"""Sessions: asserting and retracting facts keeps the model current; productions fire."""

import pytest

from reasoning.engine import (
    ArityError,
    Call,
    Change,
    Event,
    FactNotFoundError,
    Program,
    UnknownToolError,
    fifo,
)

CLOSURE = """
path(X, Y) :- edge(X, Y).
path(X, Y) :- edge(X, Z), path(Z, Y).
"""


def chain(n: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)]


def closure(edges: list[tuple[int, int]]) -> set[tuple[int, int]]:
    found = set(edges)
    while True:
        more = {(a, d) for a, b in found for c, d in edges if b == c} - found
        if not more:
            return found
        found |= more


def test_it_starts_from_the_model_of_the_program():
    program = Program.parse(CLOSURE + "edge(1, 2). edge(2, 3).")

    session = program.session(facts={"edge": [(3, 4)]})

    assert session.relation("path") == program.evaluate(facts={"edge": [(3, 4)]}).relation("path")
    assert session.count("path") == 6
    assert session.relation_names == ["edge", "path"]


def test_it_extends_a_closure_when_an_edge_is_asserted():
    session = Program.parse(CLOSURE).session(facts={"edge": chain(30)})

    change = session.assert_facts("edge", [(29, 30)])

    assert session.relation("path") == closure(chain(31))
    assert change == Change(added={"edge": 1, "path": 30}, removed={})


def test_it_shrinks_a_closure_when_an_edge_is_retracted():
    session = Program.parse(CLOSURE).session(facts={"edge": chain(30)})

    change = session.retract_facts("edge", [(14, 15)])

    assert session.relation("path") == closure(chain(15) + chain(30)[15:])
    assert change == Change(added={}, removed={"edge": 1, "path": 15 * 15})


def test_it_does_not_let_a_cycle_keep_itself_alive():
    session = Program.parse(
        "reach(X) :- root(X).\n"
        "reach(Y) :- reach(X), edge(X, Y).\n"
        "root(0). edge(0, 1). edge(1, 2). edge(2, 1). edge(2, 3)."
    ).session()

    session.retract_facts("edge", [(0, 1)])

    # 1 and 2 derive each other, but neither is reachable from the root any more.
    assert session.relation("reach") == {(0,)}
    session.assert_facts("root", [(2,)])
    assert session.relation("reach") == {(0,), (1,), (2,), (3,)}


def test_it_keeps_a_row_that_has_another_derivation():
    session = Program.parse(CLOSURE).session(facts={"edge": [(1, 2), (2, 4), (1, 3), (3, 4)]})

    change = session.retract_facts("edge", [(2, 4)])

    assert (1, 4) in session.relation("path")
    assert change == Change(added={}, removed={"edge": 1, "path": 1})


def test_it_follows_mutual_recursion_both_ways():
    session = Program.parse(
        "even(0).\n"
        "odd(Y) :- even(X), next(X, Y).\n"
        "even(Y) :- odd(X), next(X, Y)."
    ).session(facts={"next": chain(7)})

    session.retract_facts("next", [(2, 3)])
    assert (session.relation("even"), session.relation("odd")) == ({(0,), (2,)}, {(1,)})

    session.assert_facts("next", [(2, 3)])
    assert session.relation("even") == {(0,), (2,), (4,), (6,)}
    assert session.relation("odd") == {(1,), (3,), (5,)}


def test_it_counts_a_self_join_once_per_derivation():
    session = Program.parse(
        "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), path(Y, Z)."
    ).session(facts={"edge": chain(6)})

    session.assert_facts("edge", [(5, 0)])
    assert session.relation("path") == {(a, b) for a in range(6) for b in range(6)}

    session.retract_facts("edge", [(5, 0)])
    assert session.relation("path") == closure(chain(6))


def test_it_flips_a_negation_both_ways():
    session = Program.parse(
        "busy(X) :- task(X, _).\n"
        "free(X) :- worker(X), !busy(X).\n"
        "idle :- !task(_, _)."
    ).session(facts={"worker": [(1,), (2,)], "task": [(1, "a")]})
    assert (session.relation("free"), session.count("idle")) == ({(2,)}, 0)

    session.assert_facts("task", [(2, "b")])
    assert session.relation("free") == set()

    session.retract_facts("task", [(1, "a"), (2, "b")])
    assert (session.relation("free"), session.count("idle")) == ({(1,), (2,)}, 1)


def test_it_updates_aggregates():
    session = Program.parse(
        "size(X, N) :- team(X), N = count : { member(X, _, _) }.\n"
        "payroll(X, S) :- team(X), S = sum P : { member(X, _, P) }.\n"
        "top(X, M) :- M = max P : { member(X, _, P) }.\n"
        "headcount(N) :- N = count : { member(_, _, _) }."
    ).session(facts={"team": [("a",), ("b",)], "member": [("a", "ann", 5), ("a", "al", 5)]})

    session.assert_facts("member", [("b", "bo", 7)])
    session.retract_facts("member", [("a", "al", 5)])

    assert session.relation("size") == {("a", 1), ("b", 1)}
    assert session.relation("payroll") == {("a", 5), ("b", 7)}
    assert session.relation("top") == {("a", 5), ("b", 7)}
    session.retract_facts("member", [("a", "ann", 5), ("b", "bo", 7)])
    assert session.relation("size") == {("a", 0), ("b", 0)}
    assert (session.relation("top"), session.relation("headcount")) == (set(), {(0,)})


def test_it_keeps_a_row_derived_through_a_wildcard_while_any_fact_derives_it():
    session = Program.parse("has(X) :- owns(X, _).").session(
        facts={"owns": [(1, "car"), (1, "bike")]}
    )

    session.retract_facts("owns", [(1, "car")])
    assert session.relation("has") == {(1,)}

    session.retract_facts("owns", [(1, "bike")])
    assert session.relation("has") == set()


@pytest.mark.parametrize("program", [CLOSURE, "path(X, Y) :- edge(X, Y)."])
def test_it_keeps_an_asserted_row_of_a_derived_relation_while_it_is_asserted(program):
    session = Program.parse(program).session(facts={"edge": [(1, 2)]})

    session.assert_facts("path", [(7, 8), (1, 2)])
    session.retract_facts("edge", [(1, 2)])
    assert session.relation("path") == {(7, 8), (1, 2)}

    session.assert_facts("edge", [(1, 2)])
    change = session.retract_facts("path", [(7, 8), (1, 2)])
    # (1, 2) is derived again, so only (7, 8) goes.
    assert session.relation("path") == {(1, 2)}
    assert change == Change(added={}, removed={"path": 1})


def test_it_reports_no_change_for_rows_already_there_or_never_asserted():
    session = Program.parse(CLOSURE).session(facts={"edge": [(1, 2)]})

    assert session.assert_facts("edge", [(1, 2)]) == Change()
    assert session.retract_facts("path", [(1, 2)]) == Change()
    assert session.retract_facts("edge", [(5, 6), ("x", "y")]) == Change()
    assert session.retract_facts("unknown", [(1,)]) == Change()
    assert session.relation("path") == {(1, 2)}
    assert session.relation_names == ["edge", "path"]


def test_it_adds_a_relation_the_program_never_mentions():
    session = Program.parse(CLOSURE).session()

    change = session.assert_facts("note", [("hello",)])

    assert session.query("note(X)") == [{"X": "hello"}]
    assert change == Change(added={"note": 1}, removed={})


def test_it_rejects_rows_of_the_wrong_arity():
    session = Program.parse(CLOSURE).session(facts={"edge": [(1, 2)]})

    with pytest.raises(ArityError, match=r"edge has arity 2 .* assert_facts\(\) has 3 values"):
        session.assert_facts("edge", [(1, 2, 3)])
    with pytest.raises(ArityError, match="retract_facts"):
        session.retract_facts("path", [(1,)])
    with pytest.raises(TypeError):
        session.assert_facts("edge", ["ab"])
    assert session.relation("edge") == {(1, 2)}


def test_it_explains_facts_as_they_are_after_a_change():
    session = Program.parse(CLOSURE).session(facts={"edge": [(1, 2), (2, 3)]})
    assert session.explain("path", (1, 3)).height == 2

    session.assert_facts("edge", [(1, 3)])
    assert session.explain("path", (1, 3)).height == 1

    session.retract_facts("edge", [(2, 3), (1, 3)])
    with pytest.raises(FactNotFoundError):
        session.explain("path", (1, 3))


def test_it_answers_queries_on_the_facts_now():
    session = Program.parse(CLOSURE).session(facts={"edge": [(1, 2)]})
    assert session.query("path(1, X)") == [{"X": 2}]

    session.assert_facts("edge", [(2, "b"), (2, "a")])

    assert session.query("path(1, X)") == [{"X": 2}, {"X": "a"}, {"X": "b"}]


BANK = """
account("acme", -5). account("zeta", 3).
@salience(10)
flag: account(A, B), B < 0 ==> assert flagged(A), emit overdrawn(A, B),
                              call notify(A, "overdrawn").
close: flagged(A), !vip(A), account(A, B) ==> retract account(A, B).
"""


def test_it_runs_every_kind_of_action():
    sent = []
    session = Program.parse(BANK).session(
        tools={"notify": lambda *args: sent.append(args) or len(sent)}
    )

    flag, close = session.fire()

    assert (flag.production, flag.bindings) == ("flag", {"A": "acme", "B": -5})
    assert flag.events == (Event("overdrawn", ("acme", -5)),)
    assert flag.calls == (Call("notify", ("acme", "overdrawn"), result=1),)
    assert flag.change == Change(added={"flagged": 1}, removed={})
    assert close.change == Change(added={}, removed={"account": 1})
    assert session.relation("account") == {("zeta", 3)}
    assert (sent, session.events) == ([("acme", "overdrawn")], [flag.events[0]])
    assert session.pending() == []


def test_it_records_a_tool_error_on_the_firing_and_goes_on():
    def notify(account: str, why: str) -> None:
        raise ConnectionError(f"cannot reach {account}")

    session = Program.parse(BANK).session(tools={"notify": notify})

    flag, close = session.fire()

    assert flag.calls == (Call("notify", ("acme", "overdrawn"), error="ConnectionError: "
                                                                       "cannot reach acme"),)
    assert close.production == "close"


def test_it_rejects_an_unknown_tool_when_the_session_starts():
    with pytest.raises(UnknownToolError, match="calls the tool notify at line 5") as caught:
        Program.parse(BANK).session(tools={"page": print})

    assert (caught.value.line, caught.value.column) == (5, 36)


ORDER = """
@salience(1) loud: reading(S, V), V > 90 ==> emit alarm(S).
plain: reading(S, V) ==> emit log(S, V).
narrow: reading("boiler", V) ==> emit boiler(V).
"""


def fired(session) -> list[tuple[str, dict]]:
    return [(firing.production, firing.bindings) for firing in session.fire()]


def test_it_fires_by_salience_then_recency_then_specificity():
    session = Program.parse(ORDER).session(facts={"reading": [("pump", 1)]})
    session.assert_facts("reading", [("boiler", 95)])

    assert fired(session) == [
        ("loud", {"S": "boiler", "V": 95}),
        ("narrow", {"V": 95}),  # as recent as the next one, and more specific
        ("plain", {"S": "boiler", "V": 95}),
        ("plain", {"S": "pump", "V": 1}),
    ]


def test_it_orders_by_the_strategy_given():
    session = Program.parse(ORDER).session(facts={"reading": [("pump", 1)]}, strategy=fifo)
    session.assert_facts("reading", [("boiler", 95)])

    # Oldest first; the matches of one change in the order of the productions.
    assert [name for name, _ in fired(session)] == ["plain", "loud", "plain", "narrow"]


def test_it_fires_a_match_once_even_when_it_comes_back():
    session = Program.parse("seen: reading(S, V) ==> emit log(S, V).").session(
        facts={"reading": [("pump", 1)]}
    )
    assert fired(session) == [("seen", {"S": "pump", "V": 1})]

    session.retract_facts("reading", [("pump", 1)])
    session.assert_facts("reading", [("pump", 1)])

    assert (session.pending(), session.fire()) == ([], [])


def test_it_drops_a_match_that_disappears_before_it_fires():
    session = Program.parse(
        CLOSURE + "far: path(X, Y), !ack(X, Y), X != Y ==> emit far(X, Y)."
    ).session(facts={"edge": [(1, 2), (2, 3)]})
    assert len(session.pending()) == 3

    session.assert_facts("ack", [(1, 3)])
    session.retract_facts("edge", [(2, 3)])

    assert fired(session) == [("far", {"X": 1, "Y": 2})]


def test_it_stops_a_runaway_loop_at_the_limit():
    session = Program.parse("grow: counter(N), M = N + 1 ==> assert counter(M).").session(
        facts={"counter": [(0,)]}
    )

    firings = session.fire(limit=5)

    assert [firing.bindings["N"] for firing in firings] == [0, 1, 2, 3, 4]
    assert [activation.bindings for activation in session.pending()] == [
        (("M", 6), ("N", 5))
    ]
    assert session.count("counter") == 6
