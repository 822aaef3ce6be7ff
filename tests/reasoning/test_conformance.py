"""Programs with known answers: what the language means, feature by feature."""

import pytest

from reasoning.engine import ArityError, Database, Program, Query
from reasoning.engine import evaluate as evaluate_module


def evaluate(text: str, **facts: list[tuple]) -> Database:
    return Program.parse(text).evaluate(facts=facts or None)


FAMILY = """
parent("tom", "bob"). parent("bob", "ann"). parent("ann", "joe"). parent("tom", "liz").
ancestor(X, Y) :- parent(X, Y).
ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z).
"""


def test_it_computes_recursive_closure():
    db = evaluate(FAMILY)

    assert db.query('ancestor("tom", X)') == [
        {"X": "ann"}, {"X": "bob"}, {"X": "joe"}, {"X": "liz"}
    ]
    assert ("bob", "joe") in db.relation("ancestor")
    assert len(db.relation("ancestor")) == 7


def test_it_computes_nonlinear_recursion():
    db = evaluate(
        "edge(1, 2). edge(2, 3). edge(3, 4). edge(4, 1).\n"
        "path(X, Y) :- edge(X, Y).\n"
        "path(X, Z) :- path(X, Y), path(Y, Z)."
    )

    assert db.relation("path") == {(a, b) for a in range(1, 5) for b in range(1, 5)}


def test_it_computes_mutual_recursion():
    db = evaluate(
        "next(0, 1). next(1, 2). next(2, 3). next(3, 4). next(4, 5).\n"
        "even(0).\n"
        "odd(Y) :- even(X), next(X, Y).\n"
        "even(Y) :- odd(X), next(X, Y)."
    )

    assert db.relation("even") == {(0,), (2,), (4,)}
    assert db.relation("odd") == {(1,), (3,), (5,)}


def test_it_computes_same_generation():
    db = evaluate(
        "par(1, 2). par(1, 3). par(2, 4). par(2, 5). par(3, 6).\n"
        "sg(X, Y) :- par(P, X), par(P, Y), X != Y.\n"
        "sg(X, Y) :- par(A, X), sg(A, B), par(B, Y)."
    )

    assert db.relation("sg") == {
        (2, 3), (3, 2), (4, 5), (5, 4), (4, 6), (6, 4), (5, 6), (6, 5)
    }


def test_it_applies_stratified_negation():
    db = evaluate(
        "edge(1, 2). edge(2, 3). edge(4, 4).\n"
        "node(X) :- edge(X, _). node(X) :- edge(_, X).\n"
        "reach(X, Y) :- edge(X, Y).\n"
        "reach(X, Z) :- reach(X, Y), edge(Y, Z).\n"
        "cut(X, Y) :- node(X), node(Y), !reach(X, Y).\n"
        "isolated(X) :- node(X), X != 1, not reach(1, X), not reach(X, 1)."
    )

    assert db.query("cut(1, Y)") == [{"Y": 1}, {"Y": 4}]
    assert db.relation("isolated") == {(4,)}


def test_it_negates_atoms_with_wildcards():
    db = evaluate(
        "edge(1, 2). edge(2, 3). node(1). node(2). node(3).\n"
        "sink(X) :- node(X), !edge(X, _).\n"
        "source(X) :- node(X), not edge(_Any, X).\n"
        "empty_check :- node(1), !missing(_, _).\n"
        "missing(1, 2) :- node(99)."
    )

    assert db.relation("sink") == {(3,)}
    assert db.relation("source") == {(1,)}
    assert db.relation("empty_check") == {()}


def test_it_counts_sums_and_finds_extremes_per_group():
    db = evaluate(
        """
        salary("ann", "eng", 100). salary("bob", "eng", 100). salary("cy", "eng", 70).
        salary("dan", "ops", 50).
        dept("eng"). dept("ops"). dept("hr").
        headcount(D, N) :- dept(D), N = count : { salary(_, D, _) }.
        payroll(D, S) :- dept(D), S = sum A : { salary(_, D, A) }.
        lowest(D, M) :- dept(D), M = min A : { salary(_, D, A) }.
        highest(D, M) :- M = max A : { salary(_, D, A) }.
        """
    )

    # A group key bound outside the braces gets 0 from count and sum when nothing matches;
    # min and max of nothing have no value, so such a group has no row.
    assert db.relation("headcount") == {("eng", 3), ("ops", 1), ("hr", 0)}
    assert db.relation("payroll") == {("eng", 270), ("ops", 50), ("hr", 0)}
    assert db.relation("lowest") == {("eng", 70), ("ops", 50)}
    assert db.relation("highest") == {("eng", 100), ("ops", 50)}


def test_it_aggregates_without_group_and_over_joins():
    db = evaluate(
        """
        edge(1, 2). edge(1, 3). edge(2, 3). label(2, "b"). label(3, "c").
        edges(N) :- N = count : { edge(_, _) }.
        labelled_targets(X, N) :- edge(X, _), N = count : { edge(X, Y), label(Y, _) }.
        none(N) :- N = count : { label(_, "zzz") }.
        """
    )

    assert db.relation("edges") == {(3,)}
    assert db.relation("labelled_targets") == {(1, 2), (2, 1)}
    assert db.relation("none") == {(0,)}


def test_it_aggregates_arithmetic_targets_and_filters_results():
    db = evaluate(
        """
        item("a", 2, 3). item("b", 1, 10). item("c", 4, 1).
        total(T) :- T = sum Q * P : { item(_, Q, P) }.
        cheap(N) :- N = count : { item(_, _, P), P < 5 }.
        big(S) :- S = sum Q : { item(_, Q, _) }, S > 5.
        """
    )

    assert db.relation("total") == {(20,)}
    assert db.relation("cheap") == {(2,)}
    assert db.relation("big") == {(7,)}


def test_it_evaluates_arithmetic_with_precedence():
    db = evaluate(
        "n(1). n(2). n(10).\n"
        "f(X, Y) :- n(X), Y = 2 + X * 3 - (1 - X).\n"
        "g(X, Y) :- n(X), Y = -X * 2 + 100 / 10 / 2.\n"
        "h(X, Y) :- n(X), Y = (X + 1) * (X - 1)."
    )

    assert db.query("f(X, Y)") == [{"X": 1, "Y": 5}, {"X": 2, "Y": 9}, {"X": 10, "Y": 41}]
    assert db.query("g(X, Y)") == [{"X": 1, "Y": 3}, {"X": 2, "Y": 1}, {"X": 10, "Y": -15}]
    assert db.query("h(X, Y)") == [{"X": 1, "Y": 0}, {"X": 2, "Y": 3}, {"X": 10, "Y": 99}]


def test_it_truncates_integer_division_toward_zero():
    db = evaluate(
        "pair(7, 2). pair(-7, 2). pair(7, -2). pair(7.0, 2).\n"
        "q(A, B, Q, R) :- pair(A, B), Q = A / B, R = A % B."
    )

    assert db.relation("q") == {
        (7, 2, 3, 1), (-7, 2, -3, -1), (7, -2, -3, 1), (7.0, 2, 3.5, 1.0)
    }


def test_it_skips_bindings_without_arithmetic_value():
    db = evaluate(
        'n(0). n(2). n("two").\n'
        "inverse(X, Y) :- n(X), Y = 10 / X.\n"
        "double(X, Y) :- n(X), Y = X * 2."
    )

    assert db.relation("inverse") == {(2, 5)}
    assert db.relation("double") == {(0, 0), (2, 4)}


def test_it_compares_numbers_before_strings():
    db = evaluate(
        'v(1). v(2.5). v(-3). v("a"). v("b").\n'
        "less(X, Y) :- v(X), v(Y), X < Y.\n"
        'small(X) :- v(X), X <= 2.5.\n'
        'word(X) :- v(X), X >= "a".\n'
        "same(X) :- v(X), X = 2.5.\n"
        "other(X) :- v(X), X != 1, X > 0."
    )

    assert db.query('less(X, "a")') == [{"X": -3}, {"X": 1}, {"X": 2.5}]
    assert db.relation("small") == {(1,), (2.5,), (-3,)}
    assert db.relation("word") == {("a",), ("b",)}
    assert db.relation("same") == {(2.5,)}
    assert db.relation("other") == {(2.5,), ("a",), ("b",)}


def test_it_keeps_ints_and_floats_apart():
    db = evaluate(
        "v(1). w(1.0).\n"
        "both(X) :- v(X), w(X).\n"
        "numeric(X) :- v(X), w(Y), X >= Y, X <= Y."
    )

    assert db.relation("both") == set()
    assert db.relation("numeric") == {(1,)}


def test_it_reads_strings_with_escapes_and_unicode():
    db = evaluate(
        r'name("张三", "quote\"inside"). name("李四", "back\\slash\ttab").'
        "\n"
        r'name("\u738b\u4e94", "line\nbreak"). name("emoji", "\uD83D\uDE00").'
        "\n"
        'greet(G) :- name(N, _), G = N.'
    )

    assert db.relation("name") == {
        ("张三", 'quote"inside'),
        ("李四", "back\\slash\ttab"),
        ("王五", "line\nbreak"),
        ("emoji", "😀"),
    }
    assert db.query('name("张三", X)') == [{"X": 'quote"inside'}]
    assert db.query("greet(G)") == [{"G": "emoji"}, {"G": "张三"}, {"G": "李四"}, {"G": "王五"}]


def test_it_reads_floats_exponents_and_negative_numbers():
    db = evaluate("v(3.25). v(-2). v(1e3). v(-1.5e-2). v(12345678901234567890123).")

    assert db.relation("v") == {(3.25,), (-2,), (1000.0,), (-0.015,), (12345678901234567890123,)}


def test_it_does_arithmetic_on_large_integers():
    db = evaluate("v(4611686018427387903).\nw(Y) :- v(X), Y = X + 1.\nz(X) :- w(X), X > 0.")

    assert db.relation("w") == {(4611686018427387904,)}
    assert db.relation("z") == {(4611686018427387904,)}


def test_it_ignores_comments_but_reads_modulo():
    db = evaluate(
        """
        % a line comment
        n(1). n(2). // another one
        /* a block
           comment */ n(3).
        odd(X) :- n(X), X % 2 = 1.   % trailing comment
        rest(X, R) :- n(X),          % comment after a comma
                      R = (X + 1) % 3.
        """
    )

    assert db.relation("n") == {(1,), (2,), (3,)}
    assert db.relation("odd") == {(1,), (3,)}
    assert db.relation("rest") == {(1, 2), (2, 0), (3, 1)}


def test_it_handles_zero_arity_relations():
    db = evaluate("rain.\nwet :- rain.\ndry :- !wet.\ncloudy().")

    assert db.relation("wet") == {()}
    assert db.relation("dry") == set()
    assert db.query("wet") == [{}]
    assert db.query("?- dry.") == []


def test_it_matches_repeated_variables_and_constants():
    db = evaluate(
        'e(1, 1). e(1, 2). e(2, 2). e(3, 1).\n'
        "loop(X) :- e(X, X).\n"
        'tagged(X, "k") :- e(X, 1).\n'
        "to_one(X) :- e(X, Y), Y = 1.\n"
        "shifted(X, Y) :- e(X, Y), X + 1 = Y."
    )

    assert db.relation("loop") == {(1,), (2,)}
    assert db.relation("tagged") == {(1, "k"), (3, "k")}
    assert db.relation("to_one") == {(1,), (3,)}
    assert db.relation("shifted") == {(1, 2)}


def test_it_answers_queries_without_wildcards_in_the_answer():
    db = evaluate(FAMILY)

    assert db.query('?- ancestor("tom", _).') == [{}]
    assert db.query("ancestor(_Who, X), X = \"joe\"") == [{"X": "joe"}]
    assert db.query('ancestor(X, "joe"), not parent(X, "joe")') == [{"X": "bob"}, {"X": "tom"}]
    assert db.query('ancestor("joe", X)') == []
    assert db.query("ancestor(X, X)") == []


def test_it_answers_queries_with_aggregates():
    db = evaluate(FAMILY)

    answers = db.query("parent(P, _), N = count : { parent(P, _) }")

    assert answers == [{"P": "ann", "N": 1}, {"P": "bob", "N": 1}, {"P": "tom", "N": 2}]


def test_it_collects_queries_from_the_program_text():
    program = Program.parse(FAMILY + '?- ancestor("bob", X).\n?- parent(X, "bob").')

    assert [query.text for query in program.queries] == [
        '?- ancestor("bob", X).', '?- parent(X, "bob").'
    ]
    db = program.evaluate()
    assert [db.query(query) for query in program.queries] == [
        [{"X": "ann"}, {"X": "joe"}], [{"X": "tom"}]
    ]
    assert isinstance(program.queries[0], Query)


def test_it_adds_facts_passed_to_evaluate():
    program = Program.parse(FAMILY)

    db = program.evaluate(facts={"parent": [("joe", "kim")], "extra": [(1,), (2,)]})

    assert db.query('ancestor("tom", "kim")') == [{}]
    assert db.relation("extra") == {(1,), (2,)}
    assert db.query('ancestor("tom", "kim")') == [{}]
    assert program.evaluate().query('ancestor("tom", "kim")') == []


def test_it_rejects_facts_of_the_wrong_shape():
    program = Program.parse(FAMILY)

    with pytest.raises(ArityError, match=r"relation parent has arity 2 .* has 3 values"):
        program.evaluate(facts={"parent": [("a", "b", "c")]})
    with pytest.raises(TypeError, match="str, int or float"):
        program.evaluate(facts={"parent": [("a", None)]})
    with pytest.raises(TypeError, match="a fact is a tuple"):
        program.evaluate(facts={"parent": ["ab"]})


def test_it_returns_nothing_for_relations_it_does_not_know():
    db = evaluate(FAMILY)

    assert db.relation("unknown") == set()
    assert db.query("unknown(X)") == []
    assert db.count("ancestor") == 7
    assert db.relation_names == ["ancestor", "parent"]


def test_it_derives_facts_from_rules_without_positive_atoms():
    db = evaluate("one(X) :- X = 1.\ntwo(Y) :- one(X), Y = X + 1.\nyes :- 1 < 2.\nno :- 2 < 1.")

    assert db.relation("one") == {(1,)}
    assert db.relation("two") == {(2,)}
    assert db.relation("yes") == {()}
    assert db.relation("no") == set()


@pytest.fixture
def grouped_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each stratum that the closure fast path for linear recursion evaluated."""
    runs: list[str] = []
    original = evaluate_module.run_closure

    def spy(shape, store):
        runs.append(shape.relation)
        original(shape, store)

    monkeypatch.setattr(evaluate_module, "run_closure", spy)
    return runs


def test_it_evaluates_left_and_right_linear_closure_of_dense_graphs(grouped_runs: list[str]):
    # Cycles inside cycles: the closure (linear.py) runs over strongly connected components.
    edges = [(a, b) for a in range(60) for b in (a * 7 % 60, a * 13 % 60, (a + 1) % 60)]
    expected = _closure(edges)

    for rule in ("path(X, Z) :- edge(X, Y), path(Y, Z).", "path(X, Z) :- path(X, Y), edge(Y, Z)."):
        db = Program.parse(f"path(X, Y) :- edge(X, Y).\n{rule}").evaluate(facts={"edge": edges})
        assert db.relation("path") == expected
        assert db.count("path") == len(expected)
        assert db.query("path(0, X), X < 3") == [{"X": 0}, {"X": 1}, {"X": 2}]
    assert grouped_runs == ["path", "path"]


def test_it_uses_a_closure_computed_grouped_in_later_strata(grouped_runs: list[str]):
    edges = [(a, (a * 5 + 1) % 80) for a in range(80)] + [(a, (a + 3) % 80) for a in range(80)]
    db = Program.parse(
        "path(X, Y) :- edge(X, Y).\n"
        "path(X, Z) :- edge(X, Y), path(Y, Z).\n"
        "unreachable(X, Y) :- edge(X, _), edge(Y, _), !path(X, Y).\n"
        "reach_count(X, N) :- edge(X, _), N = count : { path(X, _) }."
    ).evaluate(facts={"edge": edges})

    closure = _closure(edges)
    nodes = {a for a, _ in edges}
    assert db.relation("unreachable") == {(a, b) for a in nodes for b in nodes} - closure
    assert db.relation("reach_count") == {
        (a, sum(1 for x, _ in closure if x == a)) for a in nodes
    }
    assert grouped_runs == ["path"]


def _closure(edges: list[tuple[int, int]]) -> set[tuple[int, int]]:
    successors: dict[int, set[int]] = {}
    for a, b in edges:
        successors.setdefault(a, set()).add(b)
    closure = set()
    for start in successors:
        seen, frontier = set(), [start]
        while frontier:
            node = frontier.pop()
            for nxt in successors.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        closure |= {(start, node) for node in seen}
    return closure


def test_it_closes_a_long_chain_without_deep_recursion():
    # The closure walks components iteratively: a recursive walk would overflow Python's stack.
    edges = [(i, i + 1) for i in range(3000)]
    db = Program.parse("p(X, Y) :- e(X, Y).\np(X, Z) :- e(X, Y), p(Y, Z).").evaluate(
        facts={"e": edges})
    assert db.count("p") == 3001 * 3000 // 2


def test_it_runs_same_generation_two_sided(monkeypatch: pytest.MonkeyPatch):
    ran: list[str] = []
    original = evaluate_module.run_two_sided
    monkeypatch.setattr(evaluate_module, "run_two_sided",
                        lambda shape, store: (ran.append(shape.relation), original(shape, store)))
    parent = [((child - 1) // 3, child) for child in range(1, 40)]  # a ternary tree, 3 levels
    db = Program.parse(
        "sg(X, Y) :- parent(P, X), parent(P, Y), X != Y.\n"
        "sg(X, Y) :- parent(A, X), sg(A, B), parent(B, Y).\n"
        "cousins(N) :- N = count : { sg(X, _), X > 12 }."
    ).evaluate(facts={"parent": parent})
    assert ran == ["sg"]
    level = {0: 0}
    for p, c in parent:
        level[c] = level[p] + 1
    expected = {(x, y) for x in level for y in level if x != y and level[x] == level[y] > 0}
    assert db.relation("sg") == expected
    assert db.relation("cousins") == {(sum(1 for x, _ in expected if x > 12),)}
