"""Foundation tables. Table models never travel in workflow payloads (histories outlive
schemas); workflows and activities exchange the pydantic models in ``jiuzhu.records``."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, Numeric, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from jiuzhu.clock import to_beijing
from jiuzhu.db.sealing import SealedJSON, index_column, sealed_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, stored as UTC and handed back aware (in Beijing time).

    SQLite has no time zone type: SQLAlchemy writes a datetime's wall time and drops its offset,
    so an instant in Beijing time and one in UTC would be stored on different clocks and compared
    as text. Every instant is therefore converted to UTC before it is written (a naive one is
    taken as UTC, the convention of this code base) and read back as an aware instant; a filter
    value bound against such a column is converted the same way, so comparisons in SQL compare
    instants. On PostgreSQL the column is ``timestamptz`` and the value stays aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else to_beijing(value)


def _ts(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable))


class Officer(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    role: str = Field(index=True)
    area_code: str = Field(index=True)
    token_hash: str = Field(unique=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    # The token stops working at this instant (None: never, for officers created before
    # expiry existed); a rotation sets a new token and a new expiry.
    token_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    created_by: str | None = None
    deactivated_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )


class CaseRecord(SQLModel, table=True):
    """The read model of one case (application, entitlement or temporary case): lists and
    searches come from here; the live detail comes from a workflow query."""

    __tablename__ = "case_record"

    case_id: str = Field(primary_key=True)
    workflow_id: str = Field(index=True)
    case_kind: str = Field(index=True)
    programme: str = Field(index=True)
    status: str = Field(index=True)
    area_code: str = Field(index=True)
    county_code: str = Field(index=True)
    township_code: str = Field(index=True)
    household_id: str = Field(index=True)
    applicant_name: str
    # Sealed (jiuzhu/db/sealing.py); searched through its blind index.
    applicant_id_number: str = Field(sa_column=sealed_column())
    applicant_id_number_index: str | None = Field(
        default=None, sa_column=index_column("applicant_id_number")
    )
    household_size: int
    policy_version_id: str | None = None
    next_deadline: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True, index=True)
    )
    overdue: bool = Field(default=False, index=True)
    revision: int = 0
    linked_case_id: str | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class CaseState(SQLModel, table=True):
    """A case's full state as its workflow's ``get_state`` query answered it, kept by the
    read-model revision it carries (``api/case_states.py``): a detail read of an unchanged case
    is answered from here instead of asking the worker again. ``valid_until``: the instant the
    state changes without a new revision (a deadline's reminder is recorded in the workflow
    only), None when nothing is timed. Sealed whole: the state holds ID numbers and accounts."""

    __tablename__ = "case_state"

    case_id: str = Field(primary_key=True)
    revision: int
    state: str = Field(sa_column=sealed_column())
    valid_until: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    stored_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class AuditEntry(SQLModel, table=True):
    """Who did what, when, on which evidence, under which policy version (DOMAIN §7)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    at: datetime = Field(sa_column=Column(UtcDateTime(), index=True))
    case_id: str = Field(index=True)
    workflow_id: str
    action: str
    actor_officer_id: str | None = None
    actor_name: str | None = None
    actor_role: str | None = None
    policy_version_id: str | None = None
    evidence: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class OutboxMessage(SQLModel, table=True):
    """Reminders, escalations and notices addressed to a role in an area (who, what, case, when)."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    kind: str = Field(index=True)
    recipient_role: str = Field(index=True)
    recipient_area: str = Field(index=True)
    case_id: str = Field(index=True)
    workflow_id: str
    deadline_name: str | None = None
    message_zh: str
    due_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    # Withdrawn: the deadline was met on paper in time (a step entered after the fact).
    voided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    voided_reason_zh: str | None = None


class CalendarYear(SQLModel, table=True):
    """A year's official holidays and make-up working days loaded by an admin (DOMAIN §8)."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True)
    holidays: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    workdays: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    loaded_by: str
    loaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class PolicyVersion(SQLModel, table=True):
    """A policy layer added by an admin through the API; file layers live in policies/."""

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("area_code", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: str = Field(unique=True)
    area_code: str = Field(index=True)
    effective_from: date
    layer: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_by: str
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class IdempotencyKey(SQLModel, table=True):
    """A client's Idempotency-Key, reserved before the work it names is done: the same key
    (per officer and scope) addresses the same resource or step; the same key with a different
    body is refused. ``key`` is ``{scope}:{client key}`` and unique per officer, so the unique
    constraint decides a race between concurrent requests. ``response`` is the recorded answer
    of a step (JSON), returned to a retry."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("officer_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    officer_id: str = Field(index=True)
    scope: str = Field(default="", sa_column_kwargs={"server_default": ""})
    key: str
    request_hash: str
    resource_id: str
    # Sealed whole (jiuzhu/db/sealing.py): a step's answer is the case's state, ID numbers and
    # account included.
    response: dict[str, Any] | None = Field(
        default=None, sa_column=Column(SealedJSON(), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class PaymentInstruction(SQLModel, table=True):
    """One instruction to pay, shared by payroll, campaigns, prepayments and temporary aid.
    ``idempotency_key`` (e.g. household, programme, period) is minted inside the workflow and is
    unique: a re-run or retry never creates a second payment."""

    __tablename__ = "payment_instruction"
    # A batch's lines in id order: the bank step, report and re-check read keyset pages of it.
    # ``status`` is not indexed, so that a line marked sent or paid is rewritten in place on
    # PostgreSQL (a heap-only update, no index touched); the few lines with a problem (failed,
    # flagged, held: each has its ``failure_reason``) are found through partial indexes, by
    # county (re-queue, gauge) and by batch (a month's held totals).
    __table_args__ = (
        Index("ix_payment_instruction_payroll_id_id", "payroll_id", "id"),
        Index(
            "ix_payment_instruction_problems",
            "county_code",
            postgresql_where=text("failure_reason IS NOT NULL"),
            sqlite_where=text("failure_reason IS NOT NULL"),
        ),
        Index(
            "ix_payment_instruction_batch_problems",
            "payroll_id",
            postgresql_where=text("failure_reason IS NOT NULL"),
            sqlite_where=text("failure_reason IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    kind: str = Field(index=True)  # payroll | campaign | prepayment | temporary | staged
    case_id: str = Field(index=True)
    household_id: str = Field(index=True)
    programme: str = Field(index=True)
    area_code: str = Field(index=True)
    county_code: str = Field(index=True)
    period: str = Field(index=True)  # "2026-02", or a date for one-off payments
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    payee_name: str
    # Sealed (jiuzhu/db/sealing.py): the bank file is written from the decrypted values.
    payee_id_number: str = Field(sa_column=sealed_column())
    # Not indexed (the clear column was not either): only the household's chain looks it up.
    payee_id_number_index: str | None = Field(
        default=None, sa_column=index_column("payee_id_number", indexed=False)
    )
    card_account: str = Field(sa_column=sealed_column())
    funding_source: str = "county"  # county | reserve_fund | provincial_local
    provincial_share: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    local_share: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    payroll_id: str | None = None  # indexed with id (__table_args__)
    status: str = "pending"  # PaymentStatus; not indexed (__table_args__)
    failure_reason: str | None = None
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    paid_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
