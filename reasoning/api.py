"""REST endpoints of the reasoning app: rule sets, versions, facts, inference runs, queries."""

from django.http import HttpRequest
from ninja import File, Form, Router, Status, UploadedFile

from oagweb import selectors as core_selectors
from oagweb.router import ERRORS
from oagweb.schemas import ErrorOut
from reasoning import facts_io, knowledge, selectors, services
from reasoning.schemas import (
    ExplainIn,
    FactIn,
    FactPageOut,
    FactsImportedOut,
    ProofOut,
    QueryIn,
    QueryOut,
    RuleSetIn,
    RuleSetOut,
    RuleSetPatch,
    RunOut,
    ValidationOut,
    VersionDetailOut,
    VersionIn,
    VersionOut,
    fact_page_out,
)

router = Router(tags=["reasoning"])
ERRORS_BIG = {**ERRORS, 413: ErrorOut}
ERRORS_QUERY = {**ERRORS, 422: ErrorOut}


def _rule_set(request: HttpRequest, rule_set_id: int, *, write: bool = False):
    return selectors.rule_set_get_for_user(user=request.user, id=rule_set_id, write=write)


# ---------------------------------------------------------------- rule sets and versions

@router.get("/teams/{team_id}/rule-sets", response={200: list[RuleSetOut], **ERRORS},
            operation_id="rule_set_list")
def rule_set_list(request: HttpRequest, team_id: int):
    team = core_selectors.team_get_for_user(user=request.user, id=team_id)
    return selectors.rule_set_list(team=team)


@router.post("/teams/{team_id}/rule-sets", response={201: RuleSetOut, **ERRORS_BIG},
             operation_id="rule_set_create")
def rule_set_create(request: HttpRequest, team_id: int, payload: RuleSetIn):
    """Creates a rule set; its source becomes version 1 (400 with line and column if invalid)."""
    team = core_selectors.team_get_for_user(user=request.user, id=team_id, write=True)
    return Status(201, services.rule_set_create(user=request.user, team=team, **payload.dict()))


@router.get("/rule-sets/{rule_set_id}", response={200: RuleSetOut, **ERRORS},
            operation_id="rule_set_get")
def rule_set_get(request: HttpRequest, rule_set_id: int):
    return _rule_set(request, rule_set_id)


@router.patch("/rule-sets/{rule_set_id}", response={200: RuleSetOut, **ERRORS},
              operation_id="rule_set_update")
def rule_set_update(request: HttpRequest, rule_set_id: int, payload: RuleSetPatch):
    rule_set = _rule_set(request, rule_set_id, write=True)
    return services.rule_set_update(rule_set=rule_set, **payload.dict(exclude_unset=True))


@router.delete("/rule-sets/{rule_set_id}", response={204: None, **ERRORS},
               operation_id="rule_set_delete")
def rule_set_delete(request: HttpRequest, rule_set_id: int):
    services.rule_set_delete(rule_set=_rule_set(request, rule_set_id, write=True))
    return Status(204, None)


@router.get("/rule-sets/{rule_set_id}/versions", response={200: list[VersionOut], **ERRORS},
            operation_id="rule_set_version_list")
def rule_set_version_list(request: HttpRequest, rule_set_id: int):
    return selectors.rule_set_version_list(rule_set=_rule_set(request, rule_set_id))


@router.post("/rule-sets/{rule_set_id}/versions",
             response={201: VersionDetailOut, **ERRORS_BIG}, operation_id="rule_set_version_create")
def rule_set_version_create(request: HttpRequest, rule_set_id: int, payload: VersionIn):
    """Saves the source as the next version; an invalid one answers 400 with line and column."""
    rule_set = _rule_set(request, rule_set_id, write=True)
    return Status(201, services.rule_set_version_save(
        user=request.user, rule_set=rule_set, source=payload.source))


@router.get("/rule-sets/{rule_set_id}/versions/{number}",
            response={200: VersionDetailOut, **ERRORS}, operation_id="rule_set_version_get")
def rule_set_version_get(request: HttpRequest, rule_set_id: int, number: int):
    return selectors.rule_set_version_get(rule_set=_rule_set(request, rule_set_id),
                                          number=number)


@router.post("/rule-sets/{rule_set_id}/validate", response={200: ValidationOut, **ERRORS_BIG},
             operation_id="rule_set_validate")
def rule_set_validate(request: HttpRequest, rule_set_id: int, payload: VersionIn):
    """Checks a source without saving it: valid, or the error with its line and column."""
    _rule_set(request, rule_set_id)
    check = services.program_check(payload.source)
    return {"valid": check.valid, "error": check.error.body() if check.error else None,
            "rules": check.rules, "facts": check.facts, "relations": check.relations}


# ---------------------------------------------------------------- facts

@router.get("/rule-sets/{rule_set_id}/facts", response={200: FactPageOut, **ERRORS},
            operation_id="fact_list")
def fact_list(request: HttpRequest, rule_set_id: int, relation: str = "", search: str = "",
              page: int = 1):
    """Base facts, 50 per page, optionally of one relation or containing a text."""
    page_ = selectors.fact_page(rule_set=_rule_set(request, rule_set_id), relation=relation,
                                search=search, page=page)
    return fact_page_out(page_)


def _imported(rule_set, result) -> dict:
    return {"received": result.received, "added": result.added,
            "facts_revision": rule_set.facts_revision}


@router.post("/rule-sets/{rule_set_id}/facts", response={201: FactsImportedOut, **ERRORS_BIG},
             operation_id="fact_create_bulk")
def fact_create_bulk(request: HttpRequest, rule_set_id: int, payload: list[FactIn]):
    """Adds facts given as JSON, all or none; duplicates are skipped. Large sets: import."""
    rule_set = _rule_set(request, rule_set_id, write=True)
    rows = facts_io.facts_from_data([fact.dict() for fact in payload])
    return Status(201, _imported(rule_set, services.facts_import(rule_set=rule_set, rows=rows)))


@router.post("/rule-sets/{rule_set_id}/facts/import",
             response={201: FactsImportedOut, **ERRORS_BIG}, operation_id="fact_import")
def fact_import(request: HttpRequest, rule_set_id: int, file: File[UploadedFile],
                relation: Form[str] = "", format: Form[str] = ""):
    """Imports a CSV or JSON file of up to 1,000,000 facts, all or none (see the README)."""
    rule_set = _rule_set(request, rule_set_id, write=True)
    result = services.facts_import_file(rule_set=rule_set, upload=file,
                                        relation=relation or None, format=format)
    return Status(201, _imported(rule_set, result))


@router.get("/rule-sets/{rule_set_id}/facts/export", response={200: None, **ERRORS},
            operation_id="fact_export")
def fact_export(request: HttpRequest, rule_set_id: int, format: str = "json",
                relation: str = ""):
    """Every base fact (of one relation if given) as JSON or CSV, in a form import reads."""
    rule_set = _rule_set(request, rule_set_id)
    return facts_io.facts_export_response(rule_set, format=format, relation=relation)


@router.delete("/rule-sets/{rule_set_id}/facts", response={200: dict, **ERRORS},
               operation_id="fact_delete")
def fact_delete(request: HttpRequest, rule_set_id: int, relation: str = ""):
    """Deletes the base facts, or those of one relation."""
    rule_set = _rule_set(request, rule_set_id, write=True)
    return {"deleted": services.facts_delete(rule_set=rule_set, relation=relation or None)}


# ---------------------------------------------------------------- runs, queries, proofs

@router.get("/rule-sets/{rule_set_id}/runs", response={200: list[RunOut], **ERRORS},
            operation_id="inference_run_list")
def inference_run_list(request: HttpRequest, rule_set_id: int):
    return selectors.inference_run_list(rule_set=_rule_set(request, rule_set_id))


@router.post("/rule-sets/{rule_set_id}/runs", response={202: RunOut, **ERRORS},
             operation_id="inference_run_create")
def inference_run_create(request: HttpRequest, rule_set_id: int):
    """Starts an inference run of the latest version as a job; follow it on /inference-runs."""
    rule_set = _rule_set(request, rule_set_id, write=True)
    return Status(202, services.inference_run_start(user=request.user, rule_set=rule_set))


@router.get("/inference-runs/{run_id}", response={200: RunOut, **ERRORS},
            operation_id="inference_run_get")
def inference_run_get(request: HttpRequest, run_id: int):
    return selectors.inference_run_get_for_user(user=request.user, id=run_id)


@router.get("/inference-runs/{run_id}/facts", response={200: FactPageOut, **ERRORS},
            operation_id="derived_fact_list")
def derived_fact_list(request: HttpRequest, run_id: int, relation: str = "", search: str = "",
                      page: int = 1):
    """The facts the run derived, 50 per page, optionally of one relation or with a text."""
    run = selectors.inference_run_get_for_user(user=request.user, id=run_id)
    page_ = selectors.derived_fact_page(run=run, relation=relation, search=search, page=page)
    return fact_page_out(page_)


@router.post("/rule-sets/{rule_set_id}/query", response={200: QueryOut, **ERRORS_QUERY},
             operation_id="rule_set_query")
def rule_set_query(request: HttpRequest, rule_set_id: int, payload: QueryIn):
    """Answers a query over the latest version and the current facts (422 past its limits)."""
    answer = knowledge.rule_set_query(rule_set=_rule_set(request, rule_set_id),
                                      text=payload.query, limit=payload.limit)
    return {"version": answer.version, "columns": answer.columns, "rows": answer.rows}


@router.post("/rule-sets/{rule_set_id}/explain", response={200: ProofOut, **ERRORS_QUERY},
             operation_id="rule_set_explain")
def rule_set_explain(request: HttpRequest, rule_set_id: int, payload: ExplainIn):
    """A shallowest proof tree of a fact; base facts are its leaves (404 if it does not hold)."""
    return knowledge.rule_set_explain(rule_set=_rule_set(request, rule_set_id),
                                      relation=payload.relation, args=payload.args)
