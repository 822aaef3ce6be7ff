"""Writes of the reasoning app: rule sets, their versions, base facts, inference runs."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F

from oagweb import jobs
from oagweb.errors import Conflict
from oagweb.models import Team
from reasoning import bulk
from reasoning.engine import DatalogError, Program
from reasoning.errors import FactsError, ProgramError, ReasoningError, TooLarge
from reasoning.facts_io import Row, facts_from_upload, rows_capped
from reasoning.models import InferenceRun, RuleSet, RuleSetVersion
from reasoning.selectors import rule_set_version_latest

# The limit on a rule source, in bytes of UTF-8.
MAX_SOURCE_BYTES = 10 * 1024 * 1024
INFERENCE_KIND = "reasoning.inference"
NAME_CHARS = RuleSet._meta.get_field("name").max_length


def program_parse(source: str) -> Program:
    """The checked program of a source, or ProgramError / TooLarge saying what is wrong."""
    size = len(source.encode())
    if size > MAX_SOURCE_BYTES:
        raise TooLarge(f"The rule source is {size / 1024 / 1024:.1f} MB; the limit is "
                       f"{MAX_SOURCE_BYTES // 1024 // 1024} MB")
    try:
        return Program.parse(source)
    except DatalogError as exc:
        raise ProgramError(exc.message, line=exc.line, column=exc.column) from None


@dataclass(frozen=True)
class ProgramCheck:
    """What the editor shows while typing: the error, or what the program holds."""

    error: ProgramError | TooLarge | None = None
    rules: int = 0
    facts: int = 0
    relations: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.error is None


def program_check(source: str) -> ProgramCheck:
    try:
        program = program_parse(source)
    except (ProgramError, TooLarge) as exc:
        return ProgramCheck(error=exc)
    return ProgramCheck(rules=len(program.rules), relations=program.arities,
                        facts=sum(map(len, program.facts.values())))


def rule_set_create(*, user: AbstractBaseUser, team: Team, name: str, description: str = "",
                    source: str = "") -> RuleSet:
    """Creates a rule set with its first version (the source is checked first)."""
    name = _name_check(name)
    program_parse(source)
    try:
        with transaction.atomic():
            rule_set = RuleSet.objects.create(
                team=team, name=name, description=description, created_by=user)
            RuleSetVersion.objects.create(
                rule_set=rule_set, number=1, source=source, created_by=user)
    except IntegrityError:
        raise Conflict(f"The team already has a rule set named {name!r}") from None
    return rule_set


def _name_check(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= NAME_CHARS:
        raise ReasoningError(f"A rule set needs a name of 1 to {NAME_CHARS} characters")
    return name


def rule_set_update(*, rule_set: RuleSet, name: str | None = None,
                    description: str | None = None) -> RuleSet:
    if name is not None:
        rule_set.name = _name_check(name)
    if description is not None:
        rule_set.description = description
    try:
        with transaction.atomic():
            rule_set.save(update_fields=["name", "description", "updated_at"])
    except IntegrityError:
        raise Conflict(f"The team already has a rule set named {rule_set.name!r}") from None
    return rule_set


def rule_set_delete(*, rule_set: RuleSet) -> None:
    """Deletes the rule set with its versions, facts and runs."""
    rule_set.delete()


def rule_set_version_save(*, user: AbstractBaseUser, rule_set: RuleSet,
                          source: str) -> RuleSetVersion:
    """Saves the source as the next version, unless it equals the latest one."""
    program_parse(source)
    with transaction.atomic():
        locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        latest = rule_set_version_latest(rule_set=locked)
        if latest.source == source:
            return latest
        version = RuleSetVersion.objects.create(
            rule_set=locked, number=latest.number + 1, source=source, created_by=user)
        RuleSet.objects.filter(pk=locked.pk).update(updated_at=version.created_at)
    return version


@dataclass(frozen=True)
class FactsImported:
    received: int
    added: int


def facts_import(*, rule_set: RuleSet, rows: Iterable[tuple[str, Row]]) -> FactsImported:
    """Adds base facts in one transaction (all or nothing); duplicates are skipped."""
    counted = _Counted(rows_capped(rows))
    with transaction.atomic():
        locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        arities = _known_arities(locked)
        added = bulk.facts_insert(rule_set_id=locked.pk,
                                  rows=_arity_checked(counted, arities, locked.relations))
        if added:
            RuleSet.objects.filter(pk=locked.pk).update(
                relations=locked.relations, facts_revision=F("facts_revision") + 1)
    rule_set.refresh_from_db(fields=["relations", "facts_revision"])
    return FactsImported(received=counted.count, added=added)


def facts_import_file(*, rule_set: RuleSet, upload: IO[bytes], relation: str | None = None,
                      format: str = "") -> FactsImported:
    """Imports a CSV or JSON file (format given, or told by its name), all or nothing."""
    rows = facts_from_upload(upload, relation=relation, format=format)
    return facts_import(rule_set=rule_set, rows=rows)


def _known_arities(rule_set: RuleSet) -> dict[str, int]:
    """Arities the facts must keep: the stored facts', then the latest program's."""
    program = program_parse(rule_set_version_latest(rule_set=rule_set).source)
    arities = dict(program.arities)
    arities.update(rule_set.relations)
    return arities


def _arity_checked(rows: Iterable[tuple[str, Row]], arities: dict[str, int],
                   stored: dict[str, int]) -> Iterator[tuple[str, Row]]:
    for relation, row in rows:
        known = arities.setdefault(relation, len(row))
        if known != len(row):
            raise FactsError(f"{relation} takes {known} arguments, but the fact "
                             f"{relation}{row!r} has {len(row)}; nothing was imported")
        stored.setdefault(relation, known)
        yield relation, row


class _Counted:
    def __init__(self, rows: Iterable[tuple[str, Row]]):
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[tuple[str, Row]]:
        for item in self._rows:
            self.count += 1
            yield item


def facts_delete(*, rule_set: RuleSet, relation: str | None = None) -> int:
    """Deletes the base facts of one relation, or all with None; returns how many."""
    if relation == "":
        raise FactsError("Name the relation whose facts to delete")
    with transaction.atomic():
        locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        facts = locked.facts.all()
        if relation is not None:
            facts = facts.filter(relation=relation)
        deleted, _ = facts.delete()
        relations = {} if relation is None else {
            name: arity for name, arity in locked.relations.items() if name != relation}
        RuleSet.objects.filter(pk=locked.pk).update(
            relations=relations, facts_revision=F("facts_revision") + 1)
    rule_set.refresh_from_db(fields=["relations", "facts_revision"])
    return deleted


def inference_run_start(*, user: AbstractBaseUser, rule_set: RuleSet) -> InferenceRun:
    """Creates a run of the latest version as a job; the worker evaluates and persists it."""
    version = rule_set_version_latest(rule_set=rule_set)
    with transaction.atomic():
        job = jobs.job_start(user=user, team=rule_set.team, kind=INFERENCE_KIND,
                             params={"rule_set_id": rule_set.pk, "version": version.number})
        return InferenceRun.objects.create(
            team=rule_set.team, rule_set=rule_set, version=version, job=job,
            facts_revision=rule_set.facts_revision)
