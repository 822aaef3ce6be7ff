"""Computes an aggregate literal as a relation of (group key..., result) rows.

The body of an aggregate reads only lower strata, which are complete when the rule that holds
it is compiled, so each aggregate is evaluated once, grouped, and then joined like an atom.
Solutions are counted as distinct bindings of every body variable, wildcards included, so
`sum A : { salary(_, D, A) }` adds the salaries of two people who earn the same.
A sum adds the numbers among the values; min and max use the total order of constants.
"""

from collections.abc import Callable

from .compiler import Sources, compile_plan
from .planner import plan_body
from .relation import Relation
from .symbols import OPERATORS, order_key
from .syntax import Aggregate, Constant, Expr, Value, Variable, expr_variables, literal_variables


class _CompleteView:
    """Sources whose positive atoms read the complete relations, as aggregate bodies must."""

    def __init__(self, sources: Sources):
        self.symbols = sources.symbols
        self.positive = sources.negative
        self.negative = sources.negative
        self.grouped = sources.grouped


def group_aggregate(aggregate: Aggregate, keys: tuple[str, ...], sources: Sources) -> Relation:
    inner = [var.name for literal in aggregate.body for var in literal_variables(literal)]
    names = list(dict.fromkeys(inner))
    outside = [Variable(name) for name in keys] + expr_variables(aggregate.target)
    plan = plan_body(aggregate.body, outside=outside)
    run = compile_plan(
        plan.steps, sources=_CompleteView(sources), output=[Variable(name) for name in names]
    )
    key_at = [names.index(name) for name in keys]
    value_of = _target_reader(aggregate.target, names, sources.symbols.decode)
    groups: dict[tuple[int, ...], list[Value | None]] = {}
    for solution in run():
        groups.setdefault(tuple(solution[i] for i in key_at), []).append(value_of(solution))
    fold = _FOLDS[aggregate.function]
    rows = set()
    for key, values in groups.items():
        result = fold(values)
        if result is not None:
            rows.add(key + (sources.symbols.encode(result),))
    return Relation(f"{aggregate.function}#", len(keys) + 1, rows)


def _target_reader(
    target: Expr | None, names: list[str], decode: Callable[[int], Value]
) -> Callable[[tuple[int, ...]], Value | None]:
    if target is None:
        return lambda solution: None
    if isinstance(target, Variable):
        at = names.index(target.name)
        return lambda solution: decode(solution[at])
    return lambda solution: _expr_value(target, dict(zip(names, map(decode, solution))))


def _expr_value(expr: Expr, binding: dict[str, Value]) -> Value | None:
    if isinstance(expr, Variable):
        return binding[expr.name]
    if isinstance(expr, Constant):
        return expr.value
    left, right = _expr_value(expr.left, binding), _expr_value(expr.right, binding)
    numeric = (int, float)
    if not isinstance(left, numeric) or not isinstance(right, numeric):
        return None
    try:
        return OPERATORS[expr.op](left, right)
    except (ArithmeticError, ValueError):
        return None


def _sum(values: list[Value | None]) -> Value:
    return sum(value for value in values if isinstance(value, (int, float)))


def _min(values: list[Value | None]) -> Value | None:
    present = [value for value in values if value is not None]
    return min(present, key=order_key) if present else None


def _max(values: list[Value | None]) -> Value | None:
    present = [value for value in values if value is not None]
    return max(present, key=order_key) if present else None


_FOLDS: dict[str, Callable[[list[Value | None]], Value | None]] = {
    "count": len,
    "sum": _sum,
    "min": _min,
    "max": _max,
}
