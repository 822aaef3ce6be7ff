"""explain(): a shallowest proof of any fact of the database."""

import pytest

from reasoning.engine import FactNotFoundError, Program, Proof

GRAPH = """
edge(1, 2). edge(2, 3). edge(3, 4). edge(4, 5). edge(1, 4).
path(X, Y) :- edge(X, Y).
path(X, Z) :- path(X, Y),
              edge(Y, Z).
node(X) :- edge(X, _).
node(X) :- edge(_, X).
far(X, Y) :- node(X), node(Y), !edge(X, Y), path(X, Y).
degree(X, N) :- node(X), N = count : { edge(X, _) }.
hub(X) :- degree(X, N), N >= 2.
"""

STEP = "path(X, Z) :- path(X, Y), edge(Y, Z)."


def outline(proof: Proof) -> list[str]:
    """The proof as indented lines of fact and rule, for comparing whole trees."""
    lines: list[str] = []
    stack = [(proof, 0)]
    while stack:
        node, depth = stack.pop()
        lines.append("  " * depth + f"{node.fact} <- {node.rule}")
        stack.extend((child, depth + 1) for child in reversed(node.premises))
    return lines


def test_it_explains_a_base_fact_as_a_leaf():
    proof = Program.parse(GRAPH).evaluate().explain("edge", (1, 2))

    assert proof == Proof('edge(1, 2)', None, [], "base", "edge", (1, 2), 0)


def test_it_chooses_a_shallowest_proof():
    proof = Program.parse(GRAPH).evaluate().explain("path", (1, 5))

    # Through the shortcut 1 -> 4, not along 1 -> 2 -> 3 -> 4.
    assert outline(proof) == [
        f"path(1, 5) <- {STEP}",
        "  path(1, 4) <- path(X, Y) :- edge(X, Y).",
        "    edge(1, 4) <- None",
        "  edge(4, 5) <- None",
    ]
    assert proof.height == 2
    assert (proof.kind, proof.relation, proof.row) == ("derived", "path", (1, 5))


def test_it_shows_a_negated_premise_as_a_leaf():
    proof = Program.parse(GRAPH).evaluate().explain("far", (1, 3))

    assert [premise.fact for premise in proof.premises] == [
        "node(1)", "node(3)", "not edge(1, 3)", "path(1, 3)"
    ]
    negation = proof.premises[2]
    assert (negation.kind, negation.rule, negation.premises) == ("negation", None, [])
    assert proof.height == 3


def test_it_shows_an_aggregate_premise_as_a_leaf():
    proof = Program.parse(GRAPH).evaluate().explain("hub", (1,))

    assert outline(proof) == [
        "hub(1) <- hub(X) :- degree(X, N), N >= 2.",
        "  degree(1, 2) <- degree(X, N) :- node(X), N = count : { edge(X, _) }.",
        "    node(1) <- node(X) :- edge(X, _).",
        "      edge(1, 2) <- None",
        "    2 = count : { edge(1, _) } <- None",
    ]
    assert proof.premises[0].premises[1].kind == "aggregate"


def test_it_explains_facts_passed_to_evaluate_and_unicode_values():
    db = Program.parse('greets(X, Y) :- knows(X, Y), !shy(X).').evaluate(
        facts={"knows": [("张三", "李四")], "shy": [("王五",)]}
    )

    proof = db.explain("greets", ["张三", "李四"])

    assert outline(proof) == [
        'greets("张三", "李四") <- greets(X, Y) :- knows(X, Y), !shy(X).',
        '  knows("张三", "李四") <- None',
        '  not shy("张三") <- None',
    ]


def test_it_explains_deep_derivations_without_recursion_limits():
    edges = [(i, i + 1) for i in range(1500)]
    db = Program.parse("reach(0).\nreach(Y) :- reach(X), edge(X, Y).").evaluate(
        facts={"edge": edges}
    )

    proof = db.explain("reach", (1500,))

    # Far deeper than Python's default recursion limit of 1000.
    assert proof.height == 1500
    spine = [proof]
    while spine[-1].premises:
        spine.append(spine[-1].premises[0])
    assert [node.fact for node in spine[-3:]] == ["reach(2)", "reach(1)", "reach(0)"]
    assert len(spine) == 1501


def test_it_raises_a_key_error_for_a_fact_not_in_the_database():
    db = Program.parse(GRAPH).evaluate()

    with pytest.raises(FactNotFoundError) as caught:
        db.explain("path", (5, 1))
    with pytest.raises(KeyError):
        db.explain("nowhere", ("x",))

    assert str(caught.value) == "path(5, 1) is not in the database"
