"""Reads and access checks for rule sets, their versions, facts and inference runs."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.http import Http404

from oagweb.models import Team
from oagweb.selectors import team_object_get
from reasoning.models import DerivedFact, Fact, InferenceRun, RuleSet, RuleSetVersion

# Rows per page of the facts tables and of the API's fact listings.
PAGE_ROWS = 50


def rule_set_get_for_user(*, user: AbstractBaseUser, id: int, write: bool = False) -> RuleSet:
    return team_object_get(RuleSet.objects.select_related("team"), user=user, id=id,
                           write=write, label="rule set")


def inference_run_get_for_user(
    *, user: AbstractBaseUser, id: int, write: bool = False
) -> InferenceRun:
    queryset = InferenceRun.objects.select_related("rule_set", "version", "job")
    return team_object_get(queryset, user=user, id=id, write=write, label="inference run")


def rule_set_list(*, team: Team) -> QuerySet[RuleSet]:
    return team.rule_sets.all()


def rule_set_rows(*, team: Team) -> list[RuleSet]:
    """The team's rule sets with their latest version number, last run status and fact
    counts (`fact_counts`: sorted (relation, count) pairs)."""
    last_status = (InferenceRun.objects.filter(rule_set=OuterRef("pk"))
                   .order_by("-created_at", "-id").values("job__status")[:1])
    rule_sets = list(rule_set_list(team=team).annotate(
        latest_number=Max("versions__number"), last_run_status=Subquery(last_status)))
    counts = fact_counts(rule_set.pk for rule_set in rule_sets)
    for rule_set in rule_sets:
        rule_set.fact_counts = sorted(counts.get(rule_set.pk, {}).items())
    return rule_sets


def fact_counts(rule_set_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Base facts per relation of each rule set (one grouped count over the fact index)."""
    counted: dict[int, dict[str, int]] = {}
    rows = (Fact.objects.filter(rule_set_id__in=list(rule_set_ids))
            .values_list("rule_set_id", "relation").annotate(n=Count("id")).order_by())
    for rule_set_id, relation, count in rows:
        counted.setdefault(rule_set_id, {})[relation] = count
    return counted


def rule_set_version_latest(*, rule_set: RuleSet, source: bool = True) -> RuleSetVersion:
    """The latest version; with source=False its text is read only if something uses it."""
    versions = rule_set.versions.all() if source else rule_set.versions.defer("source")
    version = versions.first()
    if version is None:  # every rule set is created with version 1
        raise Http404("This rule set has no version")
    return version


def rule_set_version_get(*, rule_set: RuleSet, number: int) -> RuleSetVersion:
    version = rule_set.versions.filter(number=number).first()
    if version is None:
        raise Http404(f"No version {number} of this rule set")
    return version


def rule_set_version_list(*, rule_set: RuleSet) -> QuerySet[RuleSetVersion]:
    return rule_set.versions.defer("source")


def fact_page(*, rule_set: RuleSet, relation: str = "", search: str = "",
              page: int = 1) -> Page:
    return _page(rule_set.facts.all(), relation=relation, search=search, page=page)


def _page(facts: QuerySet, *, relation: str, search: str, page: int) -> Page:
    if relation:
        facts = facts.filter(relation=relation)
    if search.strip():
        # Arguments are JSON: matching their text finds a value in any column.
        facts = facts.annotate(text=Cast("args", TextField())).filter(
            text__icontains=search.strip())
    return Paginator(facts.only("id", "relation", "args"), PAGE_ROWS).get_page(page)


def facts_rows(*, rule_set: RuleSet, relation: str = ""):
    """(relation, args) of every base fact, streamed by relation, then as inserted."""
    facts = rule_set.facts.all()
    if relation:
        facts = facts.filter(relation=relation)
    return facts.order_by("relation", "id").values_list("relation", "args").iterator(
        chunk_size=20_000)


def facts_load(*, rule_set: RuleSet) -> dict[str, list[tuple]]:
    """Every base fact, grouped by relation, as tuples: what the engine takes."""
    grouped: dict[str, list[tuple]] = {}
    for relation, args in facts_rows(rule_set=rule_set):
        grouped.setdefault(relation, []).append(tuple(args))
    return grouped


def inference_run_list(*, rule_set: RuleSet) -> QuerySet[InferenceRun]:
    return rule_set.runs.select_related("job", "version")


def inference_run_latest(*, rule_set: RuleSet) -> InferenceRun | None:
    return inference_run_list(rule_set=rule_set).first()


def derived_fact_page(*, run: InferenceRun, relation: str = "", search: str = "",
                      page: int = 1) -> Page:
    return _page(DerivedFact.objects.filter(run=run), relation=relation, search=search,
                 page=page)
