"""Tables of entitlements and payments (DOMAIN §5): the entitlement read model the payroll reads
(``entitlement_account`` + ``entitlement_member``), payroll runs and bank batches, the embedded
paying bank (``bank_ledger``, ``bank_closed_account``), the death register an admin loads, one-off
campaigns and the written notices of entitlements. Payment instructions themselves are the
shared ``PaymentInstruction`` table (jiuzhu/db/models.py).

Month arithmetic in SQL uses a month index ``year * 12 + month - 1`` so that set-based payroll
queries compare integers on every database."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow
from jiuzhu.db.sealing import index_column, sealed_column


def _money(nullable: bool = False) -> Any:
    return Field(
        default=None if nullable else Decimal("0.00"),
        sa_column=Column(Numeric(12, 2), nullable=nullable),
    )


class EntitlementAccount(SQLModel, table=True):
    """One entitlement (household × programme) as the payroll sees it, written only by the
    entitlement workflow through an activity (upsert guarded by ``revision``)."""

    __tablename__ = "entitlement_account"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(unique=True)
    workflow_id: str
    household_id: str = Field(index=True)
    programme: str = Field(index=True)
    area_code: str = Field(index=True)
    county_code: str = Field(index=True)
    township_code: str = Field(index=True)
    status: str = Field(index=True)  # active | withdrawal | suspended | terminating | ended
    centralised: bool = False
    monthly_amount: Decimal = _money()  # approved amount for the whole household
    payable_amount: Decimal = _money()  # what is paid now (suspended/cut shares removed)
    next_amount: Decimal | None = _money(nullable=True)  # adjusted amount ...
    next_amount_from: int | None = None  # ... from this month index
    members_total: int = 0
    members_paid: int = 0
    start_month: int  # month index of the first payable month
    end_month: int | None = None  # month index of the last payable month (None = open)
    payee_name: str
    # Sealed (jiuzhu/db/sealing.py); the payroll copies them, index and all, into its lines
    # (the index is not looked up here: no database index).
    payee_id_number: str = Field(sa_column=sealed_column())
    payee_id_number_index: str | None = Field(
        default=None, sa_column=index_column("payee_id_number", indexed=False)
    )
    card_account: str = Field(sa_column=sealed_column())
    bank_code: str = ""
    next_review: date | None = None
    policy_version_id: str | None = None
    revision: int = 0
    # Indexed: the payroll's re-check looks at the accounts written since its previous look.
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), index=True)
    )


class EntitlementMember(SQLModel, table=True):
    """A covered member and the state of their share (for the monthly death check)."""

    __tablename__ = "entitlement_member"
    __table_args__ = (
        UniqueConstraint("case_id", "id_number_index", name="uq_entitlement_member_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    id_number: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    id_number_index: str | None = Field(default=None, sa_column=index_column("id_number"))
    name: str
    relation: str
    share_status: str = Field(index=True)  # active | suspended | cut | deceased


class EntitlementNotice(SQLModel, table=True):
    """A written notice of an entitlement decision (低保办法 Art. 32: reduce/stop only with a
    written notice and reasons), as rendered HTML."""

    __tablename__ = "entitlement_notice"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: str = Field(unique=True)
    case_id: str = Field(index=True)
    kind: str
    title: str
    issued_on: date
    html: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class PayrollRun(SQLModel, table=True):
    """One county's payroll for one month: cut-offs, funding, bank hand-off, reconciliation."""

    __tablename__ = "payroll_run"

    payroll_id: str = Field(primary_key=True)  # = payroll workflow id
    county_code: str = Field(index=True)
    period: str = Field(index=True)  # "2027-02"
    status: str
    data_cutoff: date | None = None
    funds_cutoff: date | None = None
    credit_date: date | None = None
    cutoffs_provisional: bool = False
    compiled_count: int = 0
    compiled_total: Decimal = _money()
    new_count: int = 0
    retried_count: int = 0
    arrears_count: int = 0  # lines of earlier months this month pays (``compile_payroll``)
    funded_by: str | None = None
    funding_reference: str | None = None
    funded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    bank_file: str | None = None
    result_file: str | None = None
    report_file: str | None = None
    paid_count: int = 0
    paid_total: Decimal = _money()
    failed_count: int = 0
    failed_total: Decimal = _money()
    flagged_count: int = 0
    deaths_found: int = 0
    held_count: int = 0  # lines held: bank format, deaths, stops, duplicates (reason per line)
    held_total: Decimal = _money()
    # The compile's reach: the county's highest entitlement-account id it looked at, and
    # whether dispersed 特困 was paid quarterly. A later month pays what this one could not
    # have (accounts written after it compiled, payable in it): see ``compile_payroll``.
    covered_upto: int | None = None
    quarterly_tekun: bool = False
    revision: int = 0
    run_id: str | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class BankBatch(SQLModel, table=True):
    """A file handed to the paying bank (payroll, campaign, or the daily batch of temporary
    assistance: kind ``temporary``) and its result file. The daily batch also publishes its
    status and reconciliation here (``DailyBankBatchWorkflow``, migration 0008); the payroll
    and the campaign keep theirs in ``payroll_run`` / ``campaign``."""

    __tablename__ = "bank_batch"

    batch_id: str = Field(primary_key=True)
    kind: str  # payroll | campaign | temporary (the daily batch)
    county_code: str = Field(index=True)
    value_date: date
    file_path: str
    line_count: int
    total: Decimal = _money()
    result_path: str | None = None
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    # The daily batch's own record (empty for payroll and campaign batches).
    status: str = Field(default="", index=True)
    workflow_id: str | None = None
    run_id: str | None = None
    revision: int = 0
    value_date_provisional: bool = False
    assigned_count: int = 0
    assigned_total: Decimal = _money()
    paid_count: int = 0
    paid_total: Decimal = _money()
    failed_count: int = 0
    failed_total: Decimal = _money()
    held_count: int = 0
    held_total: Decimal = _money()
    credited_back_count: int = 0
    credited_back_total: Decimal = _money()
    report_path: str | None = None
    bank_error: str | None = None
    updated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class BankLedger(SQLModel, table=True):
    """The embedded paying bank's own ledger: one credit per instruction reference, so a file
    submitted twice never credits a card twice."""

    __tablename__ = "bank_ledger"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True)
    batch_id: str = Field(index=True)
    account: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    amount: Decimal = _money()
    value_date: date
    credited_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class BankClosedAccount(SQLModel, table=True):
    """Accounts the embedded bank refuses (closed, frozen, invalid), with the bank's code."""

    __tablename__ = "bank_closed_account"

    # Sealed (jiuzhu/db/sealing.py); one row per account, keyed by its blind index.
    account_index: str | None = Field(
        default=None, sa_column=index_column("account", primary_key=True)
    )
    account: str = Field(sa_column=sealed_column())
    code: str  # e.g. "51" closed, "52" frozen, "53" no such account
    reason_zh: str


class DeathRecord(SQLModel, table=True):
    """A death reported by police/health data, loaded by an admin (seed 002: monthly death
    check)."""

    __tablename__ = "death_record"
    __table_args__ = (UniqueConstraint("id_number_index", name="uq_death_record_person"),)

    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    id_number_index: str | None = Field(
        default=None, sa_column=index_column("id_number", indexed=False)
    )
    name: str
    date_of_death: date
    source: str
    loaded_by: str
    # Indexed: the payroll's re-check looks at the deaths loaded since its previous look.
    loaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), index=True))


class Campaign(SQLModel, table=True):
    """A one-off payment to every active recipient of chosen programmes (seed 003)."""

    __tablename__ = "campaign"

    campaign_id: str = Field(primary_key=True)
    name: str
    county_code: str = Field(index=True)
    programmes: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    amount_per_person: Decimal = _money()
    provincial_ratio: Decimal = Field(sa_column=Column(Numeric(5, 4), nullable=False))
    pay_by: date
    status: str
    created_by: str
    instruction_count: int = 0
    total: Decimal = _money()
    provincial_total: Decimal = _money()
    local_total: Decimal = _money()
    paid_count: int = 0
    failed_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
