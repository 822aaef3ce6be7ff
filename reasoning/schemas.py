from datetime import datetime
from typing import Any

from ninja import Field, Schema

Value = str | int | float


class RuleSetIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = ""
    source: str = Field("", description="Datalog source of version 1 (may be empty).")


class RuleSetPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None


class RuleSetOut(Schema):
    id: int
    team_id: int
    name: str
    description: str
    relations: dict[str, int] = Field(..., description="Base-fact relations and their arity.")
    facts_revision: int
    created_at: datetime
    updated_at: datetime


class VersionIn(Schema):
    source: str


class VersionOut(Schema):
    number: int
    created_at: datetime
    created_by_id: int | None


class VersionDetailOut(VersionOut):
    source: str


class ProgramErrorOut(Schema):
    detail: str
    line: int | None = None
    column: int | None = None


class ValidationOut(Schema):
    valid: bool
    error: ProgramErrorOut | None = None
    rules: int = 0
    facts: int = 0
    relations: dict[str, int] = Field(default_factory=dict)


class FactIn(Schema):
    relation: str
    args: list[Value]


class FactOut(Schema):
    id: int
    relation: str
    args: list[Value]


class FactPageOut(Schema):
    count: int
    page: int
    pages: int
    items: list[FactOut]


class FactsImportedOut(Schema):
    received: int
    added: int
    facts_revision: int


class RunOut(Schema):
    id: int
    rule_set_id: int
    version: int = Field(..., alias="version.number")
    job_id: int
    status: str = Field(..., alias="job.status")
    progress: float = Field(..., alias="job.progress")
    message: str = Field(..., alias="job.message")
    error: str = Field(..., alias="job.error")
    base_count: int
    derived_count: int
    counts: dict[str, int]
    firing_count: int
    firings: list[dict[str, Any]] = Field(..., description="The first 200 firings in detail.")
    duration_seconds: float | None
    created_at: datetime


class QueryIn(Schema):
    query: str = Field(..., min_length=1, max_length=10_000,
                       description='e.g. ancestor("tom", X)')
    limit: int | None = Field(None, ge=1, le=100_000)


class QueryOut(Schema):
    version: int
    columns: list[str]
    rows: list[list[Value]]


class ExplainIn(Schema):
    relation: str
    args: list[Value]


class ProofOut(Schema):
    fact: str
    rule: str | None
    kind: str
    relation: str | None
    row: list[Value] | None
    height: int
    premises: list["ProofOut"]


ProofOut.model_rebuild()


def fact_page_out(page: Any) -> dict[str, Any]:
    return {"count": page.paginator.count, "page": page.number,
            "pages": page.paginator.num_pages, "items": list(page.object_list)}
