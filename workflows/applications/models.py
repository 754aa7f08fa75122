"""Payloads of the application workflow: its input, its state (returned by the ``get_state``
query and as the workflow's result), the small result of every update (``StepResult``), the body
of every step (what an officer submits) and the update input (body + the acting officer). Pure
models shared with the API; the payloads of activities are imported from beside them.

Every step carries the date of the act on paper (``accepted_on``, ``visited_on``, ``decided_on``
…): by default today, never in the future, never before the step it follows. Deadlines run from
these dates, so a step entered late (补录) is judged by the date it really happened."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from activities.applications.checks import RelativeMatch
from activities.applications.notices import NoticeRef
from activities.applications.verification import (
    Discrepancy,
    Finding,
    FindingCategory,
    SourceResult,
    SourceStatus,
)
from activities.deadlines import Deadline
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from rules.household import Household, Relation
from rules.means_test import Assessment
from rules.money import Money
from rules.policy import Policy
from rules.programmes import Programme
from rules.reasons import ReasonCode
from workflows.applications.contract import ApplicantMember, ApplicationStatus
from workflows.entitlements.contract import CardAccount

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Doc = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- input -------------------------------------------------------------------------------


class PriorCase(BaseModel):
    """What a follow-on recognition case (低保边缘 / 刚性支出困难 after a refusal, DOMAIN §3 step 9)
    takes over from the refused case: the investigated and verified household, the means test,
    the relatives flag and county visits, and the applicant's consent."""

    household: Household
    verified_household: Household
    assessment: Assessment
    verification: "VerificationRecord"
    relatives_matches: list["RelativeMatch"] = Field(default_factory=list)
    county_visits: list["CountyVisitRecord"] = Field(default_factory=list)
    card_account: CardAccount | None = None
    consent_on: date
    consented_by: Actor
    # 单人保 (低保办法 Art. 8): a 低保 case for one severely disabled or seriously ill member of
    # a 低保边缘 household, assessed as a one-person household on their own income.
    single_person: bool = False


class ApplicationInput(BaseModel):
    application_id: str
    programme: Programme
    area_code: str
    household_id: str
    members: list[ApplicantMember]
    submitted_by: Actor
    submitted_at: datetime
    applied_on: date | None = None  # date of the written application (default: submission day)
    requested_amount: Decimal | None = None  # temporary assistance (支出型)
    linked_case_id: str | None = None  # temporary case, or the refused case of a follow-on
    prior: PriorCase | None = None  # follow-on recognition after a refusal
    # Continue-as-new: the case so far and the policy it runs under (nothing is opened again).
    resume: "Resumption | None" = None
    # Events after which the case continues as new (the server may suggest it earlier).
    history_bound: int = Field(default=10_000, ge=100)


# --- step records (what the case file holds) ------------------------------------------------
class StepRecord(BaseModel):
    at: datetime
    actor: Actor
    on: date


class MissingDocumentsRecord(StepRecord):
    missing: list[str]
    submit_by: date
    notice_id: str


class SupplementRecord(StepRecord):
    documents: list[str]


class InvestigationMethod(StrEnum):
    HOME_VISIT = "home_visit"  # 入户调查
    REMOTE = "remote"  # phone/video, only in a major emergency (低保办法 Art. 16)


class InvestigationRecord(StepRecord):
    round: int
    investigators: list[str]
    method: InvestigationMethod
    remote_reason_zh: str | None = None
    findings_zh: str
    household: Household | None = None  # optional for temporary assistance


class VerificationObjectionRecord(StepRecord):
    statement_zh: str
    evidence: list[str]
    source: str | None = None


class VerificationRecord(BaseModel):
    round: int
    requested_at: datetime
    requested_on: date
    completed_at: datetime | None = None
    sources: list[str] = Field(default_factory=list)
    results: list[SourceResult] = Field(default_factory=list)
    discrepancies: list[Discrepancy] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        return (
            self.completed_at is not None
            and bool(self.results)
            and all(r.status is SourceStatus.OK for r in self.results)
        )


class AppraisalRecord(StepRecord):
    """民主评议 (only on an objection for 低保, as needed for temporary aid)."""

    participants: int
    votes_for: int
    votes_against: int
    conclusion_zh: str


class Recommendation(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"


class OpinionRecord(StepRecord):
    round: int
    recommendation: Recommendation
    proposed_amount: Decimal | None
    reason_zh: str | None = None
    note_zh: str | None = None


class PublicityRound(BaseModel):
    round: int
    start_on: date
    end_on: date
    started_at: datetime
    notice_id: str
    closed_at: datetime | None = None
    outcome: Literal["no_objection", "objection"] | None = None


class PublicityObjectionRecord(StepRecord):
    round: int
    objector_name: str
    content_zh: str


class CountyVisitRecord(StepRecord):
    visitors: list[str]
    findings_zh: str


class SpecialReason(StrEnum):
    """低保办法 Art. 22: special cases that extend the overall deadline to 45 working days."""

    PUBLICITY_OBJECTION = "publicity_objection"
    SEPARATED_FROM_REGISTRATION = "separated_from_registration"  # 人户分离
    CROSS_REGION = "cross_region"  # 异地申请
    HARD_INVESTIGATION = "hard_investigation"  # 调查核实难度大
    OTHER = "other"


class SpecialReasonRecord(StepRecord):
    reason: SpecialReason
    note_zh: str


class DecisionOutcome(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"


class RefusalReason(BaseModel):
    code: ReasonCode
    text_zh: str
    basis: str = ""


class DecisionRecord(StepRecord):
    outcome: DecisionOutcome
    decided_by_level: Literal["county", "township"]
    file_received_on: date
    amount: Decimal | None = None
    assessed_amount: Decimal | None = None
    amount_reason_zh: str | None = None
    reasons: list[RefusalReason] = Field(default_factory=list)
    reasons_zh: list[str] = Field(default_factory=list)  # temporary aid refusals
    start_month: date | None = None
    care_tier: str | None = None
    centralised: bool = False
    institution_name: str | None = None
    note_zh: str | None = None


class FilingRecord(StepRecord):
    note_zh: str | None = None


class SinglePersonOffer(BaseModel):
    """单人保 (低保办法 Art. 8; 焦民〔2022〕154号 二: 对低保边缘家庭中的重度残疾人、重病患者采取
    "单人户"方式纳入低保): a member of a refused 低保 household found 低保边缘 who qualifies
    for 低保 alone — offered with the household's recognition."""

    id_number: str
    name: str
    monthly_amount: Decimal
    consent: bool | None = None
    follow_on_case_id: str | None = None


class EdgeOffer(BaseModel):
    """A refused applicant who fits 低保边缘 or 刚性支出困难 is told so (DOMAIN §3 step 9)."""

    programme: Programme
    notice_id: str
    reply_by: date
    consent: bool | None = None
    answered_on: date | None = None
    expired: bool = False
    follow_on_case_id: str | None = None
    single_persons: list[SinglePersonOffer] = Field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.consent is None and not self.expired


class ClosingRecord(StepRecord):
    kind: Literal["withdrawal", "non_cooperation", "lapsed"]
    reason_zh: str
    notice_id: str | None = None


class ApplicationState(BaseModel):
    application_id: str
    programme: Programme
    area_code: str
    area: AreaRef  # resolved once when the case starts (older payloads: from area_code)
    household_id: str
    members: list[ApplicantMember]
    status: ApplicationStatus = ApplicationStatus.SUBMITTED
    submitted_by: Actor
    submitted_at: datetime
    applied_on: date | None = None
    requested_amount: Decimal | None = None
    linked_case_id: str | None = None
    policy_version_id: str | None = None
    accepted_on: date | None = None
    accepted_by: Actor | None = None
    missing_documents: MissingDocumentsRecord | None = None
    supplements: list[SupplementRecord] = Field(default_factory=list)
    investigations: list[InvestigationRecord] = Field(default_factory=list)
    household: Household | None = None
    card_account: CardAccount | None = None
    verification: VerificationRecord | None = None
    verification_objections: list[VerificationObjectionRecord] = Field(default_factory=list)
    verified_household: Household | None = None
    assessment: Assessment | None = None
    appraisals: list[AppraisalRecord] = Field(default_factory=list)
    opinions: list[OpinionRecord] = Field(default_factory=list)
    publicity: list[PublicityRound] = Field(default_factory=list)
    publicity_objections: list[PublicityObjectionRecord] = Field(default_factory=list)
    relatives_matches: list[RelativeMatch] = Field(default_factory=list)
    county_visits: list[CountyVisitRecord] = Field(default_factory=list)
    special_reason: SpecialReasonRecord | None = None
    file_received_on: date | None = None
    decision: DecisionRecord | None = None
    filing: FilingRecord | None = None
    approved_amount: Decimal | None = None
    start_month: date | None = None
    entitlement_workflow_id: str | None = None
    notices: list[NoticeRef] = Field(default_factory=list)
    edge_offer: EdgeOffer | None = None
    single_person: bool = False  # a 单人保 follow-on case (PriorCase.single_person)
    closing: ClosingRecord | None = None
    revision: int = 0
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _area_from_code(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("area") is None and "area_code" in data:
            data = {**data, "area": AreaRef.of(data["area_code"])}
        return data

    @property
    def applicant(self) -> ApplicantMember:
        return next(m for m in self.members if m.relation == Relation.APPLICANT)

    def notice(self, notice_id: str) -> NoticeRef | None:
        return next((n for n in self.notices if n.notice_id == notice_id), None)


# --- step bodies (API) and update inputs (body + actor) --------------------------------------
class AcceptBody(_Body):
    """受理 (低保办法 Art. 10): the file is complete; the statutory clock starts."""

    accepted_on: date | None = None
    documents: list[Doc] = Field(default_factory=list, max_length=50)


class AcceptInput(AcceptBody):
    actor: Actor


class MissingDocumentsBody(_Body):
    """一次性告知: one notice listing everything missing (低保办法 Art. 10)."""

    missing: list[Doc] = Field(min_length=1, max_length=50)
    submit_by: date | None = None
    contact: str = Field(default="", max_length=200)

    @field_validator("missing")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a missing document is listed twice")
        return v


class MissingDocumentsInput(MissingDocumentsBody):
    actor: Actor


class SupplementBody(_Body):
    documents: list[Doc] = Field(min_length=1, max_length=50)
    received_on: date | None = None


class SupplementInput(SupplementBody):
    actor: Actor


class InvestigationBody(_Body):
    """家庭经济状况调查 (低保办法 Art. 15–16): a home visit by at least two named investigators,
    the form signed by both sides; phone/video only in a major emergency."""

    visited_on: date | None = None
    investigators: list[Name] = Field(min_length=2, max_length=10)
    method: InvestigationMethod = InvestigationMethod.HOME_VISIT
    remote_reason_zh: str | None = Field(default=None, max_length=2000)
    signed_by_household: bool
    findings_zh: Text
    household: Household | None = None  # required except for temporary assistance
    card_account: CardAccount | None = None

    @field_validator("investigators")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("investigators must be two different people")
        return v


class InvestigationInput(InvestigationBody):
    actor: Actor


class VerificationObjectionBody(_Body):
    """The applicant disputes a verification result with evidence: re-check (低保办法 Art. 18)."""

    statement_zh: Text
    evidence: list[Doc] = Field(min_length=1, max_length=50)
    source: str | None = Field(default=None, max_length=50)
    received_on: date | None = None


class VerificationObjectionInput(VerificationObjectionBody):
    actor: Actor


class AppraisalBody(_Body):
    held_on: date | None = None
    participants: int = Field(ge=3, le=500)
    votes_for: int = Field(ge=0)
    votes_against: int = Field(ge=0)
    conclusion_zh: Text


class AppraisalInput(AppraisalBody):
    actor: Actor


class OpinionBody(_Body):
    """初审意见 of the township (低保办法 Art. 19; 特困办法 Art. 13)."""

    recommendation: Recommendation
    opinion_on: date | None = None
    # The day the publicity list was posted (on paper, when the case is entered late): the
    # publicity runs its period from this day, not from the day the opinion is typed in.
    posted_on: date | None = None
    proposed_amount: Money | None = None
    reason_zh: str | None = Field(default=None, max_length=2000)
    note_zh: str | None = Field(default=None, max_length=2000)


class OpinionInput(OpinionBody):
    actor: Actor


class PublicityObjectionBody(_Body):
    objector_name: Name
    content_zh: Text
    received_on: date | None = None


class PublicityObjectionInput(PublicityObjectionBody):
    actor: Actor


class CountyVisitBody(_Body):
    """County home visit required for relatives of case workers and village cadres."""

    visited_on: date | None = None
    visitors: list[Name] = Field(min_length=2, max_length=10)
    findings_zh: Text


class CountyVisitInput(CountyVisitBody):
    actor: Actor


class SpecialDeadlineBody(_Body):
    reason: SpecialReason
    note_zh: Text


class SpecialDeadlineInput(SpecialDeadlineBody):
    actor: Actor


class RefusalReasonIn(_Body):
    code: ReasonCode
    text_zh: Text


class DecisionBody(_Body):
    """审核确认 (低保办法 Art. 20–21; 特困办法 Art. 16–17)."""

    outcome: DecisionOutcome
    decided_on: date | None = None
    amount: Money | None = None
    amount_reason_zh: str | None = Field(default=None, max_length=2000)
    reasons: list[RefusalReasonIn] | None = Field(default=None, max_length=20)
    reasons_zh: list[Text] | None = Field(default=None, max_length=20)
    card_account: CardAccount | None = None
    centralised: bool = False
    institution_name: str | None = Field(default=None, max_length=100)
    note_zh: str | None = Field(default=None, max_length=2000)


class DecisionInput(DecisionBody):
    actor: Actor


class FilingBody(_Body):
    filed_on: date | None = None
    note_zh: str | None = Field(default=None, max_length=2000)


class FilingInput(FilingBody):
    actor: Actor


class DeliveryMethod(StrEnum):
    IN_PERSON = "in_person"  # 直接送达
    POST = "post"  # 邮寄送达
    ELECTRONIC = "electronic"
    LEFT_AT_HOME = "left_at_home"  # 留置送达


class DeliveryBody(_Body):
    notice_id: str = Field(min_length=1, max_length=100)
    delivered_on: date | None = None
    method: DeliveryMethod = DeliveryMethod.IN_PERSON
    recipient_name: Name


class DeliveryInput(DeliveryBody):
    actor: Actor


class EdgeConsentBody(_Body):
    consent: bool
    answered_on: date | None = None
    # 单人保 offered with the recognition: the answer for it (default: the same as ``consent``;
    # it needs the household's recognition, so it cannot be given without it).
    single_person_consent: bool | None = None


class EdgeConsentInput(EdgeConsentBody):
    actor: Actor


class WithdrawBody(_Body):
    reason_zh: Text
    withdrawn_on: date | None = None


class WithdrawInput(WithdrawBody):
    actor: Actor


class EndReviewBody(_Body):
    """Refusal to cooperate ends the review (低保办法 Art. 29), with a written notice."""

    grounds_zh: Text
    ended_on: date | None = None


class EndReviewInput(EndReviewBody):
    actor: Actor


class StepResult(BaseModel):
    """What an update returns: enough for a caller to know the step was recorded and where the
    case now stands; the full case is read with the ``get_state`` query."""

    application_id: str
    status: ApplicationStatus
    revision: int
    notice_id: str | None = None  # the notice the step issued, if any
    follow_on_case_id: str | None = None


__all__ = [
    "ApplicantMember",
    "ApplicationStatus",
    "Discrepancy",
    "Finding",
    "FindingCategory",
    "NoticeRef",
    "RelativeMatch",
    "SourceResult",
    "SourceStatus",
]


class Resumption(BaseModel):
    """What a case carries into its next run (continue-as-new): its state and the policy in
    force since acceptance (None before acceptance), so the next run neither re-opens the case
    nor reads a policy that may have changed since."""

    state: "ApplicationState"
    policy: Policy | None = None


PriorCase.model_rebuild()
ApplicationInput.model_rebuild()
