"""evaluate(), explain() and sessions agree with a naive reference evaluator on random
programs and data.

The reference below is written for obviousness, not speed: rules are applied naively, all at
once, until nothing changes, stratum by stratum (negation only ever reads a lower stratum).
Base facts may be given for derived relations too; they are there from the start.
"""

import operator
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoning.engine import Program, Proof
from reasoning.engine import evaluate as evaluate_module

Row = tuple[int, ...]
Atom = tuple[str, tuple[str | int, ...]]  # relation, arguments: variable names, "_" or ints

EDB = {"e": 2, "f": 1}
IDB = {"p": 2, "q": 1, "r": 2, "s": 1}
VARIABLES = ("X", "Y", "Z")
COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class RuleSpec:
    head: Atom
    positives: tuple[Atom, ...]
    negatives: tuple[Atom, ...]
    comparisons: tuple[tuple[str, str, str | int], ...]

    def text(self) -> str:
        body = [_atom_text(atom) for atom in self.positives]
        body += ["!" + _atom_text(atom) for atom in self.negatives]
        body += [f"{left} {op} {right}" for left, op, right in self.comparisons]
        return f"{_atom_text(self.head)} :- {', '.join(body)}."


def _atom_text(atom: Atom) -> str:
    return f"{atom[0]}({', '.join(map(str, atom[1]))})"


def _bound(positives: tuple[Atom, ...]) -> list[str]:
    return sorted({arg for _, args in positives for arg in args if isinstance(arg, str)} - {"_"})


@st.composite
def rule_specs(draw: st.DrawFn, levels: dict[str, int]) -> RuleSpec:
    head_relation = draw(st.sampled_from(sorted(IDB)))
    level = levels[head_relation]
    # EDB twice over, so that more bodies reach the data.
    readable = sorted(EDB) * 2 + [rel for rel in sorted(IDB) if levels[rel] <= level]
    lower = sorted(EDB) + [rel for rel in sorted(IDB) if levels[rel] < level]
    arity = {**EDB, **IDB}
    # Mostly variables: constants and wildcards in every position would make most joins empty.
    positive_terms = st.sampled_from(VARIABLES * 4 + (0, 1, "_"))
    positives = tuple(
        (rel, tuple(draw(positive_terms) for _ in range(arity[rel])))
        for rel in draw(st.lists(st.sampled_from(readable), min_size=1, max_size=3))
    )
    bound = _bound(positives)
    if not bound:
        positives += (("e", ("X", "Y")),)
        bound = _bound(positives)
    usable = st.sampled_from(bound * 3 + [0, 1, 2])
    head = (head_relation, tuple(draw(usable) for _ in range(arity[head_relation])))
    negated = st.one_of(usable, st.just("_"))
    negatives = tuple(
        (rel, tuple(draw(negated) for _ in range(arity[rel])))
        for rel in draw(st.lists(st.sampled_from(lower), max_size=1))
    )
    comparisons = tuple(
        (draw(st.sampled_from(bound)), draw(st.sampled_from(sorted(COMPARE))), draw(usable))
        for _ in range(draw(st.integers(0, 1)))
    )
    return RuleSpec(head, positives, negatives, comparisons)


@st.composite
def chain_specs(draw: st.DrawFn, levels: dict[str, int]) -> RuleSpec:
    """`h(X, Z) :- a(X, Y), b(Y, Z)` over binary relations: compositions and recursion."""
    head = draw(st.sampled_from([rel for rel in sorted(IDB) if IDB[rel] == 2]))
    binary = ["e"] + [rel for rel in sorted(IDB) if IDB[rel] == 2 and levels[rel] <= levels[head]]
    first, second = draw(st.sampled_from(binary)), draw(st.sampled_from(binary))
    lower = [rel for rel in sorted(IDB) if IDB[rel] == 1 and levels[rel] < levels[head]]
    negatives = draw(st.sampled_from([()] + [((rel, ("Y",)),) for rel in lower + ["f"]]))
    return RuleSpec((head, ("X", "Z")), ((first, ("X", "Y")), (second, ("Y", "Z"))), negatives, ())


# One rule from the data into each IDB relation, so that random rules on top have facts to
# build on (and recursion goes deep enough to test proof heights).
SEEDS = [
    RuleSpec(("p", ("X", "Y")), (("e", ("X", "Y")),), (), ()),
    RuleSpec(("q", ("X",)), (("f", ("X",)),), (), ()),
    RuleSpec(("r", ("X", "Y")), (("e", ("Y", "X")),), (), (("X", "<", "Y"),)),
    RuleSpec(("s", ("X",)), (("e", ("X", "_")),), (), ()),
]


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[RuleSpec], dict[str, int]]:
    levels = {rel: draw(st.integers(0, 2)) for rel in sorted(IDB)}
    rules = st.one_of(rule_specs(levels), chain_specs(levels))
    return SEEDS + draw(st.lists(rules, min_size=1, max_size=5)), levels


databases = st.fixed_dictionaries({
    "e": st.sets(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=14),
    "f": st.sets(st.tuples(st.integers(0, 4)), max_size=4),
})


def _match(args: tuple[str | int, ...], row: Row, binding: dict[str, int]) -> dict | None:
    new = dict(binding)
    for arg, value in zip(args, row):
        if arg == "_":
            continue
        if isinstance(arg, int):
            if arg != value:
                return None
        elif new.setdefault(arg, value) != value:
            return None
    return new


def _solutions(atoms: tuple[Atom, ...], db: dict[str, set[Row]], binding: dict) -> Iterator[dict]:
    if not atoms:
        yield binding
        return
    (relation, args), rest = atoms[0], atoms[1:]
    for row in db.get(relation, set()):
        extended = _match(args, row, binding)
        if extended is not None:
            yield from _solutions(rest, db, extended)


def _consequences(rule: RuleSpec, db: dict[str, set[Row]], model: dict[str, set[Row]]) -> set:
    """Head rows of `rule` from positive atoms in `db` and negations checked in `model`."""
    found = set()
    for binding in _solutions(rule.positives, db, {}):
        if any(_match(args, row, binding) is not None
               for relation, args in rule.negatives for row in model.get(relation, set())):
            continue
        if all(COMPARE[op](binding[left], _value(right, binding))
               for left, op, right in rule.comparisons):
            found.add(tuple(_value(arg, binding) for arg in rule.head[1]))
    return found


def _value(term: str | int, binding: dict[str, int]) -> int:
    return binding[term] if isinstance(term, str) else term


def _empty_model(rules: list[RuleSpec], edb: dict) -> dict[str, set[Row]]:
    db = {name: set(rows) for name, rows in edb.items()}
    for name in IDB:
        db.setdefault(name, set())
    for rule in rules:
        db.setdefault(rule.head[0], set())
    return db


def reference(rules: list[RuleSpec], levels: dict[str, int], edb: dict) -> dict[str, set[Row]]:
    db = _empty_model(rules, edb)
    for level in range(3):
        stratum = [rule for rule in rules if levels[rule.head[0]] == level]
        changed = True
        while changed:
            changed = False
            for rule in stratum:
                new = _consequences(rule, db, db) - db[rule.head[0]]
                if new:
                    db[rule.head[0]] |= new
                    changed = True
    return db


def reference_heights(rules: list[RuleSpec], edb: dict, model: dict) -> dict[tuple, int]:
    """Height of a shallowest proof of each fact: the naive round in which it first appears."""
    known = _empty_model(rules, edb)
    heights = {(name, row): 0 for name, rows in edb.items() for row in rows}
    round_number = 0
    while True:
        round_number += 1
        new = {(rule.head[0], row) for rule in rules for row in _consequences(rule, known, model)}
        new -= set(heights)
        if not new:
            return heights
        for name, row in new:
            heights[(name, row)] = round_number
            known[name].add(row)


def evaluate(rules: list[RuleSpec], edb: dict):
    text = "\n".join(rule.text() for rule in rules)
    return Program.parse(text).evaluate(facts={name: rows for name, rows in edb.items()})


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(program=programs(), edb=databases)
def test_it_agrees_with_the_reference_evaluator(program, edb):
    rules, levels = program

    db = evaluate(rules, edb)

    expected = reference(rules, levels, edb)
    assert {name: set(db.relation(name)) for name in IDB} == {name: expected[name] for name in IDB}


@st.composite
def linear_programs(draw: st.DrawFn) -> list[RuleSpec]:
    """Closure-like programs on p/2: the shape the closure fast path (linear.py) handles."""
    carried = draw(st.sampled_from((0, 1)))

    def pair(key: str, other: str) -> tuple[str, ...]:
        return (other, key) if carried == 0 else (key, other)

    rules = [RuleSpec(("p", ("X", "Y")), (("e", ("X", "Y")),), (), ())]
    for _ in range(draw(st.integers(1, 2))):
        links = draw(st.sampled_from([
            (("e", ("H", "K")),), (("e", ("K", "H")),), (("e", ("H", "M")), ("e", ("M", "K"))),
        ]))
        negatives = draw(st.sampled_from([(), (("f", ("H",)),), (("f", ("_",)),)]))
        comparisons = draw(st.sampled_from([(), (("H", "!=", "K"),), (("H", "<", 3),)]))
        delta = ("p", pair("K", "C"))
        rules.append(RuleSpec(("p", pair("H", "C")), links + (delta,), negatives, comparisons))
    return rules


def _evaluate_recording(rules: list[RuleSpec], edb: dict, fast_path: str):
    """evaluate(), and the relations that the named fast path of evaluate.py computed."""
    ran: list[str] = []
    original = getattr(evaluate_module, fast_path)

    def spy(shape, store):
        ran.append(shape.relation)
        original(shape, store)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluate_module, fast_path, spy)
        return evaluate(rules, edb), ran


@PROPERTY_SETTINGS
@given(rules=linear_programs(), edb=databases)
def test_it_agrees_with_the_reference_when_linear_recursion_runs_as_a_closure(rules, edb):
    db, ran = _evaluate_recording(rules, edb, "run_closure")

    assert ran == ["p"]
    assert db.relation("p") == reference(rules, {name: 0 for name in IDB}, edb)["p"]


@st.composite
def two_sided_programs(draw: st.DrawFn) -> list[RuleSpec]:
    """Same-generation-like programs on p/2: the shape two_sided.py handles. Each side links
    the recursive atom's column to a head column through e/f, or passes it through."""
    base = draw(st.sampled_from([
        RuleSpec(("p", ("X", "Y")), (("e", ("X", "Y")),), (), ()),
        RuleSpec(("p", ("X", "Y")), (("e", ("P", "X")), ("e", ("P", "Y"))), (),
                 (("X", "!=", "Y"),)),
    ]))
    rules = [base]
    for _ in range(draw(st.integers(1, 2))):
        left = draw(st.sampled_from([((("e", ("A", "X")),), "X"), ((("e", ("X", "A")),), "X"),
                                     ((), "A"), ((("e", ("A", "M")), ("e", ("M", "X"))), "X")]))
        right = draw(st.sampled_from([((("e", ("B", "Y")),), "Y"), ((("e", ("Y", "B")),), "Y"),
                                      ((), "B")]))
        negatives = draw(st.sampled_from([(), (("f", (left[1],)),), (("f", (right[1],)),)]))
        comparisons = draw(st.sampled_from([(), ((left[1], "<", 3),), ((right[1], "!=", 1),)]))
        if left[1] == "A" and right[1] == "B":
            continue  # p(A, B) :- p(A, B) derives nothing new
        positives = left[0] + (("p", ("A", "B")),) + right[0]
        rules.append(RuleSpec(("p", (left[1], right[1])), positives, negatives, comparisons))
    return rules


def _carried(rule: RuleSpec) -> bool:
    """A rule the closure fast path (linear.py) may take instead: one side passes through."""
    head = rule.head[1]
    mentioned = [arg for atom in rule.positives + rule.negatives for arg in atom[1]]
    mentioned += [term for left, _, right in rule.comparisons for term in (left, right)]
    return any(head[i] == ("A", "B")[i] and mentioned.count(head[i]) == 1 for i in (0, 1))


@PROPERTY_SETTINGS
@given(rules=two_sided_programs(), edb=databases)
def test_it_agrees_with_the_reference_when_recursion_runs_two_sided(rules, edb):
    db, ran = _evaluate_recording(rules, edb, "run_two_sided")

    assert ran == ["p"] or len(rules) == 1 or any(_carried(rule) for rule in rules[1:])
    assert db.relation("p") == reference(rules, {name: 0 for name in IDB}, edb)["p"]


@PROPERTY_SETTINGS
@given(program=programs(), edb=databases)
def test_it_explains_every_fact_with_a_proof_of_minimal_height(program, edb):
    rules, levels = program
    db = evaluate(rules, edb)
    model = reference(rules, levels, edb)
    heights = reference_heights(rules, edb, model)

    for name in IDB:
        for row in db.relation(name):
            proof = db.explain(name, row)
            assert proof.height == heights[(name, row)]
            _assert_well_formed(proof, model)


def _assert_well_formed(proof: Proof, model: dict[str, set[Row]]) -> None:
    stack = [proof]
    while stack:
        node = stack.pop()
        if node.kind in ("base", "derived"):
            assert node.row in model[node.relation]
        if node.kind == "derived":
            assert all(premise.height < node.height for premise in node.premises)
            assert node.rule is not None
        else:
            assert node.premises == [] and node.rule is None
        stack.extend(node.premises)


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, str, set[Row]]:
    """Assert or retract a few rows, mostly of the data, sometimes of a derived relation."""
    relation = draw(st.sampled_from(["e", "e", "e", "f", "p", "q"]))
    arity = {**EDB, **IDB}[relation]
    rows = draw(st.sets(st.tuples(*[st.integers(0, 4)] * arity), min_size=1, max_size=3))
    return draw(st.sampled_from(["assert", "retract"])), relation, rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(), edb=databases, steps=st.lists(edits(), min_size=1, max_size=6))
def test_it_keeps_a_session_equal_to_the_reference_as_facts_come_and_go(program, edb, steps):
    rules, levels = program
    text = "\n".join(rule.text() for rule in rules)
    session = Program.parse(text).session(facts=edb)
    base = {name: set(rows) for name, rows in edb.items()}
    names = [*EDB, *IDB]
    before = {name: set(session.relation(name)) for name in names}

    for verb, relation, rows in steps:
        if verb == "assert":
            change = session.assert_facts(relation, rows)
            base.setdefault(relation, set()).update(rows)
        else:
            change = session.retract_facts(relation, rows)
            base.get(relation, set()).difference_update(rows)

        expected = reference(rules, levels, base)
        after = {name: set(session.relation(name)) for name in names}
        assert after == {name: expected[name] for name in names}
        assert change.added == {n: len(after[n] - before[n]) for n in names if after[n] - before[n]}
        assert change.removed == {
            n: len(before[n] - after[n]) for n in names if before[n] - after[n]
        }
        before = after


# Aggregates looked up (count and sum of nothing are 0), enumerated, and over no key; a
# recursive rule reading an aggregate; arithmetic; negated atoms first in a body.
FEATURES = """
size(X, N) :- node(X), N = count : { w(X, _, _) }.
total(X, S) :- node(X), S = sum V : { w(X, _, V) }.
low(X, M) :- M = min V : { w(X, _, V) }.
all(N) :- N = count : { w(_, _, _) }.
heavy(X) :- total(X, S), S > 3.
reach(X) :- node(X), size(X, 0).
reach(Y) :- reach(X), w(X, Y, V), N = count : { node(_) }, V < N.
step(X, Z) :- w(X, Y, _), Z = Y * 2 - X, !heavy(Z).
quiet(X) :- !flag(0), node(X), !w(X, _, _).
alone :- !node(_), !flag(1).
"""
_small = st.integers(0, 3)
FEATURE_ROWS = {
    "node": st.tuples(_small), "flag": st.tuples(st.integers(0, 1)),
    "w": st.tuples(_small, _small, st.integers(-1, 3)),
}


@st.composite
def feature_edits(draw: st.DrawFn) -> tuple[str, str, set[tuple]]:
    relation = draw(st.sampled_from(["node", "w", "w", "flag"]))
    rows = draw(st.sets(FEATURE_ROWS[relation], min_size=1, max_size=3))
    return draw(st.sampled_from(["assert", "retract"])), relation, rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    facts=st.fixed_dictionaries({name: st.sets(rows, max_size=6)
                                 for name, rows in FEATURE_ROWS.items()}),
    steps=st.lists(feature_edits(), min_size=1, max_size=6),
)
def test_it_keeps_aggregates_and_arithmetic_of_a_session_current(facts, steps):
    program = Program.parse(FEATURES)
    session = program.session(facts=facts)
    base = {name: set(rows) for name, rows in facts.items()}

    for verb, relation, rows in steps:
        if verb == "assert":
            session.assert_facts(relation, rows)
            base[relation] |= rows
        else:
            session.retract_facts(relation, rows)
            base[relation] -= rows

        fresh = program.evaluate(facts=base)
        assert {name: session.relation(name) for name in fresh.relation_names} == {
            name: fresh.relation(name) for name in fresh.relation_names
        }


@settings(max_examples=100, deadline=None)
@given(
    nodes=st.sets(st.integers(0, 6), max_size=5),
    weights=st.sets(st.tuples(st.integers(0, 6), st.integers(0, 3), st.integers(-5, 5))),
)
def test_it_aggregates_like_python(nodes, weights):
    db = Program.parse(
        "size(X, N) :- node(X), N = count : { w(X, _, _) }.\n"
        "total(X, S) :- node(X), S = sum V : { w(X, _, V) }.\n"
        "low(X, M) :- M = min V : { w(X, _, V) }.\n"
        "high(X, M) :- M = max V : { w(X, _, V) }.\n"
        "all(N) :- N = count : { w(_, _, _) }."
    ).evaluate(facts={"node": [(n,) for n in nodes], "w": weights})

    values = {x: [v for y, _, v in weights if y == x] for x, _, _ in weights}
    assert db.relation("size") == {(x, len(values.get(x, []))) for x in nodes}
    assert db.relation("total") == {(x, sum(values.get(x, []))) for x in nodes}
    assert db.relation("low") == {(x, min(vs)) for x, vs in values.items()}
    assert db.relation("high") == {(x, max(vs)) for x, vs in values.items()}
    assert db.relation("all") == {(len(weights),)}


@settings(max_examples=60, deadline=None)
@given(edges=st.sets(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=90))
def test_it_computes_closure_and_same_generation_like_the_reference(edges):
    tc = [
        RuleSpec(("t", ("X", "Y")), (("e", ("X", "Y")),), (), ()),
        RuleSpec(("t", ("X", "Z")), (("e", ("X", "Y")), ("t", ("Y", "Z"))), (), ()),
    ]
    siblings = (("e", ("P", "X")), ("e", ("P", "Y")))
    cousins = (("e", ("A", "X")), ("g", ("A", "B")), ("e", ("B", "Y")))
    sg = [
        RuleSpec(("g", ("X", "Y")), siblings, (), (("X", "!=", "Y"),)),
        RuleSpec(("g", ("X", "Y")), cousins, (), ()),
    ]
    db = evaluate(tc + sg, {"e": edges})

    expected = reference(tc + sg, {"t": 0, "g": 0}, {"e": edges})
    assert db.relation("t") == expected["t"]
    assert db.relation("g") == expected["g"]
