"""Turns a join plan into one Python function, generated as source and compiled once.

A rule variant becomes a single set comprehension over tuples of ints, e.g.

    def run(D):
        return {(v0, v2) for (v0, v1) in D for v2 in G0(v1, ())}

where `G0` is the bound `get` of a hash index. A comprehension runs its loops in one frame
with no Python-level call per tuple, which is what makes pure-Python joins fast enough.
Arithmetic and ordered comparisons go through small generated helpers, because they need the
decoded values and must turn failures (division by zero, a string operand) into "no match".
"""

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .planner import Step
from .relation import Relation, key_source, tuple_source
from .symbols import IDENTITY_LIMIT, Symbols, divide, number, order_key, remainder
from .syntax import (
    Aggregate,
    Atom,
    BinaryOp,
    Comparison,
    Constant,
    Expr,
    Negation,
    Term,
    Variable,
    expr_variables,
)

# What a failed arithmetic step raises; each means the binding has no value.
ARITHMETIC_ERRORS = (ArithmeticError, TypeError, ValueError)


class Sources(Protocol):
    """Where a plan reads: positive atoms, negated atoms (complete relations), aggregates."""

    symbols: Symbols

    def positive(self, relation: str, arity: int) -> Relation: ...

    def negative(self, relation: str, arity: int) -> Relation: ...

    def grouped(self, aggregate: Aggregate, keys: tuple[str, ...]) -> Relation: ...


def same_value(left: object, right: object) -> bool:
    return type(left) is type(right) and left == right


def compile_plan(
    steps: Sequence[Step],
    *,
    sources: Sources,
    output: Sequence[Term],
    params: Sequence[str] = (),
    collect: str = "set",
) -> Callable[..., Any]:
    """A function of (`D` if a step reads the delta, then `params`) returning the outputs."""
    codegen = _Codegen(sources)
    for name in params:
        codegen.bind(name)
    for step in steps:
        codegen.step(step)
    return codegen.function(output, params, collect)


class _Codegen:
    def __init__(self, sources: Sources):
        self.sources = sources
        self.locals: dict[str, str] = {}
        self.clauses: list[str] = []
        self.uses_delta = False
        symbols = sources.symbols
        self.namespace: dict[str, object] = {
            "dec": symbols.decode, "enc": symbols.encode, "num": number, "div": divide,
            "mod": remainder, "key": order_key, "same": same_value, "L": IDENTITY_LIMIT,
            "ARITH": ARITHMETIC_ERRORS,
        }

    def bind(self, name: str) -> str:
        self.locals[name] = local = f"v{len(self.locals)}"
        return local

    def register(self, value: object, prefix: str) -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def value(self, term: Term) -> str | None:
        """The source of a bound term's id, or None while it is unbound."""
        if isinstance(term, Constant):
            return repr(self.sources.symbols.encode(term.value))
        return self.locals.get(term.name)

    def step(self, step: Step) -> None:
        literal = step.literal
        if step.kind == "scan":
            assert isinstance(literal, Atom)
            relation = self.sources.positive(literal.relation, literal.arity)
            self.atom(literal.args, relation, delta=step.delta)
        elif step.kind == "negate":
            assert isinstance(literal, Negation)
            self.negation(literal.atom)
        elif step.kind == "aggregate":
            assert isinstance(literal, Aggregate)
            self.aggregate(literal, step.keys)
        elif step.kind == "assign":
            assert isinstance(literal, Comparison) and step.target is not None
            self.assign(literal, step.target)
        else:
            assert isinstance(literal, Comparison)
            self.clauses.append(f"if {self.comparison(literal)}")

    def atom(
        self, args: Sequence[Term], relation: Relation, *, delta: bool = False, default: str = "()"
    ) -> None:
        columns, values, targets, checks = [], [], [], []
        fresh: dict[str, str] = {}
        for column, arg in enumerate(args):
            # A variable first bound by this very atom is a repeat, not a lookup key.
            bound = None if isinstance(arg, Variable) and arg.name in fresh else self.value(arg)
            if bound is not None:
                columns.append(column)
                values.append(bound)
                if delta:
                    targets.append(f"t{len(self.clauses)}_{column}")
                    checks.append(f"{targets[-1]} == {bound}")
                continue
            assert isinstance(arg, Variable)
            if arg.name in fresh:
                # A variable repeated inside one atom: read it twice, keep equal pairs.
                targets.append(f"t{len(self.clauses)}_{column}")
                checks.append(f"{targets[-1]} == {fresh[arg.name]}")
            else:
                fresh[arg.name] = self.bind(arg.name)
                targets.append(fresh[arg.name])
        self.clauses.append(self.atom_loop(relation, columns, values, targets, delta, default))
        self.clauses.extend(f"if {check}" for check in checks)

    def atom_loop(
        self, relation: Relation, columns: list[int], values: list[str], targets: list[str],
        delta: bool, default: str,
    ) -> str:
        if delta:
            self.uses_delta = True
            return f"for {tuple_source(targets)} in D"
        if not columns:
            return f"for {tuple_source(targets)} in {self.register(relation.rows, 'R')}"
        if not targets:
            return f"if {tuple_source(values)} in {self.register(relation.rows, 'R')}"
        lookup = self.register(relation.index(tuple(columns)).get, "G")
        return f"for {key_source(targets)} in {lookup}({key_source(values)}, {default})"

    def negation(self, atom: Atom) -> None:
        relation = self.sources.negative(atom.relation, atom.arity)
        columns = [i for i, arg in enumerate(atom.args) if self.value(arg) is not None]
        values = [self.value(atom.args[i]) or "" for i in columns]
        rows = self.register(relation.rows, "R")
        if len(columns) == atom.arity:
            self.clauses.append(f"if {tuple_source(values)} not in {rows}")
        elif not columns:
            # Every argument is a free `_`: true exactly when the relation is empty.
            self.clauses.append(f"if not {rows}")
        else:
            index = self.register(relation.index(tuple(columns)), "I")
            self.clauses.append(f"if {key_source(values)} not in {index}")

    def aggregate(self, literal: Aggregate, keys: tuple[str, ...]) -> None:
        grouped = self.sources.grouped(literal, keys)
        if not all(name in self.locals for name in keys):
            # Some key is bound only here: enumerate the groups that exist.
            self.atom([Variable(name) for name in keys] + [literal.result], grouped)
            return
        # Every key is bound outside the braces: count and sum over no solutions are 0.
        empty = (self.sources.symbols.encode(0),) if literal.function in ("count", "sum") else ()
        if keys:
            lookup = self.register(grouped.index(tuple(range(len(keys)))).get, "G")
            key = key_source([self.locals[name] for name in keys])
            found = f"{lookup}({key}, {empty!r})"
        else:
            found = self.register(tuple(row[-1] for row in grouped.rows) or empty, "A")
        result = self.value(literal.result)
        if result is None:
            self.clauses.append(f"for {self.bind(literal.result.name)} in {found}")
        else:
            self.clauses.append(f"if {result} in {found}")

    def assign(self, literal: Comparison, target: str) -> None:
        expr = literal.right if isinstance(literal.left, Variable) and (
            literal.left.name == target) else literal.left
        if isinstance(expr, BinaryOp):
            helper = self.helper(f"enc({self.arithmetic(expr)})", [expr], "None")
            local = self.bind(target)
            self.clauses.append(f"for {local} in ({helper},)")
            self.clauses.append(f"if {local} is not None")
            return
        source = self.value(expr)
        self.clauses.append(f"for {self.bind(target)} in ({source},)")

    def comparison(self, literal: Comparison) -> str:
        left, right = literal.left, literal.right
        if literal.op in ("=", "!=") and not isinstance(left, BinaryOp) and not isinstance(
            right, BinaryOp
        ):
            return f"{self.value(left)} {'==' if literal.op == '=' else '!='} {self.value(right)}"
        left_source, right_source = self.operand(left), self.operand(right)
        if literal.op in ("=", "!="):
            test = f"{'' if literal.op == '=' else 'not '}same({left_source}, {right_source})"
            return self.helper(test, [left, right], "False")
        test = f"key({left_source}) {literal.op} key({right_source})"
        general = self.helper(test, [left, right], "False")
        if isinstance(left, BinaryOp) or isinstance(right, BinaryOp):
            return general
        return self.int_fast_path(literal.op, left, right, general)

    def int_fast_path(self, op: str, left: Term, right: Term, general: str) -> str:
        """Compares ids directly when both are plain ints (ids below L), skipping decoding."""
        sides = [self.value(left) or "", self.value(right) or ""]
        guards = [f"{side} < L" for side in sides if not _is_plain_int(side)]
        if any(not _is_plain_int(side) and side.lstrip("-").isdigit() for side in sides):
            return general  # a constant that is no plain int: always the general case
        return f"({sides[0]} {op} {sides[1]} if {' and '.join(guards) or 'True'} else {general})"

    def operand(self, expr: Expr) -> str:
        if isinstance(expr, BinaryOp):
            return self.arithmetic(expr)
        if isinstance(expr, Constant):
            return repr(expr.value)
        return f"dec({self.locals[expr.name]})"

    def arithmetic(self, expr: Expr) -> str:
        if isinstance(expr, Variable):
            return f"num(dec({self.locals[expr.name]}))"
        if isinstance(expr, Constant):
            return f"num({expr.value!r})"
        left, right = self.arithmetic(expr.left), self.arithmetic(expr.right)
        if expr.op in ("/", "%"):
            return f"{'div' if expr.op == '/' else 'mod'}({left}, {right})"
        return f"({left} {expr.op} {right})"

    def helper(self, body: str, exprs: list[Expr], failure: str) -> str:
        """A call to a generated function computing `body`, `failure` when it has no value."""
        names = sorted({self.locals[var.name] for expr in exprs for var in expr_variables(expr)})
        source = (
            f"def helper({', '.join(names)}):\n"
            f"    try:\n        return {body}\n"
            f"    except ARITH:\n        return {failure}\n"
        )
        scope: dict[str, object] = {}
        exec(compile(source, "<datalog helper>", "exec"), self.namespace, scope)
        return f"{self.register(scope['helper'], 'F')}({', '.join(names)})"

    def function(
        self, output: Sequence[Term], params: Sequence[str], collect: str
    ) -> Callable[..., Any]:
        row = tuple_source([self.value(term) or "" for term in output])
        clauses = self.clauses if self.clauses[:1] and self.clauses[0].startswith("for") else [
            "for _ in (0,)", *self.clauses]
        opening, closing = {"set": "{}", "list": "[]", "iter": "()"}[collect]
        arguments = (["D"] if self.uses_delta else []) + [self.locals[name] for name in params]
        source = (
            f"def run({', '.join(arguments)}):\n"
            f"    return {opening}{row}\n        " + "\n        ".join(clauses) + f"{closing}\n"
        )
        scope: dict[str, object] = {}
        exec(compile(source, "<datalog rule>", "exec"), self.namespace, scope)
        run = scope["run"]
        run.source = source  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]



def _is_plain_int(source: str) -> bool:
    """True for the source of a constant id that is the int it stands for."""
    return source.lstrip("-").isdigit() and -IDENTITY_LIMIT <= int(source) < IDENTITY_LIMIT
