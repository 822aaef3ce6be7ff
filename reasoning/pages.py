"""What the rule set page shows, and the answer to a request for one of its parts.

`reasoning/rule_set.html` is one page of named parts (editor, versions, facts, runs, query).
An htmx request for a part gets that partial; a plain request for the same URL gets the whole
page showing it, so every link and form also works without JavaScript.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import render

from oagweb.selectors import team_can_write
from oagweb.views import HtmxHttpRequest
from reasoning import selectors, services
from reasoning.models import RuleSet, RuleSetVersion

PAGE = "reasoning/rule_set.html"
# The latest runs the page lists: enough to compare a few versions, short enough to read.
RUNS_SHOWN = 10


@dataclass(frozen=True)
class Bar:
    """One bar of a small chart: a relation's count and its share of the longest bar."""

    label: str
    count: int
    percent: float


def bars(counts: dict[str, int]) -> list[Bar]:
    longest = max(counts.values(), default=0) or 1
    return [Bar(name, count, max(100 * count / longest, 0.5) if count else 0)
            for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def args_text(args: Sequence[object]) -> str:
    """A fact's arguments as Datalog writes them: strings quoted, numbers bare."""
    return ", ".join(json.dumps(value, ensure_ascii=False) for value in args)


def page_number(params: QueryDict) -> int:
    value = params.get("page", "")
    return int(value) if value.isdigit() else 1


def editor_context(*, source: str, latest: RuleSetVersion) -> dict[str, Any]:
    """The editor showing `source`, checked: the status line and the marked gutter line."""
    check = services.program_check(source)
    return {"source": source, "check": check,
            "lines": range(1, source.count("\n") + 2), "next_number": latest.number + 1}


def facts_context(rule_set: RuleSet, params: QueryDict) -> dict[str, Any]:
    relation, search = params.get("relation", ""), params.get("search", "")
    page = selectors.fact_page(rule_set=rule_set, relation=relation, search=search,
                               page=page_number(params))
    counts = selectors.fact_counts([rule_set.pk]).get(rule_set.pk, {})
    filters = {key: value for key, value in (("relation", relation), ("search", search))
               if value}
    return {"facts": page, "fact_rows": [(fact, args_text(fact.args)) for fact in page],
            "fact_relation": relation, "fact_search": search, "fact_query": urlencode(filters),
            "fact_relations": [(name, arity, counts.get(name, 0))
                               for name, arity in sorted(rule_set.relations.items())]}


def runs_context(rule_set: RuleSet) -> dict[str, Any]:
    runs = list(selectors.inference_run_list(rule_set=rule_set)
                .select_related("job__created_by")[:RUNS_SHOWN])
    return {"runs": [(run, bars(run.counts)) for run in runs]}


def versions_listed(rule_set: RuleSet) -> QuerySet[RuleSetVersion]:
    return selectors.rule_set_version_list(rule_set=rule_set).select_related("created_by")


def rule_set_basics(request: HtmxHttpRequest, rule_set: RuleSet) -> dict[str, Any]:
    """What every part needs: the rule set and whether to offer its write actions."""
    return {"rule_set": rule_set, "team": rule_set.team,
            "can_write": team_can_write(user=request.user, team_id=rule_set.team_id)}


def rule_set_context(request: HtmxHttpRequest, rule_set: RuleSet) -> dict[str, Any]:
    latest = selectors.rule_set_version_latest(rule_set=rule_set)
    return {**rule_set_basics(request, rule_set), "latest": latest,
            "versions": versions_listed(rule_set),
            **editor_context(source=latest.source, latest=latest),
            **facts_context(rule_set, request.GET), **runs_context(rule_set)}


def part_response(request: HtmxHttpRequest, rule_set: RuleSet, part: str,
                  context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The part alone for htmx, else the page showing it.

    htmx 2 does not swap a 4xx answer, so the part always comes back as 200; a plain request
    that failed gets the page with `status`."""
    if request.htmx:
        return render(request, f"{PAGE}#{part}", {**rule_set_basics(request, rule_set),
                                                  **context})
    return render(request, PAGE, {**rule_set_context(request, rule_set), **context},
                  status=status)
