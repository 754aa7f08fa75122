"""Payloads of the entitlement workflow (DOMAIN §5): its input (an ``ApprovedCase`` plus the state
carried across continue-as-new), its state (returned by the query), and one input and one small
result model per update. Pure models shared with the API; the statuses, the hand-off model and
the death notification are in ``contract``, the activity payloads beside the activities."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from activities.deadlines import Deadline
from activities.entitlements.models import (
    AccountSnapshot,
    MemberShare,
    NoticeReason,
    NoticeRef,
    NoticeRequest,
    PaymentSummary,
    SummaryRequest,
    month_index,
    month_of_index,
    period_label,
)
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from rules.household import CareTier, SelfCareAssessment
from rules.periods import Period, calendar_days, months, working_days
from rules.programmes import Programme
from rules.reasons import ReasonCode
from workflows.entitlements.contract import (
    PAYING_STATUSES,
    ApprovedCase,
    CardAccount,
    DeathNotification,
    DeathResult,
    EntitlementStatus,
    ShareStatus,
)

__all__ = [
    "PAYING_STATUSES",
    "AccountSnapshot",
    "ApprovedCase",
    "CardAccount",
    "DeathNotification",
    "DeathResult",
    "EntitlementStatus",
    "MemberShare",
    "NoticeReason",
    "NoticeRef",
    "NoticeRequest",
    "PaymentSummary",
    "ShareStatus",
    "SummaryRequest",
    "month_index",
    "month_of_index",
    "period_label",
]

# No national rule fixes how long a review may take once opened, nor how long an investigation
# of a reported change may take: local practice, kept here as documented defaults (a candidate
# for policy parameters ``review_completion`` / ``change_investigation``).
REVIEW_COMPLETION: Period = months(1)
CHANGE_INVESTIGATION: Period = working_days(10)
# 特困办法 Art. 24–27: a proposed termination is published for 7 days.
TEKUN_TERMINATION_PUBLICITY: Period = calendar_days(7)
TIMELINE_KEEP = 60  # entries carried across continue-as-new (the audit table keeps them all)


class ChangeKind(StrEnum):
    """Reported changes of circumstances and data-comparison flags (DOMAIN §5)."""

    INCOME = "income"
    ASSETS = "assets"
    MEMBERS = "members"
    DEATH = "death"
    PRISON = "prison"
    MILITARY_SERVICE = "military_service"
    DATA_FLAG = "data_flag"
    SELF_CARE = "self_care"  # 特困: self-care ability changed (特困办法 Art. 23)


CHANGE_NAMES_ZH: dict[ChangeKind, str] = {
    ChangeKind.INCOME: "收入变化",
    ChangeKind.ASSETS: "财产变化",
    ChangeKind.MEMBERS: "家庭成员变化",
    ChangeKind.DEATH: "成员死亡",
    ChangeKind.PRISON: "成员服刑",
    ChangeKind.MILITARY_SERVICE: "成员服兵役",
    ChangeKind.DATA_FLAG: "数据比对预警",
    ChangeKind.SELF_CARE: "生活自理能力变化",
}


class ReviewKind(StrEnum):
    PERIODIC = "periodic"  # 定期核查 (低保办法 Art. 31)
    DEATH = "death"  # household review within 3 months of a member's death
    CHANGE = "change"  # after an investigation of a reported change
    COVERAGE_AGE = "coverage_age"  # 特困 minor reaches the coverage age (18): still in school?


class ReviewOutcomeKind(StrEnum):
    CONTINUE = "continue"
    ADJUST = "adjust"  # new amount from next month
    STOP = "stop"  # 停发/终止 with a written notice (特困: 7-day publicity first)
    WITHDRAW = "withdraw"  # 渐退期: income above the standard through work


class TransferCheck(StrEnum):
    """特困办法 Art. 27: after termination, transfer to 低保 or temporary assistance if
    eligible — the outcome of that check."""

    DIBAO = "dibao"
    TEMPORARY = "temporary"
    NONE_ELIGIBLE = "none_eligible"


class Investigation(BaseModel):
    investigation_id: str
    kind: ChangeKind
    member_id_number: str | None = None
    description_zh: str
    reported_by: Actor
    opened_at: datetime
    deadline_name: str
    closed_at: datetime | None = None
    closed_by: Actor | None = None
    finding_zh: str | None = None
    review_opened: bool = False


class ReviewTask(BaseModel):
    review_id: str
    kind: ReviewKind
    opened_at: datetime
    reason_zh: str
    deadline_name: str
    closed_at: datetime | None = None
    outcome: ReviewOutcomeKind | None = None
    decided_by: Actor | None = None


class EntitlementState(BaseModel):
    entitlement_id: str
    application_id: str
    household_id: str
    programme: Programme
    single_person: bool = False
    area_code: str
    area: AreaRef  # resolved once when the case started (filled from area_code if absent)
    members: list[MemberShare]
    members_can_work: bool = False
    centralised: bool = False
    institution_name: str | None = None
    care_tier: str | None = None
    card_account: CardAccount
    policy_version_id: str
    approved_at: datetime
    approved_by: Actor
    status: EntitlementStatus = EntitlementStatus.ACTIVE
    monthly_amount: Decimal  # approved amount for the whole household
    payable_amount: Decimal  # paid now: shares that are not active are removed
    next_amount: Decimal | None = None  # adjusted payable amount ...
    next_monthly_amount: Decimal | None = None  # ... and household amount ...
    next_amount_from: date | None = None  # ... from the first day of this month
    start_month: date
    end_month: date | None = None  # last payable month
    frequency: str = "monthly"  # dispersed 特困 may be paid quarterly (county policy)
    review_every: Period
    next_review: date
    withdrawal_period: Period
    death_review: Period
    work_refusal_limit: int
    reminder_lead: Period
    review: ReviewTask | None = None
    past_reviews: int = 0
    investigations: list[Investigation] = Field(default_factory=list)
    # 特困 (patched, issue 14 item 6): the re-assessment period of a reported self-care change
    # (特困办法 Art. 23) and the day a minor reaches the coverage age (Art. 24–27 as summarised
    # in DOMAIN §4: covered to 18, longer while in school); ``None`` on cases recorded before.
    self_care_reassessment: Period | None = None
    coverage_until: date | None = None
    self_care_assessments: list["SelfCareRecord"] = Field(default_factory=list)
    termination_publicity_until: date | None = None
    termination_reason_zh: str | None = None
    transfer_check: TransferCheck | None = None
    notices: list[NoticeRef] = Field(default_factory=list)
    payments: PaymentSummary = Field(default_factory=PaymentSummary)
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    seen_deaths: list[str] = Field(default_factory=list)
    # Deaths whose receivable waits for the bank's answer (steps/settlement.py), and when the
    # case asks the bank's answers again; empty on cases recorded before.
    recoveries_waiting: list["WaitingRecovery"] = Field(default_factory=list)
    settle_at: datetime | None = None
    settle_checks: int = 0
    revision: int = 0
    cycle: int = 0  # continue-as-new generations
    counter: int = 0  # for ids minted in the workflow

    @model_validator(mode="before")
    @classmethod
    def _area(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("area") is None and data.get("area_code"):
            data = {**data, "area": AreaRef.of(data["area_code"])}
        return data

    def member(self, id_number: str) -> MemberShare | None:
        return next((m for m in self.members if m.id_number == id_number), None)


class WaitingRecovery(BaseModel):
    """A death whose receivable is opened once the bank has answered the lines it holds:
    the notification and how many members the household covered before it."""

    death: DeathNotification
    covered: int


class SelfCareRecord(BaseModel):
    """One self-care re-assessment (生活自理能力复核评估, 特困办法 Art. 20–23)."""

    investigation_id: str
    assessed_on: date
    assessed_by: Actor
    previous_tier: CareTier | None
    care_tier: CareTier
    unable_count: int
    effective_from: date | None  # first month of the new care standard; None: tier unchanged


EntitlementState.model_rebuild()


class EntitlementInput(ApprovedCase):
    """What an approved application passes (``ApprovedCase``), plus the state carried across
    continue-as-new."""

    carried: EntitlementState | None = None


# --- updates ------------------------------------------------------------------------------
class ChangeReport(BaseModel):
    """A reported change or a data-comparison flag: opens an investigation (nobody is stopped
    on a flag alone, seed 002)."""

    actor: Actor
    kind: ChangeKind
    member_id_number: str | None = None
    description_zh: str = Field(min_length=1, max_length=500)
    occurred_on: date | None = None


class ChangeReceipt(BaseModel):
    investigation_id: str
    review_id: str | None = None


class InvestigationClose(BaseModel):
    actor: Actor
    investigation_id: str
    finding_zh: str = Field(min_length=1, max_length=1000)
    open_review: bool = False


class ReviewOutcome(BaseModel):
    """The county's decision on an open review."""

    actor: Actor
    outcome: ReviewOutcomeKind
    reasons_zh: str = Field(min_length=1, max_length=1000)
    reason_code: ReasonCode | None = None
    new_amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    per_capita_income: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    transfer_check: TransferCheck | None = None
    confirm_deaths: bool = True  # a death review confirms the death: share → deceased


class ReviewResult(BaseModel):
    status: EntitlementStatus
    payable_amount: Decimal
    end_month: date | None
    next_review: date | None
    notice_id: str | None = None


class WorkRefusal(BaseModel):
    """A refusal of suitable work or a project by a member (低保办法 Art. 34)."""

    actor: Actor
    member_id_number: str
    justified: bool
    description_zh: str = Field(min_length=1, max_length=500)


class MoveOut(BaseModel):
    """成员迁出 (分户): a member has left the household — moved out, married into another
    household, split off to apply on their own. Their share ends from next month and they may
    then be a member of another household of the programme (one active household per person
    and programme, issue 11 item 4; 低保办法 Art. 6, 32)."""

    actor: Actor
    member_id_number: str
    moved_on: date | None = None
    reason_zh: str = Field(min_length=1, max_length=500)


class MoveOutResult(BaseModel):
    id_number: str
    next_amount: Decimal | None
    effective_from: date
    notice_id: str | None = None


class SelfCareReassessment(BaseModel):
    """``record_self_care_assessment`` input: the re-assessment of a reported self-care change
    on the six activities (特困办法 Art. 20–23), closing that change's investigation."""

    actor: Actor
    investigation_id: str = Field(min_length=1, max_length=40)
    assessment: SelfCareAssessment
    assessed_on: date | None = None  # the paper date of the assessment (default: today)
    note_zh: str = Field(default="", max_length=500)


class SelfCareResult(BaseModel):
    previous_tier: CareTier | None
    care_tier: CareTier
    next_amount: Decimal | None
    effective_from: date | None
    notice_id: str | None = None


class WorkRefusalResult(BaseModel):
    unjustified_refusals: int
    share_cut: bool
    notice_id: str | None = None


class CardAccountChange(BaseModel):
    actor: Actor
    card_account: CardAccount

    @field_validator("card_account")
    @classmethod
    def _account(cls, v: CardAccount) -> CardAccount:
        if not v.account_number.strip():
            raise ValueError("account_number must not be blank")
        return v
