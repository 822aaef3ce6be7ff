"""The fast path for linear recursion on a binary relation, such as transitive closure.

In `path(X, Z) :- edge(X, Y), path(Y, Z).` the recursive atom's Z goes to the head untouched:
it is "carried". Grouping the relation by its other column, {Y: {Z, ...}}, the rule only says
that X gets all the values of Y for each X that the rest of the body links to Y. The fixpoint
is then a closure over a graph of keys, computed in one pass over its strongly connected
components (run_closure), with the values moving as whole sets whose unions run in C: no
semi-naive rounds, and no Python step per derived fact.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .analysis import Stratum
from .compiler import compile_plan
from .graphs import strongly_connected
from .planner import plan_body
from .relation import Groups, Row
from .store import Store
from .syntax import Atom, Rule, Variable, literal_variables


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


def run_closure(shape: LinearShape, store: Store) -> None:
    """Runs the stratum to its fixpoint, holding the relation grouped by its key column.

    With the relation grouped as {key: carried values}, each recursive rule says "the values
    of key Y also belong to every head key X in rest(Y)". So the fixpoint is a closure over
    the graph X -> Y of those edges: every X gets its own values plus those of every Y it
    reaches. Found in one pass: the strongly connected components in dependency order
    (Tarjan's algorithm), each given the union of its members' values and those of the
    components it points to. The Python work is one rest() call and a few steps per key;
    the values move as whole sets, unioned in C, and no round is repeated.
    """
    relation = store.relations[shape.relation]
    full = _group(relation.rows, shape.carried)
    rests = [_compile_rest(rule, position, shape.carried, store) for rule, position in shape.rules]
    needs = _dependency_graph(full, rests)
    for component in strongly_connected(needs, lambda key: needs.get(key, ())):
        values: set[int] = set()
        for key in component:
            values |= full.get(key, _EMPTY)
            for other in needs.get(key, ()):
                values |= full.get(other, _EMPTY)
        for key in component:
            # The members of a component share one set: nothing mutates it from here on.
            full[key] = values
    relation.hold_grouped(full, shape.carried)


_EMPTY: frozenset[int] = frozenset()


def _dependency_graph(
    full: Groups, rests: list[Callable[..., list[Row]]]
) -> dict[int, list[int]]:
    """X -> [Y, ...] for every head key X that takes the values of a key Y, from every key
    that can hold values: those grouped at the start and every head key found on the way."""
    needs: dict[int, list[int]] = {}
    pending = list(full)
    seen = set(pending)
    while pending:
        key = pending.pop()
        for rest in rests:
            for (head_key,) in rest(key):
                needs.setdefault(head_key, []).append(key)
                if head_key not in seen:
                    seen.add(head_key)
                    pending.append(head_key)
    return needs


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
