"""Payloads of the payment activities (payroll compilation, the paying bank, campaigns): the
payment list itself lives in the database (``payment_instruction``), never in workflow history,
so these carry counts, totals and file paths only. Pure models."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from workflows.payments.contract import PaymentKind

MAX_PAYMENT_ATTEMPTS = 3  # a line failed this many times is flagged for manual handling


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


class LineRange(BaseModel):
    """The lines of one earlier month a batch pays (its arrears, ``compile_payroll``): ids
    ``after < id <= upto`` of the batch with that month's keys; re-checked as of that month."""

    period_index: int  # year * 12 + month - 1 of the earlier month
    monthly_key: str
    quarterly_key: str
    after: int
    upto: int


class CompileResult(BaseModel):
    inserted: int  # new instructions created by this run
    retried: int  # failed lines of earlier runs queued again
    pending_count: int  # lines this run hands to the bank
    pending_total: Decimal
    by_programme: list[ProgrammeTotal] = Field(default_factory=list)
    held_count: int = 0  # lines held at compilation: a field cannot go into a bank file
    held_total: Decimal = Decimal("0.00")
    arrears: int = 0  # lines of earlier months this run pays (accounts written after those)
    arrears_ranges: list[LineRange] = Field(default_factory=list)
    covered_upto: int | None = None  # the county's highest account id the compile looked at


class RecheckRequest(BaseModel):
    """Re-check a payroll batch at the last moment (before finance confirms its total, and
    again before the bank file is written): see ``PayrollActivities.recheck_batch``."""

    payroll_id: str
    period_index: int  # year * 12 + month - 1
    monthly_key: str
    quarterly_key: str
    chunk_size: int = 5000
    # Look at the lines only if a death was loaded or an entitlement account changed after
    # this instant (UTC; the previous look, or the compile, less a margin): None = always.
    since: datetime | None = None
    # The batch's lines of earlier months (its arrears), each re-checked as of its own month.
    arrears: list[LineRange] = Field(default_factory=list)


class HeldReason(BaseModel):
    reason: str
    count: int
    total: Decimal


class RecheckResult(BaseModel):
    """The batch after the re-check: ``newly_held`` lines held by it; the rest as in
    ``CompileResult`` (what is still to be paid, and everything held in the batch by reason)."""

    newly_held: int
    newly_held_total: Decimal
    pending_count: int
    pending_total: Decimal
    by_programme: list[ProgrammeTotal] = Field(default_factory=list)
    held_count: int = 0
    held_total: Decimal = Decimal("0.00")
    held_by_reason: list[HeldReason] = Field(default_factory=list)


class BankSubmit(BaseModel):
    batch_id: str
    kind: PaymentKind  # payroll | campaign
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
    chunk_size: int = 10_000  # answers committed (and heartbeated) together


class ReconcileResult(BaseModel):
    paid_count: int
    paid_total: Decimal
    failed_count: int
    failed_total: Decimal
    flagged_count: int
    unanswered_count: int
    report_path: str
    held_count: int = 0  # lines held (never written into the file: format)
    held_total: Decimal = Decimal("0.00")


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
    arrears_count: int = 0
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
    held_count: int = 0  # lines held (format, deaths, stops, duplicates) and their total
    held_total: Decimal = Decimal("0.00")
    covered_upto: int | None = None  # see PayrollRun.covered_upto
    quarterly_tekun: bool = False
    revision: int = 0
    run_id: str | None = None


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
    held_count: int = 0
