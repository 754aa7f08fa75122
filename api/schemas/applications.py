"""Request and response schemas for applications (separate from table and workflow models).
The bodies of the case steps are the workflow's own ``*Body`` models (the update input is the
body plus the acting officer), re-exported here."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from jiuzhu.clock import beijing_today
from rules.areas import is_known_area
from rules.household import Relation
from rules.id_number import validate_id_number
from rules.programmes import Programme
from workflows.applications.models import (
    AcceptBody,
    AppraisalBody,
    CountyVisitBody,
    DecisionBody,
    DeliveryBody,
    EdgeConsentBody,
    EndReviewBody,
    FilingBody,
    InvestigationBody,
    MissingDocumentsBody,
    OpinionBody,
    PublicityObjectionBody,
    SpecialDeadlineBody,
    SupplementBody,
    VerificationObjectionBody,
    WithdrawBody,
)

__all__ = [
    "AcceptBody",
    "AppraisalBody",
    "CountyVisitBody",
    "DecisionBody",
    "DeliveryBody",
    "EdgeConsentBody",
    "EndReviewBody",
    "FilingBody",
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
        raise ValueError(f"unknown area code {code!r} (行政区划代码不存在)")
    return code


AreaCode = Annotated[
    str, Field(min_length=2, max_length=12, pattern=r"^\d+$"), AfterValidator(_known_area)
]
IdNumber = Annotated[str, AfterValidator(validate_id_number)]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50)
    id_number: IdNumber
    relation: Relation


class ApplicationCreate(BaseModel):
    """An application by one member for the household (低保办法 Art. 4–6)."""

    model_config = ConfigDict(extra="forbid")

    programme: Programme
    area_code: AreaCode = Field(description="township or village of household registration")
    household: list[MemberIn] = Field(min_length=1)
    applied_on: date | None = Field(
        default=None, description="date of the written application (default today)"
    )

    @field_validator("applied_on")
    @classmethod
    def _not_future(cls, v: date | None) -> date | None:
        if v is not None and v > beijing_today():
            raise ValueError("the application date is in the future")
        return v

    @field_validator("programme")
    @classmethod
    def _application_programme(cls, v: Programme) -> Programme:
        if v not in APPLICATION_PROGRAMMES:
            raise ValueError("temporary assistance is applied for under /temporary-cases")
        return v

    @field_validator("household")
    @classmethod
    def _one_applicant(cls, v: list[MemberIn]) -> list[MemberIn]:
        applicants = [m for m in v if m.relation == Relation.APPLICANT]
        if len(applicants) != 1:
            raise ValueError(f"household needs exactly one applicant, got {len(applicants)}")
        ids = [m.id_number for m in v]
        if len(set(ids)) != len(ids):
            raise ValueError("the same ID number appears twice in the household")
        return v


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
    kind: str = Field(min_length=1, max_length=40)
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    note: str = Field(default="", max_length=500)


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


class RelativeIn(BaseModel):
    """A close relative of a case worker or village cadre (近亲属备案)."""

    model_config = ConfigDict(extra="forbid")

    id_number: IdNumber
    name: str = Field(min_length=1, max_length=50)
    staff_name: str = Field(min_length=1, max_length=50)
    staff_role: Literal["case_worker", "village_cadre"]
    relation_zh: str = Field(min_length=1, max_length=20)
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
