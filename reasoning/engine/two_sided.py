"""The fast path for recursion through both columns of a binary relation: same generation.

In `sg(X, Y) :- parent(A, X), sg(A, B), parent(B, Y).` the rest of the body falls apart into
a left side linking A to X and a right side linking B to Y that share no variable. With the
relation grouped as {X: {Y, ...}}, a round then takes each key A of the delta, the union of
right(B) over its values B (one set per B, computed once), and adds that whole set to every
X in left(A): the Python work is per delta key and value, and the derived pairs move as sets
of ints unioned in C, never as tuples built one by one.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .analysis import Stratum
from .compiler import compile_plan
from .planner import plan_body
from .relation import Groups, Row
from .store import Store
from .syntax import Atom, Comparison, Literal, Negation, Rule, Variable, literal_variables

Side = Callable[[int], frozenset[int]]


@dataclass(frozen=True)
class Split:
    """A recursive rule cut in two: each side as (bound variable, literals, head variable)."""

    rule: Rule
    left: tuple[str, tuple[Literal, ...], Variable]
    right: tuple[str, tuple[Literal, ...], Variable]


@dataclass(frozen=True)
class TwoSidedShape:
    relation: str
    splits: tuple[Split, ...]


def two_sided_shape(stratum: Stratum) -> TwoSidedShape | None:
    """The shape when every recursive rule of a one-relation binary stratum splits in two."""
    if len(stratum.relations) != 1:
        return None
    (name,) = stratum.relations
    splits = []
    for rule in stratum.rules:
        positions = [i for i, lit in enumerate(rule.body)
                     if isinstance(lit, Atom) and lit.relation == name]
        if rule.head.arity != 2 or len(positions) > 1:
            return None
        if positions:
            split = _split(rule, positions[0])
            if split is None:
                return None
            splits.append(split)
    return TwoSidedShape(name, tuple(splits)) if splits else None


def _split(rule: Rule, position: int) -> Split | None:
    atom = rule.body[position]
    assert isinstance(atom, Atom)
    names = [arg.name if isinstance(arg, Variable) and not arg.is_wildcard else None
             for arg in (*atom.args, *rule.head.args)]
    if None in names:
        return None
    a, b, x, y = names
    if len({a, b}) < 2 or len({x, y}) < 2 or {a, x} & {b, y}:
        return None
    rest = [lit for i, lit in enumerate(rule.body) if i != position]
    if not all(isinstance(lit, Atom | Negation | Comparison) for lit in rest):
        return None  # aggregates stay on the general path
    left, right = _side(rest, {a, x}), _side(rest, {b, y})
    if set(left) & set(right) or len(left) + len(right) != len(rest):
        return None
    head_x, head_y = rule.head.args
    assert isinstance(head_x, Variable) and isinstance(head_y, Variable)
    return Split(rule, (a, tuple(rest[i] for i in left), head_x),
                 (b, tuple(rest[i] for i in right), head_y))


def _side(rest: list[Literal], seed: set[str]) -> list[int]:
    """The literals linked to `seed` through shared variables (wildcards link nothing)."""
    names, chosen, grown = set(seed), set(), True
    while grown:
        grown = False
        for i, literal in enumerate(rest):
            used = {var.name for var in literal_variables(literal) if not var.is_wildcard}
            if i not in chosen and used & names:
                chosen.add(i)
                names |= used
                grown = True
    return sorted(chosen)


def run_two_sided(shape: TwoSidedShape, store: Store) -> None:
    """Runs the stratum to its fixpoint by semi-naive rounds over the grouped relation."""
    relation = store.relations[shape.relation]
    full: Groups = {}
    for x, y in relation.rows:
        full.setdefault(x, set()).add(y)
    delta = {x: set(ys) for x, ys in full.items()}
    sides = [(_compile_side(split.left, store), _compile_side(split.right, store))
             for split in shape.splits]
    while delta:
        produced: Groups = {}
        for left, right in sides:
            _derive(delta, left, right, produced)
        delta = {}
        for x, ys in produced.items():
            known = full.get(x)
            if known is None:
                full[x] = delta[x] = ys
                continue
            ys -= known
            if ys:
                known |= ys
                delta[x] = ys
    relation.hold_grouped(full, 1)


def _derive(delta: Groups, left: Side, right: Side, produced: Groups) -> None:
    for a, bs in delta.items():
        xs = left(a)
        if not xs:
            continue
        ys: set[int] = set()
        for b in bs:
            ys |= right(b)
        if not ys:
            continue
        for x in xs:
            found = produced.get(x)
            if found is None:
                produced[x] = set(ys)
            else:
                found |= ys


def _compile_side(side: tuple[str, tuple[Literal, ...], Variable], store: Store) -> Side:
    """key -> the head values the side links it to, computed once per key."""
    bound, literals, head = side
    if head.name == bound and not literals:
        return lambda key: frozenset((key,))
    plan = plan_body(literals, outside=[head], bound=[bound],
                     size=lambda name: len(store.relations.get(name, ())))
    run: Callable[[int], set[Row]] = compile_plan(
        plan.steps, sources=store, output=[head], params=[bound])
    memo: dict[int, frozenset[int]] = {}

    def values(key: int) -> frozenset[int]:
        found = memo.get(key)
        if found is None:
            found = memo[key] = frozenset(value for (value,) in run(key))
        return found

    return values
