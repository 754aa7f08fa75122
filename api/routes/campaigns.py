"""One-off campaigns (seed 003): an admin pays a fixed amount to every covered person of the
chosen programmes' active entitlements in a county by a date, provincial and local shares
recorded (e.g. 300 yuan, 6:4). The list goes to the bank only once county finance confirmed it
funded exactly the compiled total (``POST /campaigns/{id}/funding``, once: another reference is
a 409 naming the recorded one); after an unreadable bank answer finance re-sends it
(``POST /campaigns/{id}/resubmit``, only from ``bank_error``)."""

import hashlib
import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.client import WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.db import DatabaseDep
from api.deps import (
    IdempotencyKeyHeader,
    SessionDep,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.errors import ProblemError
from api.idempotency import request_hash, reserve
from api.validators import PositiveMoney, ShortText
from jiuzhu.clock import beijing_today
from jiuzhu.console import case_static
from jiuzhu.contract import SA_CASE_KIND, SA_COUNTY, Actor, CaseKind, Role
from jiuzhu.db.models_payments import Campaign
from rules.areas import AreaLevel, get_area, is_known_area
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.contract import CampaignStatus, campaign_workflow_id
from workflows.payments.models import (
    CampaignFunding,
    CampaignFundingResult,
    CampaignInput,
    CampaignState,
    ResubmitBatch,
    ResubmitResult,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
Finance = Annotated[Actor, Depends(require_roles(Role.FINANCE))]
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
    text = case_static(CaseKind.CAMPAIGN, area_code=row.county_code, subject_zh=row.name)
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
                funding_required=True,  # finance confirms the compiled total first
            ),
            id=campaign_workflow_id(campaign_id),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_CASE_KIND, CaseKind.CAMPAIGN.value),
                    SearchAttributePair(SA_COUNTY, row.county_code),
                ]
            ),
            static_summary=text.summary,
            static_details=text.details,
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


class CampaignFundingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney = Field(gt=0, max_digits=14, decimal_places=2)
    reference: ShortText = Field(min_length=1, max_length=100)


class ResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_zh: ShortText = Field(min_length=1, max_length=500)


async def _campaign_handle(
    db: DatabaseDep, client: TemporalClientDep, campaign_id: str, actor: Actor
) -> WorkflowHandle[CampaignWorkflow, CampaignState]:
    row = await db.read(campaign_row, campaign_id)
    if row is None:
        raise HTTPException(404, f"campaign {campaign_id} not found")
    ensure_area(actor, row.county_code)
    return client.get_workflow_handle_for(CampaignWorkflow.run, campaign_workflow_id(campaign_id))


async def _update(
    handle: WorkflowHandle[CampaignWorkflow, CampaignState], update: object, arg: object
) -> object:
    """Run the campaign's Update; refusals propagate to the one handler (403/409/422). A
    campaign that has ended answers 409."""
    try:
        return await handle.execute_update(update, arg)  # type: ignore[call-overload]
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ProblemError(409, "Conflict", "一次性补贴发放已结束") from None
        raise


@router.post("/{campaign_id}/funding", response_model=CampaignFundingResult)
async def confirm_funding(
    campaign_id: str,
    body: CampaignFundingIn,
    actor: Finance,
    db: DatabaseDep,
    client: TemporalClientDep,
) -> CampaignFundingResult:
    """County finance confirms it funded the paying bank with exactly the campaign's compiled
    total (provincial and local shares together). Once: the same reference again answers with
    the recorded confirmation (``already_recorded``), another reference is refused (409 naming
    the recorded one)."""
    handle = await _campaign_handle(db, client, campaign_id, actor)
    result = await _update(
        handle,
        CampaignWorkflow.confirm_funding,
        CampaignFunding(actor=actor, amount=body.amount, reference=body.reference),
    )
    assert isinstance(result, CampaignFundingResult)
    return result


@router.post("/{campaign_id}/resubmit", response_model=ResubmitResult)
async def resubmit(
    campaign_id: str,
    body: ResubmitIn,
    actor: Finance,
    db: DatabaseDep,
    client: TemporalClientDep,
) -> ResubmitResult:
    """County finance re-sends a campaign whose bank answer could not be read (only from
    ``bank_error``, else 409): the lines still unanswered go again, the bank credits each
    reference once. Recorded in the campaign's state (who, when, why)."""
    handle = await _campaign_handle(db, client, campaign_id, actor)
    result = await _update(
        handle, CampaignWorkflow.resubmit, ResubmitBatch(actor=actor, reason_zh=body.reason_zh)
    )
    assert isinstance(result, ResubmitResult)
    return result


@router.get("/{campaign_id}/state", response_model=CampaignState)
async def campaign_state(
    campaign_id: str, actor: Reader, db: DatabaseDep, client: TemporalClientDep
) -> CampaignState:
    """The campaign's live state (compiled totals, funding, bank, reconciliation,
    resubmissions)."""
    handle = await _campaign_handle(db, client, campaign_id, actor)
    state: CampaignState = await handle.query(CampaignWorkflow.get_state)
    return state
