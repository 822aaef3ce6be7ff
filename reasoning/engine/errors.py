"""Errors raised while reading or checking a Datalog program.

Every error that points into program text carries a 1-based `line` and `column`, and repeats
them in its message, so a caller can show either the whole message or underline the spot.
"""


class DatalogError(Exception):
    """Base of every error the engine raises about a program or its input."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        # Input passed as Python data (facts=) has no position; then both stay None.
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def position(line: int, column: int) -> str:
    """The one spelling of a place in the text, shared by every message."""
    return f"line {line}, column {column}"


class DatalogSyntaxError(DatalogError):
    """The text is not a well-formed program, query or literal."""


class UnsafeRuleError(DatalogError):
    """A variable of the head, a negation or a comparison is not bound by a positive atom."""


class ArityError(DatalogError):
    """A relation is used with two different numbers of arguments."""


class StratificationError(DatalogError):
    """Negation or aggregation goes through a recursive cycle, so no stratum order exists."""


class DuplicateProductionError(DatalogError):
    """Two productions share a name, which the agenda's refraction and its reports key on."""


class FactNotFoundError(KeyError):
    """`explain()` was asked about a fact that the database does not hold."""

    def __str__(self) -> str:
        # KeyError would show the repr of its argument, quotes and escapes included.
        return str(self.args[0])
