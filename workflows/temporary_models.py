"""Payloads of the temporary-assistance workflow (临时救助, DOMAIN §6): its input, its state
(returned by the query, carried across continue-as-new), its update inputs and the activity
payloads. Pure pydantic models shared with the API and the activities; no table models."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from jiuzhu.contract import Actor
from jiuzhu.deadline_models import Deadline
from jiuzhu.handoff import CardAccount
from jiuzhu.records import AuditRecord, CaseSnapshot
from rules.money import to_cents
from rules.policy import Policy
from workflows.application_models import ApplicantMember, TimelineEntry

Yuan = Annotated[Decimal, AfterValidator(to_cents)]
"""Yuan with exactly two decimal places (range checks are business rules, see
``workflows.temporary_rules``)."""


class TemporaryProcedure(StrEnum):
    """急难型 (emergency: prepayment now, justification later) or 支出型 (normal procedure)."""

    EMERGENCY = "emergency"
    NORMAL = "normal"


class EventType(StrEnum):
    """The emergency or hardship the aid answers (民发〔2018〕23号 一(二))."""

    FIRE = "fire"
    ACCIDENT = "accident"
    SERIOUS_ILLNESS = "serious_illness"
    NATURAL_DISASTER = "natural_disaster"
    CRIME = "crime"
    EXPENSE_SPIKE = "expense_spike"
    OTHER = "other"


EVENT_TYPE_NAMES_ZH: dict[EventType, str] = {
    EventType.FIRE: "火灾",
    EventType.ACCIDENT: "意外事故",
    EventType.SERIOUS_ILLNESS: "突发重大疾病",
    EventType.NATURAL_DISASTER: "自然灾害",
    EventType.CRIME: "遭受不法侵害",
    EventType.EXPENSE_SPIKE: "刚性支出突增",
    EventType.OTHER: "其他",
}


class TemporaryStatus(StrEnum):
    """Where the case stands (the ProgrammeStatus search attribute). A case may combine a
    prepayment and a referral; the status shows the most urgent open part."""

    REGISTERED = "registered"  # 已登记
    PREPAID = "prepaid"  # 已先行救助，待事后补充说明
    JUSTIFIED = "justified"  # 已补充说明，待县级审核
    RECOVERY = "recovery"  # 补充说明未通过，追回中
    REFERRED = "referred"  # 已提交县级一事一议
    PAYING = "paying"  # 一次审批、分阶段救助中
    IN_APPLICATION = "in_application"  # 支出型：审核审批中
    CLOSED = "closed"


STATUS_NAMES_ZH: dict[TemporaryStatus, str] = {
    TemporaryStatus.REGISTERED: "已登记",
    TemporaryStatus.PREPAID: "已先行救助，待补充说明",
    TemporaryStatus.JUSTIFIED: "已补充说明，待县级审核",
    TemporaryStatus.RECOVERY: "追回中",
    TemporaryStatus.REFERRED: "待县级一事一议",
    TemporaryStatus.PAYING: "分阶段发放中",
    TemporaryStatus.IN_APPLICATION: "审核审批中",
    TemporaryStatus.CLOSED: "已办结",
}


class TemporaryOutcome(StrEnum):
    AIDED = "aided"  # money paid and every part settled
    RECOVERED = "recovered"  # prepayment rejected and recovered
    REFUSED = "refused"  # application refused or 一事一议 refused, nothing paid
    WITHDRAWN = "withdrawn"
    CLOSED_WITHOUT_AID = "closed_without_aid"


class AidEvent(BaseModel):
    """What happened, when: with the household's members it keys the "same event is not aided
    twice" guard (民发〔2018〕23号: 对同一事由不重复救助)."""

    event_type: EventType
    event_date: date
    description_zh: str


# --- human inputs (update payloads) -------------------------------------------------------
class Investigation(BaseModel):
    """The household visit behind a justification (≥ 2 investigators, 低保办法 Art. 16 by
    analogy; phone/video allowed in an emergency)."""

    investigators: list[str] = Field(min_length=2)
    investigated_on: date
    findings_zh: str = Field(min_length=1)


class Signature(BaseModel):
    """An approving signature: who, in which role, when, with which opinion."""

    officer: Actor
    signed_at: datetime
    opinion_zh: str = ""


class GrantPrepayment(BaseModel):
    """小金额先行救助: a township officer pays at once from the reserve fund, up to the cap."""

    actor: Actor
    amount: Yuan
    reason_zh: str = Field(min_length=1)
    repeat_reason: str | None = None


class SubmitJustification(BaseModel):
    """事后补充说明: who was helped, why, how much, the investigation, the township signature."""

    actor: Actor
    beneficiary_name: str | None = None
    beneficiary_id_number: str | None = None
    reason_zh: str = Field(min_length=1)
    amount: Yuan
    investigation: Investigation
    opinion_zh: str = ""


class ReviewJustification(BaseModel):
    """The county record of the justification: accepted, or rejected (opens recovery)."""

    actor: Actor
    accept: bool
    reason_zh: str = ""


class RecordRecovery(BaseModel):
    actor: Actor
    amount: Yuan
    recovered_on: date
    method_zh: str = Field(min_length=1)


class ReferToCounty(BaseModel):
    """A need above the township's cap goes to the county coordination mechanism (一事一议)."""

    actor: Actor
    need_amount: Yuan
    situation_zh: str = Field(min_length=1)


class StagePlan(BaseModel):
    pay_on: date
    amount: Yuan


class DecideSpecial(BaseModel):
    """一事一议 by the county: the amount, paid at once or in stages (一次审批、分阶段救助)."""

    actor: Actor
    approve: bool
    amount: Yuan | None = None
    stages: list[StagePlan] = Field(default_factory=list)
    meeting_ref: str = ""
    reason_zh: str = ""
    repeat_reason: str | None = None


class CalendarChanged(BaseModel):
    """Signal payload: a year's working-day schedule was loaded (DOMAIN §8)."""

    year: int | None = None


class CloseCase(BaseModel):
    actor: Actor
    reason_zh: str = Field(min_length=1)


# --- state ---------------------------------------------------------------------------------
class Justification(BaseModel):
    beneficiary_name: str
    beneficiary_id_number: str
    reason_zh: str
    amount: Decimal
    investigation: Investigation
    township_signature: Signature
    late: bool = False


class JustificationReview(BaseModel):
    accepted: bool
    reason_zh: str
    county_signature: Signature


class RecoveryEntry(BaseModel):
    amount: Decimal
    recovered_on: date
    method_zh: str
    recorded_by: Actor
    recorded_at: datetime
    ledger_entry_id: int


class Recovery(BaseModel):
    amount_due: Decimal
    opened_at: datetime
    entries: list[RecoveryEntry] = Field(default_factory=list)
    closed_at: datetime | None = None

    @property
    def recovered(self) -> Decimal:
        return sum((e.amount for e in self.entries), Decimal("0.00"))

    @property
    def outstanding(self) -> Decimal:
        return self.amount_due - self.recovered


class Prepayment(BaseModel):
    amount: Decimal
    reason_zh: str
    granted_by: Actor
    granted_at: datetime
    payment_key: str
    ledger_entry_id: int
    fund_balance_after: Decimal
    repeat_reason: str | None = None
    justification: Justification | None = None
    review: JustificationReview | None = None
    recovery: Recovery | None = None

    @property
    def settled(self) -> bool:
        """Accepted, or rejected and fully recovered."""
        if self.review is None:
            return False
        if self.review.accepted:
            return True
        return self.recovery is not None and self.recovery.closed_at is not None


class Referral(BaseModel):
    need_amount: Decimal
    situation_zh: str
    referred_by: Actor
    referred_at: datetime


class Stage(BaseModel):
    index: int
    pay_on: date
    amount: Decimal
    payment_key: str
    paid_at: datetime | None = None


class SpecialDecision(BaseModel):
    approved: bool
    amount: Decimal
    stages: list[Stage] = Field(default_factory=list)
    meeting_ref: str
    reason_zh: str
    county_signature: Signature
    repeat_reason: str | None = None

    def next_unpaid(self) -> Stage | None:
        return next((s for s in self.stages if s.paid_at is None), None)


class ChildApplication(BaseModel):
    """The 支出型 procedure runs as the application workflow (child)."""

    application_id: str
    workflow_id: str
    started_at: datetime
    status: str | None = None
    approved_amount: Decimal | None = None
    completed_at: datetime | None = None


class PaymentRecord(BaseModel):
    idempotency_key: str
    kind: str
    funding_source: str
    amount: Decimal
    period: str
    issued_at: datetime


class TemporaryCaseInput(BaseModel):
    case_id: str
    procedure: TemporaryProcedure
    area_code: str
    household_id: str
    members: list[ApplicantMember]
    event: AidEvent
    card_account: CardAccount
    requested_amount: Decimal | None = None
    repeat_reason: str | None = None
    registered_by: Actor
    registered_at: datetime
    resume: "TemporaryCaseState | None" = None


class TemporaryCaseState(BaseModel):
    case_id: str
    procedure: TemporaryProcedure
    area_code: str
    household_id: str
    members: list[ApplicantMember]
    event: AidEvent
    card_account: CardAccount
    requested_amount: Decimal | None = None
    repeat_reason: str | None = None
    registered_by: Actor
    registered_at: datetime
    status: TemporaryStatus = TemporaryStatus.REGISTERED
    outcome: TemporaryOutcome | None = None
    closed_at: datetime | None = None
    closed_reason_zh: str | None = None
    policy: Policy | None = None
    policy_version_id: str | None = None
    linked_case_id: str | None = None
    prepayment: Prepayment | None = None
    referral: Referral | None = None
    special_decision: SpecialDecision | None = None
    application: ChildApplication | None = None
    payments: list[PaymentRecord] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0

    @property
    def applicant(self) -> ApplicantMember:
        return next(m for m in self.members if m.relation == "applicant")

    @property
    def total_paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))


# --- activity payloads -----------------------------------------------------------------------
class EventClaim(BaseModel):
    """Claim an event for a case: refused (EventAlreadyAided) if another case already aided the
    same event for any member and no ``repeat_reason`` is given."""

    case_id: str
    member_id_numbers: list[str]
    event_type: EventType
    event_date: date
    repeat_reason: str | None = None


class PrepaymentDebit(BaseModel):
    """Debit the township reserve fund and issue the prepayment instruction, in one
    transaction (with the event claim)."""

    case_id: str
    township_code: str
    county_code: str
    area_code: str
    household_id: str
    idempotency_key: str
    amount: Decimal
    payee_name: str
    payee_id_number: str
    card_account: str
    period: str
    actor: Actor
    note_zh: str
    claim: EventClaim


class DebitResult(BaseModel):
    """``amount`` is what the ledger recorded (a retry returns the first attempt's figures)."""

    ledger_entry_id: int
    amount: Decimal
    balance_after: Decimal
    idempotency_key: str


class RecoveryCredit(BaseModel):
    case_id: str
    township_code: str
    dedupe_key: str
    amount: Decimal
    closes: bool
    actor: Actor
    note_zh: str


class CreditResult(BaseModel):
    ledger_entry_id: int
    balance_after: Decimal


class PaymentOrder(BaseModel):
    """A county-funded temporary-aid instruction (kind ``temporary`` or ``staged``)."""

    idempotency_key: str
    kind: str
    case_id: str
    household_id: str
    area_code: str
    county_code: str
    period: str
    amount: Decimal
    payee_name: str
    payee_id_number: str
    card_account: str
    funding_source: str = "county"


class RecoveryOpen(BaseModel):
    case_id: str
    workflow_id: str
    township_code: str
    county_code: str
    amount: Decimal
    reason_zh: str
    opened_by: Actor
    opened_at: datetime


class PendingLookup(BaseModel):
    household_id: str
    member_id_numbers: list[str]


class PendingApplication(BaseModel):
    case_id: str
    programme: str
    status: str


class PrepaymentRow(BaseModel):
    """The open-prepayment register row (lists by justification due date)."""

    case_id: str
    workflow_id: str
    area_code: str
    applicant_name: str
    amount: Decimal
    granted_at: datetime
    justification_due: datetime | None
    justified_at: datetime | None
    status: str  # awaiting_justification | awaiting_review | accepted | recovery | recovered
    overdue: bool
    revision: int


class TemporaryRecord(BaseModel):
    """Read model, audit lines and prepayment register, written in one transaction."""

    snapshot: CaseSnapshot
    audit: list[AuditRecord] = Field(default_factory=list)
    prepayment: PrepaymentRow | None = None


TemporaryCaseInput.model_rebuild()
