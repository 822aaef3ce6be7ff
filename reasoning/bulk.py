"""Writing many fact rows at once: COPY on PostgreSQL, batched inserts elsewhere.

Callers run these inside a transaction, so a failure leaves nothing half-written.
"""

import json
import math
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from django.db import connection, transaction

from reasoning.errors import FactsError
from reasoning.facts_io import Row, Value, args_json, fact_digest
from reasoning.models import DerivedFact, Fact, InferenceRun

# Rows per batch where COPY is not available (the embedded SQLite database of `make run`).
BATCH_ROWS = 5000


def facts_insert(*, rule_set_id: int, rows: Iterable[tuple[str, Row]]) -> int:
    """Adds base facts, skipping those already there; returns how many were new."""
    if connection.vendor == "postgresql":
        return _facts_copy(rule_set_id, rows)
    before = Fact.objects.filter(rule_set_id=rule_set_id).count()
    for batch in _batches(rows):
        Fact.objects.bulk_create(
            [Fact(rule_set_id=rule_set_id, relation=relation, args=list(row),
                  digest=fact_digest(relation, args_json(row))) for relation, row in batch],
            ignore_conflicts=True,
        )
    return Fact.objects.filter(rule_set_id=rule_set_id).count() - before


def _facts_copy(rule_set_id: int, rows: Iterable[tuple[str, Row]]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE reasoning_fact_incoming "
            "(relation text, args jsonb, digest text) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY reasoning_fact_incoming FROM STDIN") as copy:
            for chunk in _copy_chunks(_fact_lines(rows)):
                copy.write(chunk)
        cursor.execute(
            "INSERT INTO reasoning_fact (rule_set_id, relation, args, digest) "
            "SELECT %s, relation, args, digest FROM reasoning_fact_incoming "
            "ON CONFLICT (rule_set_id, digest) DO NOTHING",
            [rule_set_id],
        )
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE reasoning_fact_incoming")
    return inserted


def _fact_lines(rows: Iterable[tuple[str, Row]]) -> Iterator[str]:
    for relation, row in rows:
        text = args_json(row)
        yield f"{relation}\t{_copy_escape(text)}\t{fact_digest(relation, text)}\n"


def derived_facts_write(
    *, run_id: int, relations: dict[str, Iterable[Row]], total: int,
    progress: Callable[[int, int], None], summary: Callable[[], dict[str, Any]],
) -> None:
    """Writes a run's derived rows, then its `summary()` fields, all in one transaction.

    On PostgreSQL that transaction has a connection of its own, so the progress the job saves
    meanwhile (`progress(written, total)`) commits and shows live.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            written = 0
            for batch in _batches(_derived_rows(relations)):
                DerivedFact.objects.bulk_create(
                    [DerivedFact(run_id=run_id, relation=relation, args=list(row))
                     for relation, row in batch])
                written += len(batch)
                progress(written, total)
            InferenceRun.objects.filter(pk=run_id).update(**summary())
        return
    own = connection.get_new_connection(connection.get_connection_params())
    try:
        with own.cursor() as cursor:
            with cursor.copy("COPY reasoning_derivedfact (run_id, relation, args) FROM STDIN") \
                    as copy:
                written = 0
                for chunk in _copy_chunks(_derived_lines(run_id, relations)):
                    copy.write(chunk)
                    written += chunk.count("\n")
                    progress(written, total)
            fields = summary()
            cursor.execute(
                "UPDATE reasoning_inferencerun SET counts = %s::jsonb, derived_count = %s, "
                "base_count = %s, duration_seconds = %s, firing_count = %s, "
                "firings = %s::jsonb WHERE id = %s",
                [json.dumps(fields["counts"]), fields["derived_count"], fields["base_count"],
                 fields["duration_seconds"], fields["firing_count"],
                 json.dumps(fields["firings"]), run_id])
        own.commit()
    finally:
        own.close()  # without the commit above, this rolls everything back


def _derived_rows(relations: dict[str, Iterable[Row]]) -> Iterator[tuple[str, Row]]:
    for relation, rows in relations.items():
        for row in rows:
            yield relation, row


def _derived_lines(run_id: int, relations: dict[str, Iterable[Row]]) -> Iterator[str]:
    for relation, rows in relations.items():
        rows = iter(rows)
        first = next(rows, None)
        if first is not None:
            lines = _line_writer(len(first))
            yield from lines(f"{run_id}\t{relation}\t", (first,))
            yield from lines(f"{run_id}\t{relation}\t", rows)


def _copy_value(value: Value) -> str:
    """A value as JSON, escaped for COPY's text format (json.dumps spells it the same)."""
    if type(value) is str:
        return _copy_escape(encode_basestring(value))
    if type(value) is float and not math.isfinite(value):
        raise FactsError(f"A rule derived {value!r}, which cannot be stored as JSON")
    return repr(value)


@cache
def _line_writer(arity: int) -> Callable[[str, Iterable[Row]], Iterator[str]]:
    # One f-string per row with no inner loop: three times faster than json.dumps per row,
    # which is most of the time of writing a million rows.
    names = [f"c{i}" for i in range(arity)]
    cells = ",".join(f"{{J({name})}}" for name in names)
    source = (
        "def lines(prefix, rows):\n"
        f"    for ({', '.join(names)},) in rows:\n"
        f"        yield f'{{prefix}}[{cells}]\\n'\n"
    )
    namespace: dict[str, Any] = {"J": _copy_value}
    exec(compile(source, f"<copy lines {arity}>", "exec"), namespace)
    return namespace["lines"]


def _copy_escape(text: str) -> str:
    # JSON text has no raw tab or newline (json.dumps escapes them); only the backslashes of
    # its escapes must be doubled for COPY's text format.
    return text.replace("\\", "\\\\") if "\\" in text else text


# About 1 MB per write: few round trips, bounded memory.
_CHUNK_LINES = 20_000


def _copy_chunks(lines: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= _CHUNK_LINES:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


def _batches(rows: Iterable[tuple[str, Row]]) -> Iterator[list[tuple[str, Row]]]:
    batch: list[tuple[str, Row]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch
