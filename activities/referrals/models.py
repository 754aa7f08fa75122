"""Payloads of the referral activities (pure models): the register row a referral writes with
its read-model snapshot and audit lines."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from jiuzhu.records import AuditRecord, CaseSnapshot


class ReferralRegisterRow(BaseModel):
    """The ``referral`` row of a referral (mirrors ``jiuzhu.db.models_referrals.Referral``)."""

    referral_id: str
    workflow_id: str
    household_id: str
    source_case_id: str
    source_kind: str
    source_programme: str
    department: str
    need: str
    person_name: str
    person_id_number: str
    request_zh: str
    area_code: str
    county_code: str
    status: str
    asked_on: date
    referred_by: str
    referred_at: datetime
    due_date: date | None = None
    reminded: bool = False
    escalated: bool = False
    repeat_reason: str | None = None
    answer_outcome: str | None = None
    answer_zh: str | None = None
    answered_on: date | None = None
    answered_at: datetime | None = None
    answer_amount: Decimal | None = None
    department_reference: str | None = None
    answered_by: str | None = None
    closed_at: datetime | None = None
    revision: int


class RecordReferral(BaseModel):
    """One step of a referral: its read-model row, register row and audit lines, committed
    together."""

    snapshot: CaseSnapshot
    row: ReferralRegisterRow
    audit: list[AuditRecord] = Field(default_factory=list)
