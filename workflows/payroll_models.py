"""Payloads of the payroll and campaign workflows and their activities (DOMAIN §5 payment
calendar). The payment list itself lives in the database (``payment_instruction``), never in
workflow history: activities exchange counts, totals and file paths only."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from jiuzhu.contract import Actor
from jiuzhu.deadline_models import Deadline

MAX_PAYMENT_ATTEMPTS = 3  # a line failed this many times is flagged for manual handling


class PayrollStatus(StrEnum):
    STARTED = "started"
    LAUNCHED = "launched"  # a scheduled run that started the month's payroll and ended
    COMPILING = "compiling"
    AWAITING_FUNDING = "awaiting_funding"
    SENDING = "sending"
    RECONCILING = "reconciling"
    RECONCILED = "reconciled"
    NOTHING_TO_PAY = "nothing_to_pay"


class PayrollInput(BaseModel):
    """One county's payroll for one month. A scheduled run leaves ``year``/``month`` empty and
    derives them from the schedule's action time (``TemporalScheduledStartTime``)."""

    county_code: str = Field(pattern=r"^\d{6}$")
    year: int | None = Field(default=None, ge=2000, le=2100)
    month: int | None = Field(default=None, ge=1, le=12)
    chunk_size: int = Field(default=5000, ge=1, le=100_000)
    heartbeat_seconds: int = Field(default=30, ge=1, le=600)


class Cutoffs(BaseModel):
    """Data by the 5th, funds by the 8th, credited by the 10th, each moved to the last working
    day before it when it is not a working day (焦民〔2022〕154号 第六条; seed 002)."""

    data: date
    funds: date
    credit: date
    provisional: bool


class CutoffRequest(BaseModel):
    year: int
    month: int
    data_day: int
    funds_day: int
    credit_day: int


class ProgrammeTotal(BaseModel):
    programme: str
    count: int
    total: Decimal


class CompileRequest(BaseModel):
    payroll_id: str
    county_code: str
    period_index: int  # year * 12 + month - 1
    monthly_key: str  # idempotency-key period part minted by the workflow, e.g. "2027-02"
    quarterly_key: str  # e.g. "2027-Q1" (dispersed 特困 paid quarterly)
    quarterly: bool
    chunk_size: int = 5000


class CompileResult(BaseModel):
    inserted: int  # new instructions created by this run
    retried: int  # failed lines of earlier runs queued again
    pending_count: int  # lines this run hands to the bank
    pending_total: Decimal
    by_programme: list[ProgrammeTotal] = Field(default_factory=list)


class DeathCheckRequest(BaseModel):
    county_code: str
    checked_by: str


class DeathCheckResult(BaseModel):
    found: int
    applied: int


class FundingConfirmation(BaseModel):
    """Finance confirms it has funded the paying bank with exactly the payroll's total."""

    actor: Actor
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    reference: str = Field(min_length=1, max_length=100)


class BankSubmit(BaseModel):
    batch_id: str
    kind: str  # payroll | campaign
    county_code: str
    value_date: date
    heartbeat_every: int = 5000


class BankSubmitResult(BaseModel):
    file_path: str
    result_path: str
    line_count: int
    total: Decimal


class ReconcileRequest(BaseModel):
    batch_id: str
    result_path: str
    max_attempts: int = MAX_PAYMENT_ATTEMPTS


class ReconcileResult(BaseModel):
    paid_count: int
    paid_total: Decimal
    failed_count: int
    failed_total: Decimal
    flagged_count: int
    unanswered_count: int
    report_path: str


class PayrollRunRow(BaseModel):
    """The ``payroll_run`` read-model row (upsert guarded by revision)."""

    payroll_id: str
    county_code: str
    period: str
    status: str
    data_cutoff: date | None = None
    funds_cutoff: date | None = None
    credit_date: date | None = None
    cutoffs_provisional: bool = False
    compiled_count: int = 0
    compiled_total: Decimal = Decimal("0.00")
    new_count: int = 0
    retried_count: int = 0
    funded_by: str | None = None
    funding_reference: str | None = None
    funded_at: datetime | None = None
    bank_file: str | None = None
    result_file: str | None = None
    report_file: str | None = None
    paid_count: int = 0
    paid_total: Decimal = Decimal("0.00")
    failed_count: int = 0
    failed_total: Decimal = Decimal("0.00")
    flagged_count: int = 0
    deaths_found: int = 0
    revision: int = 0
    run_id: str | None = None


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


# --- campaigns ----------------------------------------------------------------------------
class CampaignStatus(StrEnum):
    STARTED = "started"
    SENDING = "sending"
    RECONCILED = "reconciled"
    NOTHING_TO_PAY = "nothing_to_pay"


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


class CampaignCompile(BaseModel):
    campaign_id: str
    county_code: str
    programmes: list[str]
    amount_per_person: Decimal
    provincial_ratio: Decimal
    period_index: int
    key_prefix: str  # minted by the workflow: "campaign:<id>"
    period: str


class CampaignRow(BaseModel):
    campaign_id: str
    status: str
    instruction_count: int = 0
    total: Decimal = Decimal("0.00")
    provincial_total: Decimal = Decimal("0.00")
    local_total: Decimal = Decimal("0.00")
    paid_count: int = 0
    failed_count: int = 0


class CampaignCompiled(BaseModel):
    inserted: int
    pending_count: int
    total: Decimal
    provincial_total: Decimal
    local_total: Decimal


class CampaignState(BaseModel):
    campaign_id: str
    county_code: str
    status: CampaignStatus = CampaignStatus.STARTED
    value_date: date | None = None
    compiled: CampaignCompiled | None = None
    bank: BankSubmitResult | None = None
    reconciled: ReconcileResult | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
