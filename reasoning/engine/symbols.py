"""Interning of constants to ints, and the meaning of arithmetic and order on them.

Evaluation works on tuples of ints only. An int constant inside +-2**62 is its own id, so
integer data (graph nodes, counts, ids from a database) needs no translation in or out.
Strings, floats and larger ints get ids from 2**62 upwards through a table. Keying floats
apart keeps `1` and `1.0` distinct constants, which Python's `1 == 1.0` would otherwise merge.

Arithmetic follows Soufflé and C: int / int truncates toward zero and `%` takes the sign of
the dividend (-7 / 2 = -3, -7 % 2 = -1); any float operand gives float arithmetic. Division by
zero, or arithmetic on a string, has no value: the rule instance simply does not fire.
Order (< <= > >=) is total: numbers compare by value and sort before strings, which compare
by code point. Equality (= !=) is identity of constants: 1 != 1.0.
"""

import math
from collections.abc import Callable, Iterable

from .syntax import Value

IDENTITY_LIMIT = 2**62


class Symbols:
    """The two-way map between constants and the ints that stand for them."""

    def __init__(self) -> None:
        self._ids: dict[object, int] = {}
        self._values: list[Value] = []

    @property
    def is_identity(self) -> bool:
        """True while every id is the int it stands for, so decoding can be skipped."""
        return not self._values

    def encode(self, value: Value) -> int:
        kind = type(value)
        if kind is int and -IDENTITY_LIMIT <= value < IDENTITY_LIMIT:  # type: ignore[operator]
            return value  # type: ignore[return-value]
        if kind is str:
            key: object = value
        elif kind is float or kind is int:
            key = (kind.__name__, value)
        else:
            raise TypeError(
                f"Datalog constants are str, int or float, not {kind.__name__}: {value!r}"
            )
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = IDENTITY_LIMIT + len(self._values)
            self._values.append(value)
        return found

    def lookup(self, value: Value) -> int | None:
        """The id of a constant already seen, or None; never grows the table."""
        if type(value) is int and -IDENTITY_LIMIT <= value < IDENTITY_LIMIT:
            return value
        key = value if type(value) is str else (type(value).__name__, value)
        return self._ids.get(key)

    def decode(self, ident: int) -> Value:
        return ident if ident < IDENTITY_LIMIT else self._values[ident - IDENTITY_LIMIT]

    def encode_row(self, row: Iterable[Value]) -> tuple[int, ...]:
        return tuple(map(self.encode, row))

    def decode_rows(self, rows: Iterable[tuple[int, ...]]) -> frozenset[tuple[Value, ...]]:
        values, limit = self._values, IDENTITY_LIMIT
        return frozenset(
            tuple(v if v < limit else values[v - limit] for v in row) for row in rows
        )


def order_key(value: Value) -> tuple[int, Value]:
    """The total order of constants: numbers by value, then strings."""
    return (1, value) if isinstance(value, str) else (0, value)


def number(value: Value) -> int | float:
    """The operand of arithmetic; a string has no arithmetic value."""
    if isinstance(value, str):
        raise TypeError("arithmetic on a string")
    return value


def divide(left: int | float, right: int | float) -> int | float:
    if type(left) is int and type(right) is int:
        quotient = abs(left) // abs(right)
        return quotient if (left < 0) == (right < 0) else -quotient
    return left / right


def remainder(left: int | float, right: int | float) -> int | float:
    if type(left) is int and type(right) is int:
        return left - right * divide(left, right)
    return math.fmod(left, right)


OPERATORS: dict[str, Callable[[int | float, int | float], int | float]] = {
    "+": lambda left, right: left + right,
    "-": lambda left, right: left - right,
    "*": lambda left, right: left * right,
    "/": divide,
    "%": remainder,
}
