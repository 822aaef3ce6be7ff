"""Splits Datalog text into tokens that know their line, column and offset.

`%` is both Prolog's comment and Soufflé's modulo: it is the operator when it follows an
operand (a variable, a number or `)`) on the same line, and starts a comment otherwise.

One master regular expression matches every token kind at once, so that a large block of
facts lexes at C speed rather than character by character.
"""

import re
from typing import NamedTuple

from .errors import DatalogSyntaxError, position

_TOKEN = re.compile(
    r"""
      (?P<blank>[ \t\r\n]+|%[^\n]*|//[^\n]*|/\*.*?\*/)
    | (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>:-|\?-|==>|!=|<=|>=|[(),.!=<>+\-*/%:{}@])
    """,
    re.VERBOSE | re.DOTALL,
)
# A whole ground fact of ints and plain strings, tried where a clause starts: programs are
# mostly such facts, and one match per fact is several times cheaper than one per token.
_SIMPLE = r'(?:-?\d+|"[^"\\\n]*")'
_FACT = re.compile(
    rf"([a-z][A-Za-z0-9_]*)\(((?:[ \t]*{_SIMPLE}[ \t]*,)*[ \t]*{_SIMPLE}[ \t]*)\)[ \t]*\."
)
_FACT_ARG = re.compile(r'-?\d+|"([^"]*)"')
_PIECE = re.compile(
    r"(?P<text>[^\\]+)|\\(?P<escape>u[0-9a-fA-F]{4}|[\"\\/ntrbf])|(?P<bad>\\.?)", re.DOTALL
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class Token(NamedTuple):
    # "ident", "variable", "wildcard", "string", "number", "punct", "fact" or "end"
    kind: str
    text: str
    value: object
    line: int
    column: int
    start: int
    end: int

    def describe(self) -> str:
        return "end of input" if self.kind == "end" else repr(self.text)


def tokenize(text: str, *, facts: bool = True) -> list[Token]:
    """All tokens of `text`, ending with one "end" token; `facts` allows "fact" tokens."""
    tokens: list[Token] = []
    line, line_start, offset = 1, 0, 0
    match = _TOKEN.match
    clause_start = facts
    while offset < len(text):
        fact = _FACT.match(text, offset) if clause_start else None
        if fact is not None:
            tokens.append(_fact_token(fact, line, offset - line_start + 1))
            offset = fact.end()
            continue
        found = match(text, offset)
        if found is None or (found.lastgroup == "punct" and text.startswith("/*", offset)):
            _raise_lexical(text, offset, line, line_start)
        assert found is not None
        kind, end = found.lastgroup, found.end()
        if kind == "blank" and text[offset] == "%" and _follows_operand(tokens, line):
            kind, end = "punct", offset + 1
        if kind == "blank":
            newlines = text.count("\n", offset, end)
            if newlines:
                line += newlines
                line_start = text.rindex("\n", offset, end) + 1
        else:
            token_text = text[offset:end]
            kind, value = _classify(kind, token_text, line, offset - line_start + 1)
            tokens.append(
                Token(kind, token_text, value, line, offset - line_start + 1, offset, end)
            )
            clause_start = facts and token_text == "."
        offset = end
    tokens.append(Token("end", "", None, line, offset - line_start + 1, offset, offset))
    return tokens


def _follows_operand(tokens: list[Token], line: int) -> bool:
    """`%` is the modulo operator right after an operand on the same line, else a comment."""
    if not tokens or tokens[-1].line != line:
        return False
    return tokens[-1].kind in ("variable", "number") or tokens[-1].text == ")"


def _fact_token(fact: re.Match[str], line: int, column: int) -> Token:
    inner = fact.group(2)
    if '"' in inner:
        values = tuple(
            arg.group(1) if arg.group(1) is not None else int(arg.group())
            for arg in _FACT_ARG.finditer(inner)
        )
    else:
        values = tuple(map(int, inner.split(",")))  # int() ignores the spaces around
    value = (fact.group(1), values)
    return Token("fact", fact.group(), value, line, column, fact.start(), fact.end())


def _classify(kind: str | None, text: str, line: int, column: int) -> tuple[str, object]:
    if kind == "name":
        if text == "_":
            return "wildcard", text
        return ("ident" if text[0].islower() else "variable"), text
    if kind == "number":
        is_float = "." in text or "e" in text or "E" in text
        return kind, float(text) if is_float else int(text)
    if kind == "string":
        return kind, _unescape(text, line, column)
    return "punct", text


def _unescape(literal: str, line: int, column: int) -> str:
    body = literal[1:-1]
    if "\\" not in body:
        return body
    parts: list[str] = []
    for piece in _PIECE.finditer(body):
        if piece.lastgroup == "text":
            parts.append(piece.group())
        elif piece.lastgroup == "escape":
            code = piece.group("escape")
            parts.append(chr(int(code[1:], 16)) if code[0] == "u" else _ESCAPES[code])
        else:
            where = column + 1 + piece.start()
            raise DatalogSyntaxError(
                f"invalid escape {piece.group()!r} in string at {position(line, where)}",
                line=line,
                column=where,
            )
    result = "".join(parts)
    try:
        # \uD83D\uDE00 is how JSON spells one character beyond the BMP: join such pairs.
        return result.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return result


def _raise_lexical(text: str, offset: int, line: int, line_start: int) -> None:
    column = offset - line_start + 1
    if text.startswith("/*", offset):
        message = "unterminated comment"
    elif text[offset] == '"':
        message = "unterminated string"
    else:
        message = f"unexpected character {text[offset]!r}"
    raise DatalogSyntaxError(
        f"{message} at {position(line, column)}", line=line, column=column
    )
