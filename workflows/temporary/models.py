"""Models of the temporary-assistance workflow (临时救助, DOMAIN §6): its input, its state
(returned by the ``get_state`` query, carried across continue-as-new), the update inputs and
the small update result. Pure pydantic models; activity payloads live beside their activities
(``activities/temporary/payloads.py``)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from activities.deadlines import Deadline
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from rules.money import to_cents
from rules.policy import Policy
from workflows.applications.contract import ApplicantMember
from workflows.entitlements.contract import CardAccount
from workflows.payments.contract import PaymentKind
from workflows.temporary.contract import (
    EventType,
    TemporaryOutcome,
    TemporaryProcedure,
    TemporaryStatus,
)

Yuan = Annotated[Decimal, AfterValidator(to_cents)]
"""Yuan with exactly two decimal places (range checks are business rules, see
``workflows.temporary.rules``)."""


class AidEvent(BaseModel):
    """What happened, when: with the household's members it keys the "same event is not aided
    twice" guard (民发〔2018〕23号: 对同一事由不重复救助)."""

    event_type: EventType
    event_date: date
    description_zh: str


# --- update inputs ------------------------------------------------------------------------------
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


class CloseCase(BaseModel):
    actor: Actor
    reason_zh: str = Field(min_length=1)


class StepResult(BaseModel):
    """What every Update returns: small, so the history stays light; the API queries
    ``get_state`` for its full answer."""

    case_id: str
    status: TemporaryStatus
    revision: int
    outcome: TemporaryOutcome | None = None


# --- state --------------------------------------------------------------------------------------
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
    """One stage of a staged plan (1-based ``index``), paid on ``pay_on`` (Beijing date)."""

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

    def unpaid(self) -> list[Stage]:
        return [s for s in self.stages if s.paid_at is None]


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
    kind: PaymentKind
    funding_source: str  # reserve_fund | county
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
    area: AreaRef
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

    @model_validator(mode="before")
    @classmethod
    def _area_from_code(cls, data: Any) -> Any:
        """A state written before ``area`` existed resolves it from ``area_code``."""
        if isinstance(data, dict) and data.get("area") is None and data.get("area_code"):
            data = {**data, "area": AreaRef.of(data["area_code"])}
        return data

    @property
    def applicant(self) -> ApplicantMember:
        return next(m for m in self.members if m.relation == "applicant")

    @property
    def total_paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    def next_stage(self) -> Stage | None:
        """The next unpaid stage of an approved 一事一议 plan."""
        d = self.special_decision
        return d.next_unpaid() if d is not None and d.approved else None


TemporaryCaseInput.model_rebuild()
