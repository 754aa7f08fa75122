"""My reminders and escalations (the outbox, DOMAIN §3 deadlines): messages addressed to my role
in an area inside my area."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from api.db import DatabaseDep
from api.deps import CurrentOfficer, SessionDep
from api.schemas.applications import MessageOut, MessagePage
from api.validators import Limit, Offset, RowId
from jiuzhu.contract import Actor
from jiuzhu.db.models import OutboxMessage

router = APIRouter(prefix="/me/messages", tags=["messages"])


def _mine(actor: Actor) -> SelectOfScalar[OutboxMessage]:
    return select(OutboxMessage).where(
        OutboxMessage.recipient_role == actor.role.value,
        col(OutboxMessage.recipient_area).startswith(actor.area_code),
    )


def _out(row: OutboxMessage) -> MessageOut:
    return MessageOut.model_validate(row, from_attributes=True)


@router.get("", response_model=MessagePage)
async def my_messages(
    actor: CurrentOfficer,
    db: DatabaseDep,
    kind: Annotated[str | None, Query(pattern=r"^(reminder|escalation|notice)$")] = None,
    case_id: Annotated[str | None, Query(max_length=100)] = None,
    unacknowledged: bool | None = None,
    include_void: bool = False,
    offset: Offset = 0,
    limit: Limit = 50,
) -> MessagePage:
    """Reminders (before a deadline, to the responsible role) and escalations (after it, to the
    supervising level), newest first. Withdrawn ones (the deadline was met on paper in time,
    ``voided_at``) only with ``include_void=true``."""
    return await db.read(
        message_page, actor, kind, case_id, unacknowledged, offset, limit, include_void
    )


def message_page(
    session: Session,
    actor: Actor,
    kind: str | None,
    case_id: str | None,
    unacknowledged: bool | None,
    offset: int,
    limit: int,
    include_void: bool = False,
) -> MessagePage:
    query = _mine(actor)
    if not include_void:
        query = query.where(col(OutboxMessage.voided_at).is_(None))
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if case_id:
        query = query.where(OutboxMessage.case_id == case_id)
    if unacknowledged is True:
        query = query.where(col(OutboxMessage.acknowledged_at).is_(None))
    elif unacknowledged is False:
        query = query.where(col(OutboxMessage.acknowledged_at).is_not(None))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(OutboxMessage.id).desc()).offset(offset).limit(limit)
    ).all()
    return MessagePage(items=[_out(r) for r in rows], total=total, offset=offset, limit=limit)


@router.post("/{message_id}/acknowledge", response_model=MessageOut)
def acknowledge(
    message_id: Annotated[RowId, Path()], actor: CurrentOfficer, session: SessionDep
) -> MessageOut:
    """Mark one of my messages as read (idempotent)."""
    row = session.exec(_mine(actor).where(OutboxMessage.id == message_id)).first()
    if row is None:
        raise HTTPException(404, f"message {message_id} not found")
    if row.acknowledged_at is None:
        row.acknowledged_at = datetime.now(UTC)
        session.add(row)
        session.commit()
        session.refresh(row)
    return _out(row)
