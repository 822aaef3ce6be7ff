"""Shallowest proofs of derived facts, computed on demand.

The fast evaluation records nothing about how a fact was found. The first `explain()` runs
the rules once more, all strata together, by semi-naive rounds in which every positive atom
may be the delta; negations and aggregates read the finished database, whose relations they
only ever see complete. A fact first derived in round h then has a proof of height h and none
lower: round h only combines premises of rounds before it. A proof is rebuilt by finding, for
the fact's rules, a body binding whose positive premises all come from earlier rounds.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .compiler import compile_plan
from .errors import FactNotFoundError
from .evaluate import Variant, compile_rule
from .planner import plan_body
from .relation import Row
from .store import Store, merge_new
from .syntax import (
    Aggregate,
    Atom,
    Constant,
    Negation,
    Rule,
    Value,
    Variable,
    literal_variables,
    render_fact,
    render_literal,
)


@dataclass(frozen=True)
class Proof:
    """How a fact holds: `rule` is None for a base fact and for the leaves below.

    `kind` is "base", "derived", "negation" (a `not p(...)` premise that holds) or
    "aggregate" (the aggregate's value for the group); only the first two have a row.
    """

    fact: str
    rule: str | None
    premises: list["Proof"] = field(default_factory=list)
    kind: str = "base"
    relation: str | None = None
    row: tuple[Value, ...] | None = None
    height: int = 0  # rule applications on the longest branch; 0 for a leaf


Key = tuple[str, Row]


@dataclass
class _Choice:
    rule: Rule
    binding: dict[str, int]
    premises: list[Key]


class Provenance:
    def __init__(self, rules: list[Rule], store: Store, base: dict[str, set[Row]]):
        self.rules = rules
        self.store = store
        self.base = base
        self.heights = _derivation_rounds(rules, store, base)
        self._finders: dict[int, tuple[list[str], Callable[..., list[tuple[int, ...]]]]] = {}
        self._choices: dict[Key, _Choice] = {}

    def explain(self, relation: str, row: tuple[Value, ...]) -> Proof:
        key = self._key(relation, row)
        built: dict[Key, Proof] = {}
        stack = [key]
        while stack:
            current = stack[-1]
            if current in built:
                stack.pop()
                continue
            if self._is_base(current):
                built[current] = self._leaf(current)
                stack.pop()
                continue
            choice = self._choose(current)
            missing = [premise for premise in choice.premises if premise not in built]
            if missing:
                stack.extend(missing)
                continue
            built[current] = self._derived(current, choice, built)
            stack.pop()
        return built[key]

    def _key(self, relation: str, row: tuple[Value, ...]) -> Key:
        encoded = tuple(self.store.symbols.lookup(value) for value in row)
        found = self.store.relations.get(relation)
        if found is None or None in encoded or encoded not in found.rows:
            raise FactNotFoundError(f"{render_fact(relation, tuple(row))} is not in the database")
        return relation, encoded  # type: ignore[return-value]

    def _is_base(self, key: Key) -> bool:
        return key[1] in self.base.get(key[0], ())

    def _height(self, key: Key) -> int:
        return 0 if self._is_base(key) else self.heights[key[0]][key[1]]

    def _decode(self, row: Row) -> tuple[Value, ...]:
        return tuple(map(self.store.symbols.decode, row))

    def _leaf(self, key: Key) -> Proof:
        row = self._decode(key[1])
        return Proof(render_fact(key[0], row), None, [], "base", key[0], row)

    def _derived(self, key: Key, choice: _Choice, built: dict[Key, Proof]) -> Proof:
        decode = self.store.symbols.decode
        binding = {name: decode(value) for name, value in choice.binding.items()}
        premises: list[Proof] = []
        positive = iter(choice.premises)
        for literal in choice.rule.body:
            if isinstance(literal, Atom):
                premises.append(built[next(positive)])
            elif isinstance(literal, (Negation, Aggregate)):
                kind = "negation" if isinstance(literal, Negation) else "aggregate"
                premises.append(Proof(render_literal(literal, binding), None, [], kind))
        row = self._decode(key[1])
        height = 1 + max((premise.height for premise in premises), default=0)
        return Proof(
            render_fact(key[0], row), choice.rule.text, premises, "derived", key[0], row, height
        )

    def _choose(self, key: Key) -> _Choice:
        if key in self._choices:
            return self._choices[key]
        height = self._height(key)
        for rule in self.rules:
            if rule.head.relation != key[0]:
                continue
            for binding in self._bindings(rule, key[1]):
                premises = [
                    (atom.relation, _instantiate(atom, binding, self.store.symbols.encode))
                    for atom in rule.body if isinstance(atom, Atom)
                ]
                if all(self._height(premise) < height for premise in premises):
                    self._choices[key] = _Choice(rule, binding, premises)
                    return self._choices[key]
        raise AssertionError(f"no derivation of {key} at round {height}")

    def _bindings(self, rule: Rule, row: Row) -> Iterator[dict[str, int]]:
        head = _unify(rule.head, row, self.store.symbols.encode)
        if head is None:
            return
        names, finder = self._finder(rule)
        for solution in finder(*head.values()):
            yield dict(zip(names, solution))

    def _finder(self, rule: Rule) -> tuple[list[str], Callable[..., list[tuple[int, ...]]]]:
        """Lists every body binding for given head values (compiled once per rule)."""
        if id(rule) not in self._finders:
            params = list(dict.fromkeys(literal_variables(rule.head)))
            names = [var.name for var in params]
            plan = plan_body(rule.body, outside=params, bound=names)
            outputs = [Variable(name) for name in plan.bound]
            finder = compile_plan(
                plan.steps, sources=self.store, output=outputs, params=names, collect="list"
            )
            self._finders[id(rule)] = ([var.name for var in outputs], finder)
        return self._finders[id(rule)]


def _unify(head: Atom, row: Row, encode: Callable[[Value], int]) -> dict[str, int] | None:
    binding: dict[str, int] = {}
    for arg, value in zip(head.args, row):
        expected = encode(arg.value) if isinstance(arg, Constant) else binding.setdefault(
            arg.name, value)
        if expected != value:
            return None
    return binding


def _instantiate(atom: Atom, binding: dict[str, int], encode: Callable[[Value], int]) -> Row:
    return tuple(
        binding[arg.name] if isinstance(arg, Variable) else encode(arg.value) for arg in atom.args
    )


def _derivation_rounds(
    rules: list[Rule], complete: Store, base: dict[str, set[Row]]
) -> dict[str, dict[Row, int]]:
    """The round (= height of a shallowest proof) in which each derived fact first appears."""
    store = Store(complete.symbols, complete=complete)
    for name, rows in base.items():
        store.relation(name, complete.relations[name].arity).add(set(rows))
    for rule in rules:
        store.relation(rule.head.relation, rule.head.arity)
    variants, produced = _first_round(rules, store)
    heights: dict[str, dict[Row, int]] = {name: {} for name in store.relations}
    delta = {name: set(rows) for name, rows in base.items()}
    round_number = 1
    while True:
        for variant in variants:
            rows = delta.get(variant.delta_relation, set())  # type: ignore[arg-type]
            if rows:
                produced.setdefault(variant.rule.head.relation, set()).update(variant.run(rows))
        delta = merge_new(store, produced)
        for name, rows in delta.items():
            heights[name].update(dict.fromkeys(rows, round_number))
        if not any(delta.values()):
            return heights
        produced = {}
        round_number += 1


def _first_round(rules: list[Rule], store: Store) -> tuple[list[Variant], dict[str, set[Row]]]:
    """A delta variant for every positive atom of every rule (any of them may be the newest
    premise), and what the rules without positive atoms derive in round 1."""
    everything = frozenset(store.relations)
    variants: list[Variant] = []
    produced: dict[str, set[Row]] = {}
    for rule in rules:
        positions = [i for i, lit in enumerate(rule.body) if isinstance(lit, Atom)]
        if not positions:
            produced.setdefault(rule.head.relation, set()).update(compile_rule(rule, store).run())
        variants += [compile_rule(rule, store, delta=i, recursive=everything) for i in positions]
    return variants, produced
