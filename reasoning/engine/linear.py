"""The fast path for linear recursion on a binary relation, such as transitive closure.

In `path(X, Z) :- edge(X, Y), path(Y, Z).` the delta atom's Z goes to the head untouched:
it is "carried". Grouping the delta by its other column, {Y: {Z, ...}}, the rest of the body
runs once per Y instead of once per (Y, Z), and the carried values move as whole sets whose
union and difference run in C. On dense recursion (a random graph's closure) this does a few
thousand Python steps per round where the tuple-at-a-time plan does millions.

On sparse recursion (a chain) every group holds one value and grouping only adds overhead,
so a stratum starts with the ordinary plan and switches once the delta groups well.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .analysis import Stratum
from .compiler import compile_plan
from .planner import plan_body
from .relation import Groups, Row
from .store import Store
from .syntax import Atom, Rule, Variable, literal_variables

# Switch when a delta has at least this many rows, and on average this many per group: below
# that the per-group Python work costs about what the per-row work it replaces did.
MIN_DELTA_ROWS = 256
MIN_ROWS_PER_GROUP = 4


@dataclass(frozen=True)
class LinearShape:
    relation: str
    carried: int  # the column carried unchanged from the delta atom to the head
    rules: tuple[tuple[Rule, int], ...]  # each recursive rule with its delta atom's position


def linear_shape(stratum: Stratum) -> LinearShape | None:
    """The shape when every recursive rule of a one-relation stratum fits the fast path."""
    if len(stratum.relations) != 1:
        return None
    (name,) = stratum.relations
    rules: list[tuple[Rule, int]] = []
    carried: set[int] = {0, 1}
    for rule in stratum.rules:
        positions = [i for i, lit in enumerate(rule.body)
                     if isinstance(lit, Atom) and lit.relation == name]
        if len(positions) > 1 or rule.head.arity != 2:
            return None
        if positions:
            atom = rule.body[positions[0]]
            assert isinstance(atom, Atom)
            carried &= {c for c in (0, 1) if _carries(rule, atom, c)}
            rules.append((rule, positions[0]))
    if not carried or not rules:
        return None
    return LinearShape(name, min(carried), tuple(rules))


def _carries(rule: Rule, atom: Atom, column: int) -> bool:
    carried, key = atom.args[column], atom.args[1 - column]
    if not isinstance(carried, Variable) or not isinstance(key, Variable):
        return False
    occurrences = [var for var in literal_variables(rule.head) if var.name == carried.name]
    for literal in rule.body:
        occurrences += [var for var in literal_variables(literal) if var.name == carried.name]
    return (
        key.name != carried.name
        and rule.head.args[column] == carried
        and len(occurrences) == 2
    )


def groups_well(shape: LinearShape, delta: set[Row]) -> bool:
    if len(delta) < MIN_DELTA_ROWS:
        return False
    key = 1 - shape.carried
    return len(delta) >= MIN_ROWS_PER_GROUP * len({row[key] for row in delta})


def run_grouped(shape: LinearShape, store: Store, delta_rows: set[Row]) -> None:
    """Runs the stratum to its fixpoint from `delta_rows`, holding the relation grouped."""
    relation = store.relations[shape.relation]
    full = _group(relation.rows, shape.carried)
    delta = _group(delta_rows, shape.carried)
    relation.hold_grouped(full, shape.carried)
    rests = [_compile_rest(rule, position, shape.carried, store) for rule, position in shape.rules]
    while delta:
        produced: Groups = {}
        for rest in rests:
            for key, values in delta.items():
                for (head_key,) in rest(key):
                    found = produced.get(head_key)
                    if found is None:
                        produced[head_key] = values.copy()
                    else:
                        found |= values
        delta = {}
        for head_key, values in produced.items():
            known = full.get(head_key)
            if known is None:
                full[head_key] = values
            else:
                values -= known
                if not values:
                    continue
                known |= values
            delta[head_key] = values


def _group(rows: set[Row], carried: int) -> Groups:
    groups: Groups = {}
    key = 1 - carried
    for row in rows:
        found = groups.get(row[key])
        if found is None:
            groups[row[key]] = {row[carried]}
        else:
            found.add(row[carried])
    return groups


def _compile_rest(
    rule: Rule, position: int, carried: int, store: Store
) -> Callable[..., list[Row]]:
    """The body without its delta atom, as a function of the delta key to head keys."""
    atom = rule.body[position]
    assert isinstance(atom, Atom)
    key = atom.args[1 - carried]
    assert isinstance(key, Variable)
    head_key = rule.head.args[1 - carried]
    rest = rule.body[:position] + rule.body[position + 1:]
    outside = [head_key] if isinstance(head_key, Variable) else []
    plan = plan_body(rest, outside=outside, bound=[key.name],
                     size=lambda name: len(store.relations.get(name, ())))
    return compile_plan(
        plan.steps, sources=store, output=[head_key], params=[key.name], collect="list"
    )
