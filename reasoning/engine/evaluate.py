"""Bottom-up evaluation: strata in order, each to its fixpoint by semi-naive iteration.

In a recursive stratum the rules with no atom of the stratum run once; what they produce,
together with the facts already there, is the first delta. Each later round runs, for every
rule and every atom of the stratum in its body, the variant that reads that atom from the
delta of the previous round and all others from the full relations. A derivation whose
premises all predate the last round was found in an earlier round, so nothing is missed, and
no variant ever rescans the whole recursive relation.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

from .analysis import Stratum
from .compiler import compile_plan
from .linear import linear_shape, run_closure
from .planner import plan_body
from .relation import Row
from .store import Store, merge_new
from .syntax import Atom, Rule, literal_variables
from .two_sided import run_two_sided, two_sided_shape


@dataclass(frozen=True)
class Variant:
    """One compiled rule: reads `delta_relation` from the delta, or nothing when it is None."""

    rule: Rule
    delta_relation: str | None
    run: Callable[..., set[Row]]


def compile_rule(
    rule: Rule, store: Store, *, delta: int | None = None, recursive: frozenset[str] = frozenset()
) -> Variant:
    def size(relation: str) -> float:
        # Relations still growing in this stratum are taken as the largest.
        return math.inf if relation in recursive else len(store.relations.get(relation, ()))

    head = literal_variables(rule.head)
    plan = plan_body(rule.body, outside=head, delta=delta, size=size)
    run = compile_plan(plan.steps, sources=store, output=rule.head.args)
    delta_atom = rule.body[delta] if delta is not None else None
    return Variant(rule, delta_atom.relation if isinstance(delta_atom, Atom) else None, run)


def evaluate_strata(
    strata: list[Stratum], store: Store, progress: Callable[[int, int], None] | None = None
) -> None:
    """Evaluates the strata in order; `progress(done, total)` is called after each one."""
    for done, stratum in enumerate(strata, start=1):
        for rule in stratum.rules:
            store.relation(rule.head.relation, rule.head.arity)
        if stratum.recursive:
            _evaluate_recursive(stratum, store)
        else:
            for rule in stratum.rules:
                merge_new(store, {rule.head.relation: compile_rule(rule, store).run()})
        if progress is not None:
            progress(done, len(strata))


def _evaluate_recursive(stratum: Stratum, store: Store) -> None:
    recursive = frozenset(stratum.relations)
    shape = linear_shape(stratum)
    two_sided = None if shape is not None else two_sided_shape(stratum)
    if shape is not None or two_sided is not None:
        for rule in stratum.rules:
            if all(not isinstance(lit, Atom) or lit.relation not in recursive
                   for lit in rule.body):
                head = rule.head.relation
                merge_new(store, {head: compile_rule(rule, store).run()})
        if shape is not None:
            run_closure(shape, store)
        else:
            run_two_sided(two_sided, store)
        return
    delta = {name: set(store.relations[name].rows) for name in recursive}
    variants: list[Variant] = []
    for rule in stratum.rules:
        positions = [
            i for i, lit in enumerate(rule.body)
            if isinstance(lit, Atom) and lit.relation in recursive
        ]
        if not positions:
            head = rule.head.relation
            delta[head] |= merge_new(store, {head: compile_rule(rule, store).run()})[head]
        for position in positions:
            variants.append(compile_rule(rule, store, delta=position, recursive=recursive))
    while any(delta.values()):
        delta = _round(variants, delta, store)


def _round(
    variants: list[Variant], delta: dict[str, set[Row]], store: Store
) -> dict[str, set[Row]]:
    """One semi-naive round: what the deltas derive that is new becomes the next delta."""
    produced: dict[str, set[Row]] = {}
    for variant in variants:
        rows = delta[variant.delta_relation]  # type: ignore[index]
        if rows:
            found = variant.run(rows)
            head = variant.rule.head.relation
            if head in produced:
                produced[head] |= found
            else:
                produced[head] = found
    fresh: dict[str, set[Row]] = {name: set() for name in delta}
    fresh.update(merge_new(store, produced))
    return fresh
