"""One-off campaigns (seed 003): an admin pays a fixed amount to every covered person of the
chosen programmes' active entitlements in a county by a date, provincial and local shares
recorded (e.g. 300 yuan, 6:4)."""

import hashlib
import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.db import DatabaseDep
from api.deps import (
    IdempotencyKeyHeader,
    SessionDep,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.idempotency import request_hash, reserve
from api.validators import PositiveMoney, ShortText
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_payments import Campaign
from rules.areas import AreaLevel, get_area, is_known_area
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.contract import CampaignStatus, campaign_workflow_id
from workflows.payments.models import CampaignInput

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[
    Actor, Depends(require_roles(Role.ADMIN, Role.COUNTY_OFFICER, Role.FINANCE, Role.AUDITOR))
]
CASH_PROGRAMMES = ("dibao", "tekun")
IDEMPOTENCY_SCOPE = "campaign"


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText = Field(min_length=1, max_length=100)
    county_code: str = Field(pattern=r"^\d{6}$")
    programmes: list[str] = Field(min_length=1)
    amount_per_person: PositiveMoney = Field(gt=0, le=100_000, max_digits=8, decimal_places=2)
    provincial_share: Decimal = Field(
        ge=0, le=1, max_digits=5, decimal_places=4, description="e.g. 0.6 for 6:4"
    )
    pay_by: date

    @field_validator("county_code")
    @classmethod
    def _county(cls, v: str) -> str:
        if not is_known_area(v) or get_area(v).level is not AreaLevel.COUNTY:
            raise ValueError(f"unknown county {v!r}")
        return v

    @field_validator("programmes")
    @classmethod
    def _programmes(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if p not in CASH_PROGRAMMES]
        if bad:
            raise ValueError(f"campaigns pay {', '.join(CASH_PROGRAMMES)} only, not {bad}")
        return sorted(set(v))

    @field_validator("pay_by")
    @classmethod
    def _pay_by(cls, v: date) -> date:
        if v < beijing_today():
            raise ValueError("pay_by is in the past")
        return v


def insert_campaign(session: Session, row: Campaign) -> Campaign:
    """The campaign's row, inserted unless it is there (a retry's, or a concurrent one's)."""
    existing = session.get(Campaign, row.campaign_id)
    if existing is not None:
        return existing
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.get(Campaign, row.campaign_id)
        if existing is None:
            raise
        return existing
    session.refresh(row)
    return row


def campaign_row(session: Session, campaign_id: str) -> Campaign | None:
    return session.get(Campaign, campaign_id)


@router.post("", status_code=201, response_model=Campaign)
async def create_campaign(
    body: CampaignCreate,
    response: Response,
    actor: Admin,
    db: DatabaseDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Campaign:
    """Start the campaign (idempotent with ``Idempotency-Key``: the same key and body is the
    same campaign (200), which pays each household and programme once; the same key with a
    different body is refused (422)). The key is reserved before the workflow starts."""
    ensure_area(actor, body.county_code)
    fresh = True
    if idempotency_key:
        digest = hashlib.sha256(f"{actor.officer_id}\x1f{idempotency_key}".encode()).hexdigest()
        held = await db.write(
            reserve,
            actor,
            IDEMPOTENCY_SCOPE,
            idempotency_key,
            request_hash(body),
            f"C{digest[:15].upper()}",
        )
        campaign_id, fresh = held.resource_id, held.fresh
    else:
        campaign_id = f"C{uuid.uuid4().hex[:15].upper()}"
    row = await db.write(
        insert_campaign,
        Campaign(
            campaign_id=campaign_id,
            name=body.name,
            county_code=body.county_code,
            programmes=body.programmes,
            amount_per_person=body.amount_per_person,
            provincial_ratio=body.provincial_share,
            pay_by=body.pay_by,
            status=CampaignStatus.STARTED.value,
            created_by=actor.officer_id,
        ),
    )
    try:
        await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                campaign_id=campaign_id,
                name=row.name,
                county_code=row.county_code,
                programmes=row.programmes,
                amount_per_person=row.amount_per_person,
                provincial_ratio=row.provincial_ratio,
                pay_by=row.pay_by,
                created_by=actor,
            ),
            id=campaign_workflow_id(campaign_id),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        pass
    response.headers["Location"] = f"/campaigns/{campaign_id}"
    if not fresh:
        response.status_code = 200
    return await db.read(campaign_row, campaign_id) or row


@router.get("/{campaign_id}", response_model=Campaign)
def get_campaign(campaign_id: str, actor: Reader, session: SessionDep) -> Campaign:
    row = session.get(Campaign, campaign_id)
    if row is None:
        raise HTTPException(404, f"campaign {campaign_id} not found")
    ensure_area(actor, row.county_code)
    return row
