"""Officers and their tokens (DOMAIN §2 roles): an admin creates officers inside their own area,
lists them, deactivates them and rotates their tokens; any officer may rotate their own. A token
is shown once, when it is issued, and expires after ``JIUZHU_TOKEN_LIFETIME_DAYS`` (90 by
default). A deactivated officer or a rotated token stops working at once in this process and
within the officer cache's 10 s in any other API process.

Errors: 403 for another role or an area outside the admin's; 404 for an unknown officer; 409 for
an officer id that exists; 422 naming the field for bad input."""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col, select

from api.db import DatabaseDep
from api.deps import CurrentOfficer, ensure_area, require_roles
from api.validators import PersonName
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models import Officer
from jiuzhu.officers import hash_token, new_token
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind
from rules.areas import is_valid_area_code

router = APIRouter(prefix="/officers", tags=["officers"])
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
OfficerId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")]
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")


class OfficerIn(BaseModel):
    """A new officer: ``officer_id`` (3–64 of a–z, 0–9, -; generated when absent), name, role
    and the area they act in (an area code inside the admin's)."""

    model_config = ConfigDict(extra="forbid")

    officer_id: str | None = None
    name: PersonName
    role: Role
    area_code: str = Field(min_length=2, max_length=12)

    @field_validator("officer_id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError("3–64 characters of a–z, 0–9 and -, starting with a letter or digit")
        return v

    @field_validator("area_code")
    @classmethod
    def _area(cls, v: str) -> str:
        if not is_valid_area_code(v):
            raise ValueError("not an area code of 2, 4, 6, 9 or 12 digits")
        return v


class OfficerOut(BaseModel):
    officer_id: str
    name: str
    role: Role
    area_code: str
    active: bool
    token_expires_at: datetime | None
    created_by: str | None
    deactivated_at: datetime | None


class IssuedToken(BaseModel):
    """A token, shown once: keep it; only its hash is stored."""

    officer: OfficerOut
    token: str
    token_expires_at: datetime


def _conflict(message_zh: str, field: str) -> RefusalError:
    return RefusalError(Refusal(kind=RefusalKind.CONFLICT, message_zh=message_zh, field=field))


def _out(row: Officer) -> OfficerOut:
    return OfficerOut(
        officer_id=row.id,
        name=row.name,
        role=Role(row.role),
        area_code=row.area_code,
        active=row.active,
        token_expires_at=row.token_expires_at,
        created_by=row.created_by,
        deactivated_at=row.deactivated_at,
    )


def _lifetime(request: Request) -> timedelta:
    return timedelta(days=request.app.state.settings.token_lifetime_days)


def _forget_cached(request: Request) -> None:
    cache = getattr(request.app.state, "officer_cache", None)
    if cache is not None:
        cache.forget_all()


def _officer_in_area(session: Session, actor: Actor, officer_id: str) -> Officer:
    row = session.get(Officer, officer_id)
    if row is None:
        raise HTTPException(404, f"no officer {officer_id}")
    ensure_area(actor, row.area_code)
    return row


def _create(session: Session, actor: Actor, body: OfficerIn, lifetime: timedelta) -> IssuedToken:
    officer_id = body.officer_id or f"officer-{new_token()[:12].lower().replace('_', '0')}"
    if session.get(Officer, officer_id) is not None:
        raise _conflict(f"经办人编号{officer_id}已存在", "officer_id")
    token = new_token()
    expires = datetime.now(UTC) + lifetime
    row = Officer(
        id=officer_id,
        name=body.name,
        role=body.role.value,
        area_code=body.area_code,
        token_hash=hash_token(token),
        token_expires_at=expires,
        created_by=actor.officer_id,
    )
    session.add(row)
    session.flush()
    return IssuedToken(officer=_out(row), token=token, token_expires_at=expires)


@router.post("", status_code=201, response_model=IssuedToken)
async def create_officer(
    body: OfficerIn, actor: Admin, db: DatabaseDep, request: Request
) -> IssuedToken:
    """Create an officer inside the admin's area; answers the token once."""
    ensure_area(actor, body.area_code)
    return await db.write(_create, actor, body, _lifetime(request))


def _list(session: Session, actor: Actor, active: bool | None) -> list[OfficerOut]:
    query = select(Officer).where(col(Officer.area_code).startswith(actor.area_code))
    if active is not None:
        query = query.where(Officer.active == active)
    return [_out(r) for r in session.exec(query.order_by(col(Officer.id))).all()]


@router.get("", response_model=list[OfficerOut])
async def list_officers(
    actor: Admin, db: DatabaseDep, active: bool | None = None
) -> list[OfficerOut]:
    """The officers of the admin's area (never their tokens)."""
    return await db.read(_list, actor, active)


def _deactivate(session: Session, actor: Actor, officer_id: str) -> OfficerOut:
    row = _officer_in_area(session, actor, officer_id)
    if officer_id == actor.officer_id:
        raise _conflict("不能停用自己的账号", "officer_id")
    if row.active:
        row.active = False
        row.deactivated_at = datetime.now(UTC)
        session.add(row)
        session.flush()
    return _out(row)


@router.post("/{officer_id}/deactivate", response_model=OfficerOut)
async def deactivate_officer(
    officer_id: OfficerId, actor: Admin, db: DatabaseDep, request: Request
) -> OfficerOut:
    """Deactivate an officer of the admin's area: their token stops working (idempotent)."""
    out: OfficerOut = await db.write(_deactivate, actor, officer_id)
    _forget_cached(request)
    return out


def _rotate(session: Session, actor: Actor, officer_id: str, lifetime: timedelta) -> IssuedToken:
    row = session.get(Officer, officer_id)
    if row is None:
        raise HTTPException(404, f"no officer {officer_id}")
    if officer_id != actor.officer_id:
        if actor.role is not Role.ADMIN:
            raise HTTPException(403, "only an admin rotates another officer's token")
        ensure_area(actor, row.area_code)
    if not row.active:
        raise _conflict(f"经办人{officer_id}已停用，不能换发令牌", "officer_id")
    token = new_token()
    row.token_hash = hash_token(token)
    row.token_expires_at = datetime.now(UTC) + lifetime
    session.add(row)
    session.flush()
    assert row.token_expires_at is not None
    return IssuedToken(officer=_out(row), token=token, token_expires_at=row.token_expires_at)


@router.post("/{officer_id}/token", response_model=IssuedToken)
async def rotate_token(
    officer_id: OfficerId, actor: CurrentOfficer, db: DatabaseDep, request: Request
) -> IssuedToken:
    """Issue a new token (the old one stops working); an admin for officers of their area, any
    officer for themselves."""
    issued: IssuedToken = await db.write(_rotate, actor, officer_id, _lifetime(request))
    _forget_cached(request)
    return issued
