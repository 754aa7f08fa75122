"""Payloads of the payroll and campaign workflows (DOMAIN §5 payment calendar): their inputs,
their states (returned by the ``get_state`` query) and their Update inputs and results. Activity
payloads live beside the activities (``activities/payments/models.py``,
``activities/entitlements/death_check.py``)."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from activities.deadlines import Deadline
from activities.entitlements.death_check import DeathCheckResult
from activities.payments.daily_batch import BankBatchRow, DailyAssigned
from activities.payments.models import (
    BankSubmitResult,
    CampaignCompiled,
    CompileResult,
    Cutoffs,
    PayrollRunRow,
    RecheckResult,
    ReconcileResult,
)
from activities.temporary.payloads import BankReturnsResult
from jiuzhu.contract import Actor
from workflows.payments.contract import CampaignStatus, DailyBatchStatus, PayrollStatus


class PayrollInput(BaseModel):
    """One county's payroll for one month. A scheduled run leaves ``year``/``month`` empty and
    derives them from the schedule's action time (``TemporalScheduledStartTime``)."""

    county_code: str = Field(pattern=r"^\d{6}$")
    year: int | None = Field(default=None, ge=2000, le=2100)
    month: int | None = Field(default=None, ge=1, le=12)
    chunk_size: int = Field(default=5000, ge=1, le=100_000)
    heartbeat_seconds: int = Field(default=30, ge=1, le=600)


class FundingConfirmation(BaseModel):
    """Finance confirms it has funded the paying bank with exactly the payroll's total."""

    actor: Actor
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    reference: str = Field(min_length=1, max_length=100)


class Resubmission(BaseModel):
    """Finance re-sent a batch whose bank answer could not be read: who, when, why, and the
    unreadable answer it followed (the audit of the step)."""

    actor: Actor
    at: datetime
    reason_zh: str
    after_error: str | None = None


class PayrollState(BaseModel):
    payroll_id: str
    county_code: str
    year: int
    month: int
    period: str
    status: PayrollStatus = PayrollStatus.STARTED
    policy_version_id: str | None = None
    quarterly_tekun: bool = False
    cutoffs: Cutoffs | None = None
    compiled: CompileResult | None = None
    deaths: DeathCheckResult | None = None
    funded_by: Actor | None = None
    funding_reference: str | None = None
    funded_at: datetime | None = None
    bank: BankSubmitResult | None = None
    reconciled: ReconcileResult | None = None
    launched_workflow_id: str | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    revision: int = 0
    # A re-run, backfill or catch-up of a month whose list was already compiled: nothing is
    # done, and ``existing`` is the month's record as it stands (never overwritten).
    rerun_of_existing: bool = False
    existing: PayrollRunRow | None = None
    bank_error: str | None = None  # a malformed bank answer, escalated to finance
    # The last-moment re-checks (before funding, before the bank file): the latest result (held
    # lines by reason), how many ran, deaths they applied, and the amount finance confirmed.
    recheck: RecheckResult | None = None
    rechecks: int = 0
    late_deaths_applied: int = 0
    # When the lines were last looked at (the compile, then each re-check): the next re-check
    # holds lines again only if a death or an account change was recorded after it.
    looked_at: datetime | None = None
    resubmissions: list[Resubmission] = Field(default_factory=list)
    funded_amount: Decimal | None = None


class CampaignInput(BaseModel):
    """A one-off payment of ``amount_per_person`` to every covered person of every active
    entitlement of ``programmes`` in the county, by ``pay_by``, split provincial:local by
    ``provincial_ratio`` (seed 003: 300 yuan, 6:4)."""

    campaign_id: str
    name: str
    county_code: str
    programmes: list[str]
    amount_per_person: Decimal
    provincial_ratio: Decimal
    pay_by: date
    created_by: Actor
    # Finance confirms funding of the compiled total (``confirm_funding``) before the list
    # goes to the bank. Off for campaigns started before the Update existed.
    funding_required: bool = False


class CampaignFunding(BaseModel):
    """Finance confirms it has funded the paying bank with exactly the campaign's total."""

    actor: Actor
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    reference: str = Field(min_length=1, max_length=100)


class CampaignState(BaseModel):
    campaign_id: str
    county_code: str
    status: CampaignStatus = CampaignStatus.STARTED
    value_date: date | None = None
    compiled: CampaignCompiled | None = None
    bank: BankSubmitResult | None = None
    reconciled: ReconcileResult | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    funded_by: Actor | None = None
    funding_reference: str | None = None
    funded_at: datetime | None = None
    bank_error: str | None = None
    resubmissions: list[Resubmission] = Field(default_factory=list)


class ResubmitBatch(BaseModel):
    """County finance re-sends a batch that ended ``bank_error`` (after checking the bank's
    file and answer): only the lines still unanswered go again; the bank credits each
    reference once."""

    actor: Actor
    reason_zh: str = Field(min_length=1, max_length=500)


class ResubmitResult(BaseModel):
    status: str  # the batch's status (a CampaignStatus or PayrollStatus value)
    resubmission: int  # 1 for the first re-send


class FundingResult(BaseModel):
    """What ``confirm_funding`` returns (small; the API queries ``get_state`` for the rest).
    ``already_recorded``: the same confirmation (same reference) was recorded before."""

    status: PayrollStatus
    funded_at: datetime
    reference: str | None = None
    already_recorded: bool = False


class CampaignFundingResult(BaseModel):
    status: CampaignStatus
    funded_at: datetime
    reference: str
    already_recorded: bool = False


class DailyBatchInput(BaseModel):
    """One county's daily bank batch of temporary assistance. A scheduled run leaves
    ``value_date`` empty: the workflow takes the next working day after the day (Beijing) of
    the schedule's action time and starts the batch of that value date."""

    county_code: str = Field(pattern=r"^\d{6}$")
    value_date: date | None = None
    value_date_provisional: bool = False
    heartbeat_seconds: int = Field(default=30, ge=1, le=600)


class DailyBatchState(BaseModel):
    county_code: str
    batch_id: str | None = None
    value_date: date | None = None
    value_date_provisional: bool = False
    status: DailyBatchStatus = DailyBatchStatus.STARTED
    assigned: DailyAssigned | None = None
    bank: BankSubmitResult | None = None
    reconciled: ReconcileResult | None = None
    credited_back: BankReturnsResult | None = None
    bank_error: str | None = None  # a malformed bank answer, escalated to finance
    launched_workflow_id: str | None = None
    # A later run of a batch that has moved money: nothing is done, ``existing`` is the
    # batch's record as it stands (never overwritten).
    rerun_of_existing: bool = False
    existing: BankBatchRow | None = None
    revision: int = 0
