"""Payloads of the entitlement activities (and the parts of entitlement state they carry): the
member shares, the ``entitlement_account`` row the payroll reads, written notices and the
payment summary. Pure models."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from rules.programmes import Programme
from rules.reasons import ReasonCode
from workflows.entitlements.contract import ShareStatus


def month_index(d: date) -> int:
    """``year * 12 + month - 1``: months as integers for set-based SQL."""
    return d.year * 12 + d.month - 1


def month_of_index(index: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def period_label(index: int) -> str:
    d = month_of_index(index)
    return f"{d.year:04d}-{d.month:02d}"


class MemberShare(BaseModel):
    id_number: str
    name: str
    relation: str
    status: ShareStatus = ShareStatus.ACTIVE
    unjustified_refusals: int = 0
    justified_refusals: int = 0
    note_zh: str = ""


class AccountSnapshot(BaseModel):
    """The entitlement's row in the read model the payroll reads (``entitlement_account``) and
    its members' shares (``entitlement_member``); months as ``month_index``. ``county_code``
    and ``township_code`` come from the case's ``AreaRef``."""

    case_id: str
    workflow_id: str
    household_id: str
    programme: str
    area_code: str
    county_code: str
    township_code: str
    status: str
    centralised: bool
    monthly_amount: Decimal
    payable_amount: Decimal
    next_amount: Decimal | None
    next_amount_from: int | None
    members_total: int
    members_paid: int
    start_month: int
    end_month: int | None
    payee_name: str
    payee_id_number: str
    card_account: str
    bank_code: str
    next_review: date | None
    policy_version_id: str | None
    revision: int
    members: list[MemberShare]


class NoticeReason(BaseModel):
    text_zh: str
    code: ReasonCode | None = None
    basis: str | None = None


class NoticeRequest(BaseModel):
    """A written notice to render and keep (低保办法 Art. 32; 特困办法 Art. 26)."""

    notice_id: str
    case_id: str
    kind: str  # termination | reduction | suspension
    area_code: str
    applicant_name: str
    programme: Programme
    issued_on: date
    effective_month: date
    reasons: list[NoticeReason]
    previous_amount: Decimal | None = None
    new_amount: Decimal | None = None
    withdrawal_until: date | None = None
    referral: str | None = None
    deliver_to_area: str


class NoticeRef(BaseModel):
    notice_id: str
    kind: str
    title: str
    issued_on: date


class SummaryRequest(BaseModel):
    case_id: str


class PaymentSummary(BaseModel):
    """Payment history summary refreshed from the payment table at each review cycle; the API
    adds the live lines."""

    paid_count: int = 0
    paid_total: Decimal = Decimal("0.00")
    failed_count: int = 0
    last_paid_period: str | None = None
    as_of: datetime | None = None
