"""Tables of temporary assistance (临时救助, DOMAIN §6): the township reserve fund (备用金) and its
ledger, the event register behind "the same event is not aided twice", recoveries of rejected
prepayments, and the register of prepayments (listed by justification due date).

Reserve-fund money is kept in integer fen (分): the debit is one conditional SQL update
(``balance_fen = balance_fen - :x WHERE township_code = :t AND balance_fen >= :x``), exact on
SQLite as on PostgreSQL (SQLite has no exact decimal type)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow


class ReserveFund(SQLModel, table=True):
    """One township's reserve fund for emergency prepayments (乡镇临时救助备用金)."""

    __tablename__ = "reserve_fund"

    township_code: str = Field(primary_key=True)
    county_code: str = Field(index=True)
    balance_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class ReserveFundEntry(SQLModel, table=True):
    """Every debit and credit of a reserve fund, with its case and who caused it."""

    __tablename__ = "reserve_fund_entry"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    township_code: str = Field(index=True)
    county_code: str = Field(index=True)
    direction: str  # debit | credit
    purpose: str  # prepayment | replenishment | recovery | bank_return
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    case_id: str | None = Field(default=None, index=True)
    payment_idempotency_key: str | None = None
    actor_officer_id: str | None = None
    actor_name: str | None = None
    note_zh: str = ""
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), index=True)
    )


class TemporaryEventClaim(SQLModel, table=True):
    """One person's claim on one event by one case. ``claim_key`` is the bare ``event_key`` for
    the first case to aid the event and ``event_key:case_id`` for a repeat with its recorded
    reason, so two cases racing for the same event without a reason cannot both win."""

    __tablename__ = "temporary_event_claim"
    __table_args__ = (UniqueConstraint("event_key", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_key: str = Field(unique=True)
    event_key: str = Field(index=True)
    case_id: str = Field(index=True)
    event_type: str
    event_date: date
    repeat_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class TemporaryRecovery(SQLModel, table=True):
    """Recovery (追回) of a prepayment whose justification the county rejected; when recovered,
    the reserve fund is credited."""

    __tablename__ = "temporary_recovery"

    case_id: str = Field(primary_key=True)
    workflow_id: str
    township_code: str = Field(index=True)
    county_code: str = Field(index=True)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    recovered_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default="open", index=True)  # open | recovered
    reason_zh: str
    opened_by: str
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class TemporaryPrepayment(SQLModel, table=True):
    """Register of prepayments and their justification (a read model written by the workflow):
    open prepayments are listed by justification due date, overdue ones flagged."""

    __tablename__ = "temporary_prepayment"

    case_id: str = Field(primary_key=True)
    workflow_id: str
    area_code: str = Field(index=True)
    township_code: str = Field(index=True)
    county_code: str = Field(index=True)
    applicant_name: str
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    granted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    justification_due: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True, index=True)
    )
    justified_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    status: str = Field(index=True)
    overdue: bool = Field(default=False, index=True)
    revision: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
