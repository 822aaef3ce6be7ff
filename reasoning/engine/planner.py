"""Orders the literals of a rule body into a join plan.

The order is greedy: the delta atom of a semi-naive variant first, then repeatedly the atom
with the most bound arguments (the smallest relation on a tie), and every negation,
comparison, assignment and aggregate as soon as the variables it needs are bound, so that
filters prune as early as possible. The same pass decides safety: whatever it cannot place,
or a head variable it never binds, is unsafe.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .syntax import (
    Aggregate,
    Atom,
    BinaryOp,
    Comparison,
    Expr,
    Literal,
    Negation,
    Variable,
    aggregate_keys,
    expr_variables,
    literal_variables,
    names_outside,
)


@dataclass(frozen=True)
class Step:
    """One literal in plan order. `kind` is scan, negate, filter, assign or aggregate."""

    kind: str
    literal: Literal
    position: int
    delta: bool = False
    target: str | None = None
    keys: tuple[str, ...] = ()


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)
    unplaced: list[Literal] = field(default_factory=list)
    existential: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)


def plan_body(
    body: Sequence[Literal],
    *,
    outside: Iterable[Variable] = (),
    bound: Iterable[str] = (),
    delta: int | None = None,
    size: Callable[[str], float] = lambda relation: 0.0,
) -> Plan:
    """A plan for `body`; `outside` are the variables of the head (or a query's answer)."""
    planner = _Planner(body, list(outside), set(bound))
    if delta is not None:
        planner.place(delta, delta=True)
    while True:
        planner.place_filters()
        atoms = [i for i in planner.pending if isinstance(body[i], Atom)]
        if not atoms:
            break
        planner.place(min(atoms, key=lambda i: planner.atom_cost(i, size)))
    planner.plan.unplaced = [body[i] for i in planner.pending]
    return planner.plan


class _Planner:
    def __init__(self, body: Sequence[Literal], outside: list[Variable], bound: set[str]):
        self.body = body
        self.pending = list(range(len(body)))
        self.plan = Plan(bound=bound)
        self.counts = Counter(var.name for var in outside)
        for literal in body:
            self.counts.update(var.name for var in literal_variables(literal))
        self.plan.counts = self.counts
        # `_` or `_Name` used once: a negation may leave it free (no such tuple at all).
        self.plan.existential = {
            name for name, count in self.counts.items() if count == 1 and name.startswith("_")
        }
        self.keys = {
            i: aggregate_keys(literal, names_outside(literal, body, outside))
            for i, literal in enumerate(body)
            if isinstance(literal, Aggregate)
        }

    def atom_cost(self, index: int, size: Callable[[str], float]) -> tuple[int, float, int]:
        atom = self.body[index]
        assert isinstance(atom, Atom)
        bound = sum(
            1 for arg in atom.args if not isinstance(arg, Variable) or arg.name in self.plan.bound
        )
        return (-bound, size(atom.relation), index)

    def place(self, index: int, *, delta: bool = False) -> None:
        literal = self.body[index]
        assert isinstance(literal, Atom)
        self.pending.remove(index)
        self.plan.steps.append(Step("scan", literal, index, delta=delta))
        self.plan.bound.update(var.name for var in literal_variables(literal))

    def place_filters(self) -> None:
        placed = True
        while placed:
            placed = False
            for index in list(self.pending):
                step = self.filter_step(index)
                if step is not None:
                    self.pending.remove(index)
                    self.plan.steps.append(step)
                    self.plan.bound.update(self.binds(step))
                    placed = True

    def binds(self, step: Step) -> list[str]:
        if step.kind == "aggregate":
            assert isinstance(step.literal, Aggregate)
            return [*step.keys, step.literal.result.name]
        return [step.target] if step.target else []

    def is_bound(self, variables: Iterable[Variable]) -> bool:
        return all(var.name in self.plan.bound for var in variables)

    def filter_step(self, index: int) -> Step | None:
        literal = self.body[index]
        if isinstance(literal, Negation):
            needed = [
                v for v in literal_variables(literal) if v.name not in self.plan.existential
            ]
            return Step("negate", literal, index) if self.is_bound(needed) else None
        if isinstance(literal, Comparison):
            return self.comparison_step(literal, index)
        if isinstance(literal, Aggregate):
            return self.aggregate_step(literal, index)
        return None

    def comparison_step(self, literal: Comparison, index: int) -> Step | None:
        left, right = expr_variables(literal.left), expr_variables(literal.right)
        if self.is_bound(left + right):
            return Step("filter", literal, index)
        if literal.op != "=":
            return None
        for side, other in ((literal.left, right), (literal.right, left)):
            if isinstance(side, Variable) and self.is_bound(other):
                return Step("assign", literal, index, target=side.name)
        return None

    def aggregate_step(self, literal: Aggregate, index: int) -> Step | None:
        keys = self.keys[index]
        # Wait for the atoms that will bind a key: a group key bound outside the braces is a
        # lookup, one bound only by the aggregate enumerates the groups.
        for i in self.pending:
            other = self.body[i]
            if isinstance(other, Atom) and any(
                var.name in keys and var.name not in self.plan.bound
                for var in literal_variables(other)
            ):
                return None
        return Step("aggregate", literal, index, keys=keys)


def unbound_variables(plan: Plan, outside: Iterable[Variable]) -> list[tuple[Variable, str]]:
    """Each variable the plan could not bind, with where it occurs, in text order.

    In `Z = Y + 1` with Y unbound, Z only waits for Y: Y is the one to name, so Z is left
    out (unless nothing else is left).
    """
    found: list[tuple[Variable, str]] = [
        (var, "the head") for var in outside if var.name not in plan.bound
    ]
    for literal in plan.unplaced:
        found += [
            (var, _describe(literal)) for var in literal_variables(literal)
            if var.name not in plan.bound and var.name not in plan.existential
        ]
    waiting = _waiting(plan)
    blamed = [item for item in found if item[0].name not in waiting] or found
    return sorted(blamed, key=lambda item: (item[0].line, item[0].column))


def _waiting(plan: Plan) -> set[str]:
    names: set[str] = set()
    for literal in plan.unplaced:
        if isinstance(literal, Comparison) and literal.op == "=":
            for side, other in ((literal.left, literal.right), (literal.right, literal.left)):
                if isinstance(side, Variable) and any(
                    var.name not in plan.bound for var in expr_variables(other)
                ) and not _is_culprit(side, other, plan.counts):
                    names.add(side.name)
    return names


def _is_culprit(side: Variable, other: Expr, counts: Counter[str]) -> bool:
    """In `Z = Y` where only Y is used nowhere else, Y is the one to name."""
    return isinstance(other, Variable) and counts[side.name] == 1 and counts[other.name] > 1


def _describe(literal: Literal) -> str:
    if isinstance(literal, Negation):
        return "a negated atom"
    if isinstance(literal, Comparison):
        has_arithmetic = any(isinstance(side, BinaryOp) for side in (literal.left, literal.right))
        return "an arithmetic expression" if has_arithmetic else "a comparison"
    return "an aggregate"
