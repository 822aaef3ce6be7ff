from datetime import datetime
from typing import Any

from ninja import Field, Schema

from oagweb.models import Role


class ErrorOut(Schema):
    detail: Any


class UserOut(Schema):
    id: int
    username: str


class TeamIn(Schema):
    name: str = Field(..., max_length=100)


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    created_at: datetime


class MembershipIn(Schema):
    username: str
    role: Role = Role.MEMBER


class MembershipPatch(Schema):
    role: Role


class MembershipOut(Schema):
    id: int
    user: UserOut
    role: Role
    created_at: datetime


class MeOut(Schema):
    id: int
    username: str
    memberships: list["MyMembershipOut"]


class MyMembershipOut(Schema):
    team: TeamOut
    role: Role


class ApiTokenIn(Schema):
    name: str = Field(..., max_length=100)


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreatedOut(ApiTokenOut):
    token: str = Field(..., description="The secret. Shown only in this response.")


class PingJobIn(Schema):
    team_id: int
    seconds: float = Field(3, ge=0, le=120)
    fail: bool = False


class JobOut(Schema):
    id: int
    team_id: int
    kind: str
    params: dict
    status: str
    progress: float
    message: str
    error: str
    result: dict
    cancel_requested: bool
    worker: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class HealthCheckOut(Schema):
    ok: bool
    detail: str


class HealthOut(Schema):
    status: str
    checks: dict[str, HealthCheckOut]
