"""The inference job: evaluate a rule set version over its facts, persist what it derives.

It runs in a Celery worker through the job pattern (oagweb.jobs). The derived rows are
written in one transaction, so a failed or cancelled run leaves none behind.
"""

import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from oagweb.errors import ApplicationError
from oagweb.jobs import JobKind, JobProgress
from oagweb.models import Job
from reasoning import bulk
from reasoning.engine import ArityError, Database, DatalogError, Firing, Program, Session
from reasoning.models import InferenceRun
from reasoning.selectors import facts_load
from reasoning.services import INFERENCE_KIND, program_parse

# Shares of the progress bar: loading facts, evaluating, writing the derived rows.
LOAD_SHARE, EVALUATE_SHARE = 0.1, 0.5
# A run stops production rules after this many firings (a rule that re-triggers itself), and
# keeps the first ones in detail for the run page.
MAX_FIRINGS, KEPT_FIRINGS = 100_000, 200


def inference_params_parse(params: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(params.get("rule_set_id"), int) or not isinstance(params.get("version"),
                                                                        int):
        raise ApplicationError("An inference job needs rule_set_id and version (integers)")
    return {"rule_set_id": params["rule_set_id"], "version": params["version"]}


def inference_run_execute(job: Job, progress: JobProgress) -> dict[str, Any]:
    run = InferenceRun.objects.select_related("rule_set", "version").get(job=job)
    started = time.monotonic()
    program = program_parse(run.version.source)
    progress(0.0, "Loading facts")
    facts = facts_load(rule_set=run.rule_set)
    base_count = sum(map(len, facts.values())) + sum(map(len, program.facts.values()))
    progress(LOAD_SHARE, f"Evaluating over {base_count:,} base facts")
    try:
        model, firings = _model(run, program, facts, progress)
    except ArityError as exc:
        raise ApplicationError(f"The facts do not fit the rules: {exc.message}") from None
    except DatalogError as exc:
        raise ApplicationError(exc.message) from None
    counts = {name: model.count(name) for name in _written_relations(program)}
    total = sum(counts.values())

    def written(done: int, total: int) -> None:
        progress(LOAD_SHARE + EVALUATE_SHARE + (1 - LOAD_SHARE - EVALUATE_SHARE) * done / total,
                 f"Saved {done:,} of {total:,} derived facts")

    def summary() -> dict[str, Any]:
        return {"counts": counts, "derived_count": total, "base_count": base_count,
                "duration_seconds": time.monotonic() - started, "firing_count": len(firings),
                "firings": [_firing_data(firing) for firing in firings[:KEPT_FIRINGS]]}

    relations = {name: model.relation(name) for name in counts}
    bulk.derived_facts_write(run_id=run.pk, relations=relations, total=total, progress=written,
                             summary=summary)
    seconds = time.monotonic() - started
    fired = f"; {len(firings):,} productions fired" if firings else ""
    return {"message": f"Derived {total:,} facts in {len(counts)} relations in {seconds:.1f} s"
                       f"{fired}", "run_id": run.pk, "counts": counts}


def _model(run: InferenceRun, program: Program, facts: dict,
           progress: JobProgress) -> tuple[Database | Session, list[Firing]]:
    """The evaluated model; with production rules, a session after firing them."""
    if not program.productions:
        return program.evaluate(facts, progress=lambda done, total: progress(
            LOAD_SHARE + EVALUATE_SHARE * done / total,
            f"Evaluated stratum {done} of {total}")), []
    from agents.tool_functions import tool_functions

    names = {action.name for production in program.productions
             for action in production.actions if action.kind == "call"}
    session = program.session(facts, tools=tool_functions(team_id=run.team_id, names=names))
    progress(LOAD_SHARE + EVALUATE_SHARE / 2, "Firing production rules")
    firings = session.fire(limit=MAX_FIRINGS)
    if session.pending():
        raise ApplicationError(f"The production rules fired {MAX_FIRINGS:,} times and still "
                               "had matches waiting: a rule probably re-triggers itself")
    return session, firings


def _written_relations(program: Program) -> list[str]:
    """What rules define, and what productions assert or retract."""
    acted = {action.name for production in program.productions
             for action in production.actions if action.kind in ("assert", "retract")}
    return sorted({*program.derived_relations, *acted})


def _firing_data(firing: Firing) -> dict[str, Any]:
    return {"production": firing.production, "bindings": firing.bindings,
            "events": [{"name": e.name, "values": list(e.values)} for e in firing.events],
            "calls": [{"tool": c.tool, "args": list(c.args), "result": _short(c.result),
                       "error": c.error} for c in firing.calls]}


def _short(result: object) -> str | None:
    return None if result is None else str(result)[:500]


INFERENCE_JOB = JobKind(
    name=INFERENCE_KIND, label=_("Inference run"), params_parse=inference_params_parse,
    run=inference_run_execute,
)
