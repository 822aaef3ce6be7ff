"""The abstract syntax of programs, and its rendering back to Datalog text.

Positions take no part in equality, so two parses of the same text compare equal.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

Value = str | int | float

# The parser names each `_` with this prefix; no variable typed by a user can start with it.
WILDCARD_PREFIX = "_#"

AGGREGATE_FUNCTIONS = ("count", "sum", "min", "max")


@dataclass(frozen=True)
class Variable:
    name: str
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    @property
    def is_wildcard(self) -> bool:
        return self.name.startswith(WILDCARD_PREFIX)

    @property
    def is_anonymous(self) -> bool:
        """`_` and `_Name`: variables a query does not report."""
        return self.name.startswith("_")


@dataclass(frozen=True)
class Constant:
    value: Value
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


Term = Variable | Constant


@dataclass(frozen=True)
class BinaryOp:
    op: str
    left: "Expr"
    right: "Expr"


Expr = Term | BinaryOp


@dataclass(frozen=True)
class Atom:
    relation: str
    args: tuple[Term, ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)

    @property
    def arity(self) -> int:
        return len(self.args)


@dataclass(frozen=True)
class Negation:
    atom: Atom
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Expr
    right: Expr
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Aggregate:
    """`result = function target : { body }`; `target` is None for count."""

    result: Variable
    function: str
    target: Expr | None
    body: tuple["Literal", ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


Literal = Atom | Negation | Comparison | Aggregate


@dataclass(frozen=True)
class Rule:
    head: Atom
    body: tuple[Literal, ...]
    text: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Query:
    body: tuple[Literal, ...]
    text: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


FACT_ACTIONS = ("assert", "retract")
ACTION_KINDS = (*FACT_ACTIONS, "emit", "call")


@dataclass(frozen=True)
class Action:
    """`assert atom`, `retract atom`, `emit name(args)` or `call name(args)` of a production.

    `name` is the relation, event or tool; the position is that of the name.
    """

    kind: str
    name: str
    args: tuple[Term, ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Production:
    """`[@salience(N)] name: body ==> action, ... .`: when the body matches, do the actions.

    The position is that of the name, which is unique within a program.
    """

    name: str
    salience: int
    body: tuple[Literal, ...]
    actions: tuple[Action, ...]
    line: int = field(default=0, compare=False)
    column: int = field(default=0, compare=False)
    text: str = field(default="", compare=False)


class GroundFact(NamedTuple):
    """A fact of the program text; kept apart from rules because programs hold many."""

    relation: str
    row: tuple[Value, ...]
    line: int
    column: int


def expr_variables(expr: Expr | None) -> list[Variable]:
    """The variables of an expression, left to right, repeats kept."""
    if isinstance(expr, Variable):
        return [expr]
    if isinstance(expr, BinaryOp):
        return expr_variables(expr.left) + expr_variables(expr.right)
    return []


def literal_variables(literal: Literal) -> list[Variable]:
    """Every variable occurrence of a literal, aggregate bodies included."""
    if isinstance(literal, Atom):
        return [arg for arg in literal.args if isinstance(arg, Variable)]
    if isinstance(literal, Negation):
        return literal_variables(literal.atom)
    if isinstance(literal, Comparison):
        return expr_variables(literal.left) + expr_variables(literal.right)
    found = [literal.result] + expr_variables(literal.target)
    for inner in literal.body:
        found += literal_variables(inner)
    return found


def names_outside(
    aggregate: Aggregate, body: Sequence[Literal], head: Sequence[Variable]
) -> set[str]:
    """Variable names of the clause outside the braces of `aggregate` (its result included)."""
    names = {var.name for var in head}
    for literal in body:
        variables = [literal.result] if literal is aggregate else literal_variables(literal)
        names.update(var.name for var in variables)
    return names


def aggregate_keys(aggregate: Aggregate, outside: set[str]) -> tuple[str, ...]:
    """The group key: body variables that also occur outside the braces, in first-use order."""
    seen: dict[str, None] = {}
    for inner in aggregate.body:
        for var in literal_variables(inner):
            if var.name in outside:
                seen[var.name] = None
    return tuple(seen)


def render_value(value: Value) -> str:
    """A constant as it would be written in a program."""
    if isinstance(value, str):
        # JSON string syntax is the Datalog one: \\" \\\\ \\n \\t \\uXXXX; keep unicode readable.
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def render_atom(relation: str, values: tuple[str, ...]) -> str:
    return f"{relation}({', '.join(values)})" if values else relation


def render_fact(relation: str, row: tuple[Value, ...]) -> str:
    return render_atom(relation, tuple(render_value(value) for value in row))


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2}


def render_expr(expr: Expr | None, binding: dict[str, Value]) -> str:
    """An expression with the bound variables replaced by their values."""
    if isinstance(expr, Variable):
        if expr.name in binding:
            return render_value(binding[expr.name])
        return "_" if expr.is_wildcard else expr.name
    if isinstance(expr, Constant):
        return render_value(expr.value)
    if expr is None:
        return ""
    left = render_expr(expr.left, binding)
    right = render_expr(expr.right, binding)
    # Parentheses only where precedence or left associativity needs them.
    if isinstance(expr.left, BinaryOp) and _PRECEDENCE[expr.left.op] < _PRECEDENCE[expr.op]:
        left = f"({left})"
    if isinstance(expr.right, BinaryOp) and _PRECEDENCE[expr.right.op] <= _PRECEDENCE[expr.op]:
        right = f"({right})"
    return f"{left} {expr.op} {right}"


def render_literal(literal: Literal, binding: dict[str, Value]) -> str:
    """A body literal with the bound variables replaced by their values."""
    if isinstance(literal, Atom):
        return render_atom(
            literal.relation, tuple(render_expr(arg, binding) for arg in literal.args)
        )
    if isinstance(literal, Negation):
        return "not " + render_literal(literal.atom, binding)
    if isinstance(literal, Comparison):
        left = render_expr(literal.left, binding)
        return f"{left} {literal.op} {render_expr(literal.right, binding)}"
    target = f" {render_expr(literal.target, binding)}" if literal.target is not None else ""
    body = ", ".join(render_literal(inner, binding) for inner in literal.body)
    result = render_expr(literal.result, binding)
    return f"{result} = {literal.function}{target} : {{ {body} }}"


def render_action(action: Action, binding: dict[str, Value]) -> str:
    """An action with the bound variables replaced by their values: what it does, once fired."""
    args = tuple(render_expr(arg, binding) for arg in action.args)
    return f"{action.kind} {render_atom(action.name, args)}"


def render_production(production: Production) -> str:
    """A production as Datalog text, on one line."""
    salience = f"@salience({production.salience}) " if production.salience else ""
    body = ", ".join(render_literal(literal, {}) for literal in production.body)
    actions = ", ".join(render_action(action, {}) for action in production.actions)
    return f"{salience}{production.name}: {body} ==> {actions}."
