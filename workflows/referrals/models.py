"""Payloads of the referral workflow: its input (started by the API naming the source case),
its state (the ``get_state`` query), the Update inputs (the department's answer recorded, a
withdrawal) and their small result. Pure models."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from activities.deadlines import Deadline
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from workflows.referrals.contract import (
    AnswerOutcome,
    Department,
    Need,
    ReferralStatus,
    SourceKind,
)


class ReferralInput(BaseModel):
    """A referral of one need of a household, found in a source case, to a department.
    ``duplicate_of``: the household's referrals to the same department for the same need that
    were still awaiting an answer when this one was made (allowed only with ``repeat_reason``)."""

    referral_id: str
    source_case_id: str
    source_kind: SourceKind
    source_programme: str
    household_id: str
    area_code: str
    department: Department
    need: Need
    person_name: str
    person_id_number: str
    request_zh: str
    asked_on: date
    referred_by: Actor
    referred_at: datetime
    repeat_reason: str | None = None
    duplicate_of: list[str] = Field(default_factory=list)


class RecordAnswer(BaseModel):
    """The department's answer, recorded by a county officer on the department's behalf."""

    actor: Actor
    outcome: AnswerOutcome
    answer_zh: str = Field(min_length=1, max_length=2000)
    answered_on: date
    department_reference: str = Field(default="", max_length=100)  # the department's 文号/编号
    amount: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)


class Withdraw(BaseModel):
    actor: Actor
    reason_zh: str = Field(min_length=1, max_length=1000)


class AnswerRecord(BaseModel):
    outcome: AnswerOutcome
    answer_zh: str
    answered_on: date
    department_reference: str
    amount: Decimal | None
    recorded_by: Actor
    recorded_at: datetime


class WithdrawalRecord(BaseModel):
    reason_zh: str
    recorded_by: Actor
    recorded_at: datetime


class ReferralState(BaseModel):
    referral_id: str
    source_case_id: str
    source_kind: SourceKind
    source_programme: str
    household_id: str
    area: AreaRef
    department: Department
    need: Need
    person_name: str
    person_id_number: str
    request_zh: str
    asked_on: date
    referred_by: Actor
    referred_at: datetime
    repeat_reason: str | None = None
    duplicate_of: list[str] = Field(default_factory=list)
    status: ReferralStatus = ReferralStatus.AWAITING_ANSWER
    answer: AnswerRecord | None = None
    withdrawal: WithdrawalRecord | None = None
    closed_at: datetime | None = None
    policy_version_id: str | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0

    @property
    def closed(self) -> bool:
        return self.status is not ReferralStatus.AWAITING_ANSWER


class ReferralStepResult(BaseModel):
    """What an Update returns (small; the API queries ``get_state`` for the rest)."""

    referral_id: str
    status: ReferralStatus
    outcome: AnswerOutcome | None = None
