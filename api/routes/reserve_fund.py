"""Township reserve funds (乡镇临时救助备用金): balance and ledger for officers of the township or
its county; replenishment by a county officer of that county."""

import hashlib
import uuid
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Path
from sqlalchemy import func
from sqlmodel import col, select

from activities.temporary.reserve_fund import from_fen, replenish
from api.deps import (
    CurrentOfficer,
    EngineDep,
    IdempotencyKeyHeader,
    SessionDep,
    ensure_area,
    require_roles,
)
from api.idempotency import reserve
from api.schemas.temporary import LedgerEntryOut, ReplenishmentIn, ReplenishmentOut, ReserveFundOut
from api.validators import LongLimit, Offset
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_temporary import ReserveFund, ReserveFundEntry
from rules.areas import is_known_area

router = APIRouter(prefix="/reserve-funds", tags=["reserve funds"])
log = structlog.get_logger("jiuzhu.api.reserve_fund")

TownshipCode = Annotated[str, Path(pattern=r"^\d{9}$", description="9-digit township code")]
County = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER))]


def _known(township: str) -> None:
    if not is_known_area(township):
        raise HTTPException(404, f"township {township} not found")


def _entry(e: ReserveFundEntry) -> LedgerEntryOut:
    assert e.id is not None
    return LedgerEntryOut(
        id=e.id,
        direction=e.direction,
        purpose=e.purpose,
        amount=from_fen(e.amount_fen),
        balance_after=from_fen(e.balance_after_fen),
        case_id=e.case_id,
        actor_name=e.actor_name,
        note_zh=e.note_zh,
        created_at=e.created_at,
    )


@router.get("/{township}", response_model=ReserveFundOut)
def get_fund(
    township: TownshipCode,
    actor: CurrentOfficer,
    session: SessionDep,
    offset: Offset = 0,
    limit: LongLimit = 100,
) -> ReserveFundOut:
    """Balance and ledger (newest first): every debit and credit with its case."""
    _known(township)
    ensure_area(actor, township)
    fund = session.get(ReserveFund, township)
    where = ReserveFundEntry.township_code == township
    total = session.exec(select(func.count()).select_from(ReserveFundEntry).where(where)).one()
    entries = session.exec(
        select(ReserveFundEntry)
        .where(where)
        .order_by(col(ReserveFundEntry.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return ReserveFundOut(
        township_code=township,
        county_code=AreaRef.of(township).county,
        balance=from_fen(fund.balance_fen if fund else 0),
        entries=[_entry(e) for e in entries],
        total_entries=total,
        offset=offset,
        limit=limit,
    )


@router.post("/{township}/replenishments", status_code=201, response_model=ReplenishmentOut)
def replenish_fund(
    township: TownshipCode,
    body: ReplenishmentIn,
    actor: County,
    session: SessionDep,
    engine: EngineDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReplenishmentOut:
    """The county replenishes (or opens) a township's fund. The same ``Idempotency-Key`` from
    the same officer credits once; with a different body or township it is refused (422)."""
    _known(township)
    ensure_area(actor, township)
    key = idempotency_key or uuid.uuid4().hex
    dedupe_key = f"replenish:{actor.officer_id}:{key}"
    if idempotency_key:
        digest = hashlib.sha256(f"{township}\x1f{body.model_dump_json()}".encode()).hexdigest()
        reserve(session, actor, "replenishment", idempotency_key, digest, dedupe_key)
    result = replenish(
        engine,
        township=township,
        amount=body.amount,
        dedupe_key=dedupe_key,
        actor=actor,
        note_zh=body.note_zh or "县级补充备用金",
    )
    entry = session.get(ReserveFundEntry, result.entry_id)
    assert entry is not None
    log.info("reserve fund replenished", township=township, created=result.created)
    return ReplenishmentOut(
        township_code=township, entry=_entry(entry), balance=result.balance_after
    )
