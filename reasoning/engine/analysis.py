"""Static checks and stratification, all done before any evaluation.

Arity: every use of a relation has the number of arguments of its first use.
Safety: see planner.py; an aggregate body must also bind its own group keys and target.
Stratification: relations are grouped into strongly connected components of the
"head depends on body" graph; a negated or aggregated dependency inside a component has no
stratified meaning and is reported with the cycle that makes it so.
Productions share the arity and safety checks (their actions play the part of a head) but not
stratification: they act between evaluations, never inside one.
"""

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .errors import (
    ArityError,
    DuplicateProductionError,
    StratificationError,
    UnsafeRuleError,
    position,
)
from .graphs import strongly_connected
from .planner import plan_body, unbound_variables
from .syntax import (
    FACT_ACTIONS,
    Aggregate,
    Atom,
    Literal,
    Negation,
    Production,
    Query,
    Rule,
    Variable,
    aggregate_keys,
    expr_variables,
    literal_variables,
    names_outside,
)


@dataclass
class Stratum:
    relations: set[str]
    rules: list[Rule] = field(default_factory=list)
    recursive: bool = False


def atoms_of(literals: Iterable[Literal]) -> Iterator[Atom]:
    """Every atom of the literals, negated ones and those inside aggregates included."""
    for literal in literals:
        if isinstance(literal, Atom):
            yield literal
        elif isinstance(literal, Negation):
            yield literal.atom
        elif isinstance(literal, Aggregate):
            yield from atoms_of(literal.body)


Use = tuple[str, int, int, int]  # relation, arity, line, column
Arities = dict[str, tuple[int, int | None, int | None]]  # arity, line and column of first use
Clause = Rule | Query | Production


def clause_uses(clause: Clause) -> list[Use]:
    """Every use of a relation in a clause: head, body, then the facts a production changes."""
    heads = [clause.head] if isinstance(clause, Rule) else []
    uses = [(a.relation, a.arity, a.line, a.column) for a in heads + list(atoms_of(clause.body))]
    if isinstance(clause, Production):
        # emit and call name events and tools, not relations: their arity is their own affair.
        uses += [
            (action.name, len(action.args), action.line, action.column)
            for action in clause.actions
            if action.kind in FACT_ACTIONS
        ]
    return uses


def check_arities(uses: Iterable[Use], arities: Arities) -> None:
    """Records the arity of each relation at its first use; `arities` is updated in place."""
    for relation, arity, line, column in uses:
        known_arity, known_line, known_column = arities.setdefault(relation, (arity, line, column))
        if known_arity != arity:
            first = ""
            # Facts passed to evaluate() have no place in the text to point to.
            if known_line is not None and known_column is not None:
                first = f" at {position(known_line, known_column)}"
            raise ArityError(
                f"relation {relation} is used with arity {arity} at {position(line, column)} "
                f"but with arity {known_arity}{first}",
                line=line,
                column=column,
            )


def check_safety(clause: Clause) -> None:
    head = _outside_variables(clause)
    plan = plan_body(clause.body, outside=head)
    problems = unbound_variables(plan, head)
    if problems:
        var, where = problems[0]
        # The planner calls whatever lies outside the body "the head"; here it is an action.
        if isinstance(clause, Production) and where == "the head":
            where = "an action"
        _raise_unsafe(clause, var, where)
    for literal in clause.body:
        if isinstance(literal, Aggregate):
            _check_aggregate(clause, literal, head)


def _outside_variables(clause: Clause) -> list[Variable]:
    """The variables the body must bind: a rule's head, a production's action arguments.

    Every argument of every action must be bound, so `retract p(X, _)` is unsafe: a retract
    removes one fact, never a pattern of them (match the fact in the body instead).
    """
    if isinstance(clause, Rule):
        return literal_variables(clause.head)
    if isinstance(clause, Production):
        return [
            arg for action in clause.actions for arg in action.args if isinstance(arg, Variable)
        ]
    return []


def check_production_names(productions: Iterable[Production]) -> None:
    """Each production name is used once: the agenda and its reports know them by name."""
    seen: dict[str, Production] = {}
    for production in productions:
        first = seen.setdefault(production.name, production)
        if first is not production:
            where = position(production.line, production.column)
            raise DuplicateProductionError(
                f"production {production.name} at {where} is already defined at "
                f"{position(first.line, first.column)}",
                line=production.line,
                column=production.column,
            )


def _check_aggregate(clause: Clause, aggregate: Aggregate, head: list[Variable]) -> None:
    inner = [var for lit in aggregate.body for var in literal_variables(lit)]
    if aggregate.result.name in {var.name for var in inner}:
        _raise_unsafe(clause, aggregate.result, "its own aggregate")
    keys = aggregate_keys(aggregate, names_outside(aggregate, clause.body, head))
    # The body must bind its keys and target by itself: it is evaluated once, on its own.
    outside = [var for var in inner if var.name in keys] + expr_variables(aggregate.target)
    problems = unbound_variables(plan_body(aggregate.body, outside=outside), outside)
    if problems:
        _raise_unsafe(clause, problems[0][0], "an aggregate")


def _raise_unsafe(clause: Clause, var: Variable, where: str) -> None:
    name = "_" if var.is_wildcard else var.name
    kind = {Rule: "rule", Query: "query", Production: "production"}[type(clause)]
    raise UnsafeRuleError(
        f"unsafe {kind} '{clause.text}': variable {name} in {where} is not bound by a "
        f"positive atom at {position(var.line, var.column)}",
        line=var.line,
        column=var.column,
    )


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    label: str  # "" for a positive dependency, "not", or the aggregate function
    rule: Rule
    literal: Literal


def stratify(rules: list[Rule]) -> list[Stratum]:
    """The strata of the rules, each one after every stratum it reads from."""
    edges = [edge for rule in rules for edge in _edges(rule)]
    nodes = list(dict.fromkeys([r.head.relation for r in rules] + [e.target for e in edges]))
    successors: dict[str, list[_Edge]] = {node: [] for node in nodes}
    for edge in edges:
        successors[edge.source].append(edge)
    targets = {node: [edge.target for edge in successors[node]] for node in nodes}
    components = strongly_connected(nodes, targets.__getitem__)
    component_of = {node: i for i, comp in enumerate(components) for node in comp}
    strata = [Stratum(set(component)) for component in components]
    for edge in edges:
        if component_of[edge.source] == component_of[edge.target]:
            if edge.label:
                _raise_cycle(edge, successors, components[component_of[edge.source]])
            strata[component_of[edge.source]].recursive = True
    for rule in rules:
        strata[component_of[rule.head.relation]].rules.append(rule)
    return [stratum for stratum in strata if stratum.rules]


def _edges(rule: Rule) -> Iterator[_Edge]:
    head = rule.head.relation
    for literal in rule.body:
        if isinstance(literal, Atom):
            yield _Edge(head, literal.relation, "", rule, literal)
        elif isinstance(literal, Negation):
            yield _Edge(head, literal.atom.relation, "not", rule, literal)
        elif isinstance(literal, Aggregate):
            for atom in atoms_of(literal.body):
                yield _Edge(head, atom.relation, literal.function, rule, literal)


def _raise_cycle(edge: _Edge, successors: dict[str, list[_Edge]], component: list[str]) -> None:
    path = _shortest_path(edge.target, edge.source, successors, set(component))
    steps = [edge.source, f"{edge.label} {edge.target}"]
    steps += [f"{step.label} {step.target}".strip() for step in path]
    literal = edge.literal
    kind = "negation" if edge.label == "not" else "aggregation"
    raise StratificationError(
        f"cannot stratify rule '{edge.rule.text}': {kind} inside the recursive cycle "
        f"{' -> '.join(steps)} at {position(literal.line, literal.column)}",
        line=literal.line,
        column=literal.column,
    )


def _shortest_path(
    start: str, goal: str, successors: dict[str, list[_Edge]], allowed: set[str]
) -> list[_Edge]:
    """The edges of a shortest path from start to goal inside one component (breadth first)."""
    came_from: dict[str, _Edge | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for edge in successors[node]:
            if edge.target in allowed and edge.target not in came_from:
                came_from[edge.target] = edge
                queue.append(edge.target)
    path: list[_Edge] = []
    node = goal
    while came_from[node] is not None:
        step = came_from[node]
        assert step is not None
        path.append(step)
        node = step.source
    return path[::-1]
