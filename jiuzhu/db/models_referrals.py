"""The referral register (issue 14 item 4): one row per referral of a household's need to
another department, with the department's answer — read by the household's assistance chain
(seed 001 二(二)1(3) 一户（人）一条救助链) and by ``/referrals``. Written only by the referral
workflow's ``record_referral`` activity (revision guard), with the case's read-model row and
audit lines."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow
from jiuzhu.db.sealing import index_column, sealed_column


class Referral(SQLModel, table=True):
    __tablename__ = "referral"

    referral_id: str = Field(primary_key=True)
    workflow_id: str
    household_id: str = Field(index=True)
    source_case_id: str = Field(index=True)
    source_kind: str
    source_programme: str
    department: str = Field(index=True)
    need: str = Field(index=True)
    person_name: str
    person_id_number: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    person_id_number_index: str | None = Field(
        default=None, sa_column=index_column("person_id_number")
    )
    request_zh: str
    area_code: str = Field(index=True)
    county_code: str = Field(index=True)
    status: str = Field(index=True)  # awaiting_answer | answered | withdrawn
    asked_on: date
    referred_by: str
    referred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    due_date: date | None = None
    reminded: bool = False
    escalated: bool = Field(default=False, index=True)
    repeat_reason: str | None = None
    answer_outcome: str | None = None  # granted | declined | redirected
    answer_zh: str | None = None
    answered_on: date | None = None
    answered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    answer_amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    department_reference: str | None = None
    answered_by: str | None = None
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    revision: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
