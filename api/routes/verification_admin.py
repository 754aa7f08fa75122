"""Admin: load the data behind the embedded verification adapter (one source at a time) and
read what is loaded. A load replaces the source's data for the admin's area only, and only for
people inside it (``api/scoping.py``; others are refused and counted); ``available=false``
simulates an outage and ``fail_first_attempts`` a flaky source (each check's first N attempts
fail)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from activities.applications.verification import SOURCES, FindingCategory, valid_kind
from api.deps import SessionDep, require_roles
from api.schemas.applications import VerificationLoad, VerificationSourceOut
from api.scoping import people_in_area
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_application import VerificationRecordRow, VerificationSourceState
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind

router = APIRouter(prefix="/admin/verification", tags=["admin"])

Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[Actor, Depends(require_roles(Role.ADMIN, Role.COUNTY_OFFICER, Role.AUDITOR))]


def _bad(field: str, message: str) -> RefusalError:
    return RefusalError(
        Refusal(kind=RefusalKind.INVALID_INPUT, message_zh=f"{field}: {message}", field=field)
    )


def _known(source: str) -> str:
    if source not in SOURCES:
        raise HTTPException(404, f"unknown verification source {source}")
    return source


def _summary(session: Session, source: str) -> VerificationSourceOut:
    state = session.get(VerificationSourceState, source)
    return VerificationSourceOut(
        source=source,
        label_zh=SOURCES[source],
        available=state.available if state else True,
        fail_first_attempts=state.fail_first_attempts if state else 0,
        record_count=state.record_count if state else 0,
        loaded_by=state.loaded_by if state else None,
        loaded_at=state.loaded_at if state else None,
    )


@router.get("", response_model=list[VerificationSourceOut])
def list_sources(actor: Reader, session: SessionDep) -> list[VerificationSourceOut]:
    return [_summary(session, name) for name in SOURCES]


@router.get("/{source}", response_model=VerificationSourceOut)
def get_source(source: str, actor: Reader, session: SessionDep) -> VerificationSourceOut:
    return _summary(session, _known(source))


@router.put("/{source}", response_model=VerificationSourceOut)
def load_source(
    source: str, body: VerificationLoad, actor: Admin, session: SessionDep
) -> VerificationSourceOut:
    """Replace one source's data (all or nothing)."""
    _known(source)
    for index, record in enumerate(body.records):
        category = FindingCategory(record.category)
        if not valid_kind(category, record.kind):
            raise _bad(f"records.{index}.kind", f"unknown {record.category} kind")
        if category is not FindingCategory.STATUS and record.amount is None:
            raise _bad(f"records.{index}.amount", f"an {record.category} needs an amount")
    inside = people_in_area(session, actor, (r.id_number for r in body.records))
    session.exec(
        delete(VerificationRecordRow).where(
            col(VerificationRecordRow.source) == source,
            col(VerificationRecordRow.area_code).startswith(actor.area_code),
        )
    )
    loaded = [r for r in body.records if r.id_number in inside]
    for record in loaded:
        session.add(
            VerificationRecordRow(
                source=source,
                id_number=record.id_number,
                area_code=actor.area_code,
                category=record.category,
                kind=record.kind,
                amount=record.amount,
                note=record.note,
            )
        )
    state = session.get(VerificationSourceState, source) or VerificationSourceState(
        name=source, loaded_by=actor.officer_id
    )
    state.available = body.available
    state.fail_first_attempts = body.fail_first_attempts
    session.flush()
    state.record_count = session.exec(
        select(func.count()).where(col(VerificationRecordRow.source) == source)
    ).one()
    state.loaded_by = actor.officer_id
    state.loaded_at = datetime.now(UTC)
    session.add(state)
    session.commit()
    summary = _summary(session, source)
    summary.refused_out_of_area = len(body.records) - len(loaded)
    return summary
