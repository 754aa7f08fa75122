"""Find any case (issue: an operator could not search by applicant or find "due this week"
across case kinds): ``GET /cases`` lists applications, entitlements, temporary cases and every
other kind the read model holds (``case_record``), inside the officer's area, filtered by kind,
status, programme, township, ``due_before`` / ``overdue``, applicant name (prefix) or ID number
(exact), sorted by next deadline (cases without one last), a page at a time with a cursor.

Shapes: ``CasePage`` = ``items`` (``CaseRow``: ``case_id``, ``case_kind``, ``programme``,
``status``, ``area_code``, ``township_code``, ``applicant_name``, ``applicant_id_masked``
(first 6 and last 4 digits), ``household_id``, ``next_deadline`` (with offset), ``overdue``,
``href``) and ``next_cursor`` (None on the last page). Errors: 403 for an area outside the
officer's; 422 naming the field for a bad filter or cursor."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from api.db import DatabaseDep
from api.deps import CurrentOfficer, Instant, ensure_area
from api.errors import field_error
from api.validators import IdNumber, Limit
from jiuzhu.contract import Actor, CaseKind
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.sealing import blind_index

router = APIRouter(prefix="/cases", tags=["cases"])

# The API path of each kind's detail (kinds without one of their own are read here by id).
_DETAIL = {
    CaseKind.APPLICATION.value: "/applications/{}",
    CaseKind.ENTITLEMENT.value: "/entitlements/{}",
    CaseKind.TEMPORARY.value: "/temporary-cases/{}",
    CaseKind.RECOVERY.value: "/recoveries/{}",
    CaseKind.SPOT_CHECK.value: "/spot-checks/{}",
    CaseKind.COMPLAINT.value: "/complaints/{}",
    CaseKind.WARNING.value: "/warnings/{}",
    CaseKind.REFERRAL.value: "/referrals/{}",
    CaseKind.RECOGNITION.value: "/recognitions/{}",
}


def _href(case_kind: str, case_id: str) -> str | None:
    """Where the case's own detail is (a village's listing: its board, ``LS<village>``)."""
    if case_kind == CaseKind.LISTING.value:
        return f"/listings/{case_id.removeprefix('LS')}/posting"
    detail = _DETAIL.get(case_kind)
    return detail.format(case_id) if detail else None


_NO_DEADLINE = "9999-12-31T23:59:59+00:00"  # sorts cases without a deadline last


class CaseRow(BaseModel):
    case_id: str
    case_kind: str
    programme: str
    status: str
    area_code: str
    township_code: str
    applicant_name: str
    applicant_id_masked: str
    household_id: str
    next_deadline: datetime | None
    next_deadline_label: str | None = None  # e.g. 审核确认时限
    next_deadline_role: str | None = None  # the role that acts next (the deadline's responsible)
    overdue: bool
    href: str | None


class CasePage(BaseModel):
    items: list[CaseRow]
    next_cursor: str | None = None


def mask_id_number(id_number: str) -> str:
    """``419901197005171012`` → ``419901********1012`` (PIPL Art. 51: de-identified lists)."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def _cursor_of(row: CaseRecord) -> str:
    key = [row.next_deadline.isoformat() if row.next_deadline else _NO_DEADLINE, row.case_id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime | None, str]:
    try:
        due, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return (None if due == _NO_DEADLINE else datetime.fromisoformat(due)), str(case_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise field_error("cursor", "分页游标无效，请使用上一页返回的 next_cursor") from exc


def case_page(
    session: Session,
    actor: Actor,
    *,
    case_kind: str | None,
    status: str | None,
    programme: str | None,
    township_code: str | None,
    due_before: datetime | None,
    overdue: bool | None,
    applicant_name: str | None,
    id_number: str | None,
    cursor: str | None,
    limit: int,
) -> CasePage:
    scope = township_code or actor.area_code
    query = select(CaseRecord).where(col(CaseRecord.area_code).startswith(scope))
    if case_kind:
        query = query.where(CaseRecord.case_kind == case_kind)
    if status:
        query = query.where(CaseRecord.status == status)
    if programme:
        query = query.where(CaseRecord.programme == programme)
    if due_before is not None:
        query = query.where(col(CaseRecord.next_deadline) < due_before)
    if overdue is not None:
        query = query.where(CaseRecord.overdue == overdue)
    if applicant_name:
        query = query.where(col(CaseRecord.applicant_name).startswith(applicant_name))
    if id_number:
        # Exact, through the blind index (the number itself is sealed: jiuzhu/db/sealing.py).
        query = query.where(CaseRecord.applicant_id_number_index == blind_index(id_number))
    due_key = col(CaseRecord.next_deadline)
    if cursor:
        after_due, after_id = _parse_cursor(cursor)
        if after_due is None:
            query = query.where(due_key.is_(None), col(CaseRecord.case_id) > after_id)
        else:
            query = query.where(
                or_(
                    due_key > after_due,
                    and_(due_key == after_due, col(CaseRecord.case_id) > after_id),
                    due_key.is_(None),
                )
            )
    rows = session.exec(
        query.order_by(due_key.is_(None), due_key, col(CaseRecord.case_id)).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        CaseRow(
            case_id=r.case_id,
            case_kind=r.case_kind,
            programme=r.programme,
            status=r.status,
            area_code=r.area_code,
            township_code=r.township_code,
            applicant_name=r.applicant_name,
            applicant_id_masked=mask_id_number(r.applicant_id_number),
            household_id=r.household_id,
            next_deadline=r.next_deadline,
            next_deadline_label=(r.detail or {}).get("next_deadline_label"),
            next_deadline_role=(r.detail or {}).get("next_deadline_role"),
            overdue=r.overdue,
            href=_href(r.case_kind, r.case_id),
        )
        for r in rows
    ]
    return CasePage(items=items, next_cursor=_cursor_of(rows[-1]) if more and rows else None)


@router.get("", response_model=CasePage)
async def list_cases(
    actor: CurrentOfficer,
    db: DatabaseDep,
    case_kind: Annotated[str | None, Query(pattern=r"^[a-z_]{3,30}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{2,40}$")] = None,
    programme: Annotated[str | None, Query(pattern=r"^[a-z_]{2,30}$")] = None,
    township_code: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    due_before: Instant | None = None,
    overdue: bool | None = None,
    applicant_name: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    id_number: Annotated[IdNumber | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = 50,
) -> CasePage:
    """Cases of every kind inside my area, soonest deadline first (e.g. ``due_before`` = the
    end of this week; ``overdue=true`` by township); ``next_cursor`` fetches the next page."""
    if township_code:
        ensure_area(actor, township_code)
    if case_kind and case_kind not in {k.value for k in CaseKind}:
        raise field_error("case_kind", f"未知的案件类型{case_kind}")
    return await db.read(
        case_page,
        actor,
        case_kind=case_kind,
        status=status,
        programme=programme,
        township_code=township_code,
        due_before=due_before,
        overdue=overdue,
        applicant_name=applicant_name,
        id_number=id_number,
        cursor=cursor,
        limit=limit,
    )


__all__ = ["mask_id_number", "router"]
