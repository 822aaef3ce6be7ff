"""Tools every agent may use out of the box: the current time and a safe calculator."""

import ast
import math
import operator
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agents.runtime.tools import Tool

# A model writes arithmetic, not programs: 500 characters is plenty and bounds parse time.
MAX_EXPRESSION_CHARS = 500
# The evaluator recurses once per level. A sum of 250 one-digit terms (the most that fits in
# MAX_EXPRESSION_CHARS) is 250 levels deep and fine; deeper can only be a run of unary signs.
MAX_DEPTH = 250
# 10 000 bits is about 3 000 decimal digits: far beyond useful answers, yet each operation on
# such numbers still takes microseconds. `9**9**9` would need about 1.2 billion bits.
MAX_INT_BITS = 10_000
MAX_EXPONENT = 10_000

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _round(value: Number, digits: Number = 0) -> Number:
    if not isinstance(digits, int) or abs(digits) > 100:
        raise ValueError("digits must be a whole number between -100 and 100")
    return round(value, digits) if digits else round(value)


_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt, "abs": abs, "round": _round, "min": lambda *values: min(values),
    "max": lambda *values: max(values),
    "floor": math.floor, "ceil": math.ceil, "exp": math.exp, "log": math.log,
    "log10": math.log10, "sin": math.sin, "cos": math.cos, "tan": math.tan,
}


class CalculatorTool(Tool):
    name = "calculator"
    description = (
        "Evaluate an arithmetic expression exactly. Supports numbers, + - * / // % **, "
        "parentheses, the constants pi and e, and the functions "
        + ", ".join(sorted(_FUNCTIONS)) + "."
    )

    def execute(self, expression: str) -> str:
        """Evaluate an arithmetic expression.

        Args:
            expression: The expression, for example "(3 + 4) * 2 ** 10 / sqrt(16)".
        """
        return format_number(calculate(expression))


def calculate(expression: str) -> Number:
    """The value of an arithmetic expression; ValueError says what is wrong with it."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not a valid arithmetic expression: {exc.msg}") from None
    except ValueError as exc:  # null bytes in the source
        raise ValueError(f"not a valid arithmetic expression: {exc}") from None
    try:
        value = _evaluate(tree.body, depth=0)
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except OverflowError:
        raise ValueError("the result is too large") from None
    return value


def format_number(value: Number) -> str:
    if isinstance(value, float):
        # 15 significant digits hide binary noise: 0.1 + 0.2 reads 0.3, not 0.30000000000000004.
        return format(value, ".15g")
    return str(value)


def _evaluate(node: ast.expr, *, depth: int) -> Number:
    if depth > MAX_DEPTH:
        raise ValueError(f"the expression is nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.Name):
        if node.id not in _CONSTANTS:
            raise ValueError(f"unknown name {node.id!r}; known constants: "
                             + ", ".join(sorted(_CONSTANTS)))
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand, depth=depth + 1))
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, depth=depth + 1)
        right = _evaluate(node.right, depth=depth + 1)
        return _checked(_binary(node.op, left, right))
    if isinstance(node, ast.Call):
        return _checked(_call(node, depth=depth))
    raise ValueError(f"{_describe(node)} is not allowed in an arithmetic expression")


def _constant(value: object) -> Number:
    # bool is an int subclass; True + True is not arithmetic a user meant to write.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _checked(value)
    raise ValueError(f"{value!r} is not a number")


def _binary(op: ast.operator, left: Number, right: Number) -> Number:
    if isinstance(op, ast.Pow):
        return _power(left, right)
    if type(op) not in _BINARY:
        raise ValueError(f"the operator {type(op).__name__} is not allowed")
    return _BINARY[type(op)](left, right)


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        # Checked before computing: the estimate is what stops 9**9**9 from hanging the worker.
        if max(base.bit_length() - 1, 0) * exponent > MAX_INT_BITS:
            raise ValueError("the result is too large")
    result = base**exponent
    if isinstance(result, complex):
        raise ValueError("a negative number to a fractional power has no real value")
    return result


def _call(node: ast.Call, *, depth: int) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
        raise ValueError(f"unknown function {ast.unparse(node.func)!r}; known functions: "
                         + ", ".join(sorted(_FUNCTIONS)))
    if node.keywords or not node.args:
        raise ValueError(f"{node.func.id}() takes one or more numbers, without keywords")
    args = [_evaluate(arg, depth=depth + 1) for arg in node.args]
    try:
        return _FUNCTIONS[node.func.id](*args)
    except TypeError as exc:
        raise ValueError(f"{node.func.id}(): {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{node.func.id}(): {exc}") from None


def _checked(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ValueError("the result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("the result is not a finite number")
    return value


def _describe(node: ast.AST) -> str:
    return f"'{ast.unparse(node)}'" if isinstance(node, ast.expr) else type(node).__name__


class CurrentTimeTool(Tool):
    name = "current_time"
    description = "Get the current date and time, in UTC or in a given IANA time zone."

    def execute(self, timezone: str | None = None) -> str:
        """Tell the current time.

        Args:
            timezone: An IANA time zone name such as "Asia/Shanghai"; UTC when left out.
        """
        zone = _zone(timezone or "UTC")
        now = datetime.now(zone)
        return f"{now.isoformat(timespec='seconds')} ({now:%A}, {zone.key})"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as "
                         "'Asia/Shanghai' or 'Europe/Paris'") from None


BUILTIN_TOOLS: tuple[type[Tool], ...] = (CurrentTimeTool, CalculatorTool)
