"""Base facts in and out: JSON and CSV, checked row by row, typed like Datalog constants.

JSON: `{"parent": [["tom", "bob"], ...], ...}` (what export writes), or a list of
`{"relation": "parent", "args": ["tom", "bob"]}`. CSV: one fact per line; the first column is
the relation unless the import names it; a cell that reads as an integer is an integer, as a
decimal number a float, anything else a string (JSON keeps a string such as "42" a string).
"""

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from reasoning.errors import FactsError

Value = str | int | float
Row = tuple[Value, ...]

# The issue's limit on one import; past it nothing is written.
MAX_IMPORT_ROWS = 1_000_000
# Long enough for any name or sentence a knowledge base holds; keeps rows and pages small.
MAX_STRING_CHARS = 1000
RELATION_NAME = re.compile(r"[a-z][A-Za-z0-9_]*\Z")
INTEGER = re.compile(r"[-+]?\d+\Z")
DECIMAL = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)\Z")


def relation_check(name: object, where: str) -> str:
    if not isinstance(name, str) or not RELATION_NAME.match(name):
        raise FactsError(f"{where}: {name!r} is not a relation name (a lowercase letter, then "
                         "letters, digits or _)")
    return name


def value_check(value: object, where: str) -> Value:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FactsError(f"{where}: {value!r} is not a string, integer or float")
    if isinstance(value, float) and not math.isfinite(value):
        raise FactsError(f"{where}: {value!r} is not a finite number")
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        raise FactsError(f"{where}: a string is longer than {MAX_STRING_CHARS} characters")
    return value


def row_check(relation: object, args: object, where: str) -> tuple[str, Row]:
    name = relation_check(relation, where)
    if not isinstance(args, (list, tuple)) or not args:
        raise FactsError(f"{where}: the arguments of a fact are a non-empty list")
    return name, tuple(value_check(value, where) for value in args)


def args_json(row: Row) -> str:
    """The one JSON spelling of a fact's arguments (stored, hashed and exported)."""
    return json.dumps(list(row), ensure_ascii=False, separators=(",", ":"))


def fact_digest(relation: str, text: str) -> str:
    return hashlib.md5(f"{relation}\x00{text}".encode(), usedforsecurity=False).hexdigest()


def facts_from_json(stream: IO[bytes]) -> Iterator[tuple[str, Row]]:
    try:
        data = json.load(stream)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FactsError(f"The file is not valid JSON: {exc}") from None
    return facts_from_data(data)


def facts_from_data(data: Any) -> Iterator[tuple[str, Row]]:
    """Rows from parsed JSON in either accepted shape, checked one by one."""
    if isinstance(data, dict):
        for relation, rows in data.items():
            if not isinstance(rows, list):
                raise FactsError(f"{relation}: expected a list of argument lists")
            for number, args in enumerate(rows, start=1):
                yield row_check(relation, args, f"{relation} row {number}")
    elif isinstance(data, list):
        for number, item in enumerate(data, start=1):
            if not isinstance(item, dict) or set(item) != {"relation", "args"}:
                raise FactsError(f"item {number}: expected {{\"relation\": ..., \"args\": [...]}}")
            yield row_check(item["relation"], item["args"], f"item {number}")
    else:
        raise FactsError("Expected an object {relation: [[args], ...]} or a list of "
                         "{\"relation\", \"args\"} objects")


def facts_from_csv(stream: IO[bytes], *, relation: str | None) -> Iterator[tuple[str, Row]]:
    if relation is not None:
        relation_check(relation, "relation")
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        for number, cells in enumerate(csv.reader(text), start=1):
            if not cells:
                continue
            where = f"CSV line {number}"
            if relation is None:
                yield row_check(cells[0].strip(), [_typed(c) for c in cells[1:]], where)
            else:
                yield row_check(relation, [_typed(c) for c in cells], where)
    except UnicodeDecodeError:
        raise FactsError("The CSV file is not UTF-8 text") from None
    except csv.Error as exc:
        raise FactsError(f"The CSV file is malformed: {exc}") from None
    finally:
        text.detach()


def _typed(cell: str) -> Value:
    stripped = cell.strip()
    if INTEGER.match(stripped):
        return int(stripped)
    if DECIMAL.match(stripped):
        return float(stripped)
    return cell


def rows_capped(rows: Iterable[tuple[str, Row]]) -> Iterator[tuple[str, Row]]:
    """Passes rows through, stopping with an error past the import limit."""
    for count, item in enumerate(rows, start=1):
        if count > MAX_IMPORT_ROWS:
            raise FactsError(f"An import holds at most {MAX_IMPORT_ROWS:,} facts; nothing "
                             "was imported")
        yield item


def facts_csv_lines(rows: Iterable[tuple[str, list[Value]]]) -> Iterator[str]:
    """CSV text, one fact per line with the relation first: the import reads it back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for relation, args in rows:
        writer.writerow([relation, *args])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def facts_json_chunks(rows: Iterable[tuple[str, list[Value]]]) -> Iterator[str]:
    """`{"relation": [[args], ...], ...}` in pieces, from rows sorted by relation."""
    current = None
    yield "{"
    for relation, args in rows:
        if relation != current:
            opening = "" if current is None else "],"
            yield f"{opening}\n{json.dumps(relation)}: [\n"
            current = relation
        else:
            yield ",\n"
        yield json.dumps(args, ensure_ascii=False)
    yield "\n}\n" if current is None else "]\n}\n"


def facts_from_upload(upload: IO[bytes], *, relation: str | None,
                      format: str = "") -> Iterator[tuple[str, Row]]:
    """Rows of an uploaded file; the format is given, or told by the name's extension."""
    name = (getattr(upload, "name", "") or "").lower()
    chosen = format.lower() or ("json" if name.endswith(".json") else
                                "csv" if name.endswith(".csv") else "")
    if chosen not in ("csv", "json"):
        raise FactsError("Say whether the file is CSV or JSON (format=csv|json, or a .csv / "
                         ".json file name)")
    if chosen == "json":
        if relation:
            raise FactsError("A JSON file names the relation of each fact; leave relation "
                             "empty")
        return facts_from_json(upload)
    return facts_from_csv(upload, relation=relation)


def facts_export_response(rule_set: Any, *, format: str, relation: str = "") -> Any:
    """The rule set's base facts as a streamed JSON or CSV download."""
    from django.http import StreamingHttpResponse

    from reasoning.selectors import facts_rows

    if format not in ("csv", "json"):
        raise FactsError(f"Unknown export format {format!r}; use csv or json")
    rows = facts_rows(rule_set=rule_set, relation=relation)
    chunks = facts_csv_lines(rows) if format == "csv" else facts_json_chunks(rows)
    media = "text/csv" if format == "csv" else "application/json"
    response = StreamingHttpResponse(chunks, content_type=f"{media}; charset=utf-8")
    stem = f"{rule_set.name}-{relation}" if relation else rule_set.name
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "facts"
    response["Content-Disposition"] = f'attachment; filename="{safe}.{format}"'
    return response
