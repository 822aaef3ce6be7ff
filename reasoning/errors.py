"""Errors of the reasoning app; interfaces map them through ApplicationError."""

from oagweb.errors import ApplicationError


class ReasoningError(ApplicationError):
    pass


class FactsError(ReasoningError):
    """Facts that cannot be read or stored: the message names the row."""


class ProgramError(ReasoningError):
    """The rule source is not a valid program; line and column point at the defect."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column

    def body(self) -> dict[str, object]:
        return {"detail": self.message, "line": self.line, "column": self.column}


class TooLarge(ReasoningError):
    status_code = 413


class QueryLimitError(ReasoningError):
    """A query hit its time budget or row cap: valid, but not answerable as asked."""

    status_code = 422
