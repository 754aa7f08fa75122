"""Request and response schemas for applications (separate from table and workflow models).

The bodies of the case steps are the workflow's own ``*Body`` models (the update input is the
body plus the acting officer), narrowed here with the shared boundary validators of
``api/validators.py``: the API's subclass keeps every field name, so ``XInput(actor=…,
**body.model_dump())`` is unchanged, while names, free text, paper dates, money, identity
numbers, bank fields and the household's size are refused at the edge with a 422 naming the
field."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from api.validators import (
    MAX_HOUSEHOLD_MEMBERS,
    BankAccount,
    FreeText,
    IdNumber,
    Money,
    OptionalFreeText,
    OptionalShortText,
    PaperDate,
    PayeeName,
    PersonName,
    ShortText,
    household_size_ok,
)
from jiuzhu.clock import beijing_today
from rules.areas import is_known_area
from rules.household import Asset, Household, Income, Member, Relation, RigidExpenditure, Supporter
from rules.programmes import Programme
from workflows.applications import models as wf
from workflows.entitlements.contract import CardAccount

__all__ = [
    "AcceptBody",
    "AppraisalBody",
    "CountyVisitBody",
    "DecisionBody",
    "DeliveryBody",
    "EdgeConsentBody",
    "EndReviewBody",
    "FilingBody",
    "HouseholdIn",
    "IdNumber",
    "InvestigationBody",
    "MissingDocumentsBody",
    "OpinionBody",
    "PublicityObjectionBody",
    "SpecialDeadlineBody",
    "SupplementBody",
    "VerificationObjectionBody",
    "WithdrawBody",
]

APPLICATION_PROGRAMMES = (
    Programme.DIBAO,
    Programme.TEKUN,
    Programme.DIBAO_EDGE,
    Programme.RIGID_EXPENSE,
)


def _known_area(code: str) -> str:
    if not is_known_area(code):
        raise ValueError(f"行政区划代码不存在 / unknown area code {code!r}")
    return code


AreaCode = Annotated[
    str, Field(min_length=2, max_length=12, pattern=r"^[0-9]+$"), AfterValidator(_known_area)
]


def _household_size(value: Any) -> Any:
    """Refuse an oversized household before any member is validated (cheap, and a household of
    thousands would later break the case's history)."""
    if isinstance(value, list):
        household_size_ok(len(value))
    return value


Doc = Annotated[ShortText, Field(max_length=200)]
"""A document name (身份证复印件, 收入证明 …)."""


# --- the household (as investigated, or assessed for eligibility) ---------------------------
class IncomeIn(Income):
    monthly_amount: Money
    description: OptionalShortText = ""


class AssetIn(Asset):
    value: Money
    description: OptionalShortText = ""


class RigidExpenditureIn(RigidExpenditure):
    amount: Money
    description: OptionalShortText = ""


class SupporterIn(Supporter):
    name: PersonName
    monthly_support: Money = Decimal("0.00")
    id_number: IdNumber | None = None


def _born_by_today(value: date) -> date:
    """A member's birth date (the one in the ID number, which the member model compares) is not
    after today: refused naming ``birth_date``."""
    if value > beijing_today():
        raise ValueError(
            f"出生日期{value.isoformat()}晚于今天 / birth date {value.isoformat()} is in the future"
        )
    return value


class HouseholdMemberIn(Member):
    name: PersonName
    birth_date: Annotated[date, AfterValidator(_born_by_today)]
    incomes: list[IncomeIn] = Field(default_factory=list, max_length=50)  # type: ignore[assignment]  # list is invariant; narrowed at the edge
    employment_costs: Money = Decimal("0.00")


class HouseholdIn(Household):
    """The household as entered: members (exactly one applicant, at most
    ``MAX_HOUSEHOLD_MEMBERS``), their incomes, assets, rigid spending and legal supporters."""

    members: Annotated[  # type: ignore[assignment]  # list is invariant; narrowed at the edge
        list[HouseholdMemberIn],
        BeforeValidator(_household_size),
        Field(min_length=1, max_length=MAX_HOUSEHOLD_MEMBERS),
    ]
    assets: list[AssetIn] = Field(default_factory=list, max_length=200)  # type: ignore[assignment]  # list is invariant; narrowed at the edge
    rigid_expenditures_12m: list[RigidExpenditureIn] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=200
    )
    legal_supporters: list[SupporterIn] = Field(default_factory=list, max_length=50)  # type: ignore[assignment]  # list is invariant; narrowed at the edge


class CardAccountBody(CardAccount):
    """The social-security card account payments go to: written into the bank file."""

    model_config = ConfigDict(extra="forbid")

    holder_name: PayeeName
    holder_id_number: IdNumber
    account_number: BankAccount
    bank_code: Annotated[str, Field(max_length=20, pattern=r"^[0-9A-Za-z]*$")] = ""


# --- application ------------------------------------------------------------------------------
class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName
    id_number: IdNumber
    relation: Relation


HouseholdMembers = Annotated[
    list[MemberIn],
    BeforeValidator(_household_size),
    Field(min_length=1, max_length=MAX_HOUSEHOLD_MEMBERS),
]
"""The members named on an application: 1 … ``MAX_HOUSEHOLD_MEMBERS``."""


class ApplicationCreate(BaseModel):
    """An application by one member for the household (低保办法 Art. 4–6)."""

    model_config = ConfigDict(extra="forbid")

    programme: Programme
    area_code: AreaCode = Field(description="township or village of household registration")
    household: HouseholdMembers
    applied_on: PaperDate | None = Field(
        default=None, description="date of the written application (default today)"
    )

    @field_validator("programme")
    @classmethod
    def _application_programme(cls, v: Programme) -> Programme:
        if v not in APPLICATION_PROGRAMMES:
            raise ValueError(
                "临时救助请在 /temporary-cases 申请 / temporary assistance is applied "
                "for under /temporary-cases"
            )
        return v

    @field_validator("household")
    @classmethod
    def _one_applicant(cls, v: list[MemberIn]) -> list[MemberIn]:
        applicants = [m for m in v if m.relation == Relation.APPLICANT]
        if len(applicants) != 1:
            raise ValueError(
                f"家庭成员中须有且只有一名申请人，实际有{len(applicants)}名 / household needs "
                f"exactly one applicant, got {len(applicants)}"
            )
        ids = [m.id_number for m in v]
        if len(set(ids)) != len(ids):
            raise ValueError(
                "家庭成员身份证号码重复 / the same ID number appears twice in the household"
            )
        return v


# --- step bodies: the workflow's bodies, narrowed at the edge ---------------------------------
class AcceptBody(wf.AcceptBody):
    accepted_on: PaperDate | None = None
    documents: list[Doc] = Field(default_factory=list, max_length=50)


class MissingDocumentsBody(wf.MissingDocumentsBody):
    missing: list[Doc] = Field(min_length=1, max_length=50)
    contact: Annotated[OptionalShortText, Field(max_length=200)] = ""


class SupplementBody(wf.SupplementBody):
    documents: list[Doc] = Field(min_length=1, max_length=50)
    received_on: PaperDate | None = None


class InvestigationBody(wf.InvestigationBody):
    visited_on: PaperDate | None = None
    investigators: list[PersonName] = Field(min_length=2, max_length=10)
    remote_reason_zh: OptionalFreeText | None = None
    findings_zh: FreeText
    household: HouseholdIn | None = None
    card_account: CardAccountBody | None = None


class VerificationObjectionBody(wf.VerificationObjectionBody):
    statement_zh: FreeText
    evidence: list[Doc] = Field(min_length=1, max_length=50)
    source: Annotated[ShortText, Field(max_length=50)] | None = None
    received_on: PaperDate | None = None


class AppraisalBody(wf.AppraisalBody):
    held_on: PaperDate | None = None
    conclusion_zh: FreeText


class OpinionBody(wf.OpinionBody):
    opinion_on: PaperDate | None = None
    posted_on: PaperDate | None = None
    proposed_amount: Money | None = None
    reason_zh: OptionalFreeText | None = None
    note_zh: OptionalFreeText | None = None


class PublicityObjectionBody(wf.PublicityObjectionBody):
    objector_name: PersonName
    content_zh: FreeText
    received_on: PaperDate | None = None


class CountyVisitBody(wf.CountyVisitBody):
    visited_on: PaperDate | None = None
    visitors: list[PersonName] = Field(min_length=2, max_length=10)
    findings_zh: FreeText


class SpecialDeadlineBody(wf.SpecialDeadlineBody):
    note_zh: FreeText


class RefusalReasonIn(wf.RefusalReasonIn):
    text_zh: FreeText


class DecisionBody(wf.DecisionBody):
    decided_on: PaperDate | None = None
    amount: Money | None = None
    amount_reason_zh: OptionalFreeText | None = None
    reasons: list[RefusalReasonIn] | None = Field(default=None, max_length=20)  # type: ignore[assignment]  # list is invariant; narrowed at the edge
    reasons_zh: list[FreeText] | None = Field(default=None, max_length=20)
    card_account: CardAccountBody | None = None
    institution_name: Annotated[ShortText, Field(max_length=100)] | None = None
    note_zh: OptionalFreeText | None = None


class FilingBody(wf.FilingBody):
    filed_on: PaperDate | None = None
    note_zh: OptionalFreeText | None = None


class DeliveryBody(wf.DeliveryBody):
    notice_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z_-]+$")]
    delivered_on: PaperDate | None = None
    recipient_name: PersonName


class EdgeConsentBody(wf.EdgeConsentBody):
    answered_on: PaperDate | None = None


class WithdrawBody(wf.WithdrawBody):
    reason_zh: FreeText
    withdrawn_on: PaperDate | None = None


class EndReviewBody(wf.EndReviewBody):
    grounds_zh: FreeText
    ended_on: PaperDate | None = None


class ApplicationSummary(BaseModel):
    """One row of a case list (from the read model)."""

    application_id: str
    programme: str
    status: str
    area_code: str
    applicant_name: str
    household_size: int
    next_deadline: datetime | None
    overdue: bool
    updated_at: datetime
    linked_case_id: str | None = None
    policy_version_id: str | None = None
    approved_amount: Decimal | None = None


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    total: int
    offset: int
    limit: int


class NoticeSummary(BaseModel):
    notice_id: str
    kind: str
    title: str
    issued_at: datetime
    delivered_on: date | None
    delivery_method: str | None
    delivered_to: str | None
    href: str


class NoticeList(BaseModel):
    items: list[NoticeSummary]


class MessageOut(BaseModel):
    """A reminder or escalation addressed to my role in my area (the outbox)."""

    id: int
    kind: str
    recipient_role: str
    recipient_area: str
    case_id: str
    workflow_id: str
    deadline_name: str | None
    message_zh: str
    due_at: datetime | None
    created_at: datetime
    acknowledged_at: datetime | None
    voided_at: datetime | None = None  # withdrawn: the deadline was met on paper in time
    voided_reason_zh: str | None = None


class MessagePage(BaseModel):
    items: list[MessageOut]
    total: int
    offset: int
    limit: int


# --- admin: verification sources and the relatives registry ---------------------------------
class VerificationRecordIn(BaseModel):
    """One fact a source holds: an income (monthly yuan), an asset (value) or a status."""

    model_config = ConfigDict(extra="forbid")

    id_number: IdNumber
    category: Literal["income", "asset", "status"]
    kind: Annotated[ShortText, Field(max_length=40)]
    amount: Money | None = None
    note: Annotated[OptionalFreeText, Field(max_length=500)] = ""


class VerificationLoad(BaseModel):
    """A full load of one source's data (replaces what was loaded before)."""

    model_config = ConfigDict(extra="forbid")

    available: bool = True
    fail_first_attempts: int = Field(default=0, ge=0, le=20)
    records: list[VerificationRecordIn] = Field(default_factory=list, max_length=100_000)


class VerificationSourceOut(BaseModel):
    source: str
    label_zh: str
    available: bool
    fail_first_attempts: int
    record_count: int
    loaded_by: str | None
    loaded_at: datetime | None
    # Of the last load: records of people outside the loading officer's area, not loaded.
    refused_out_of_area: int = 0


class RelativeIn(BaseModel):
    """A close relative of a case worker or village cadre (近亲属备案)."""

    model_config = ConfigDict(extra="forbid")

    id_number: IdNumber
    name: PersonName
    staff_name: PersonName
    staff_role: Literal["case_worker", "village_cadre"]
    relation_zh: Annotated[ShortText, Field(max_length=20)]
    area_code: AreaCode


class RelativesLoad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[RelativeIn] = Field(max_length=100_000)


class RelativeOut(BaseModel):
    id_number: str
    name: str
    staff_name: str
    staff_role: str
    relation_zh: str
    area_code: str
    loaded_by: str
    loaded_at: datetime | None


class RelativesPage(BaseModel):
    items: list[RelativeOut]
    total: int
