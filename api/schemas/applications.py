"""Request and response schemas for applications (separate from table and workflow models)."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from rules.areas import is_known_area
from rules.household import Relation
from rules.id_number import validate_id_number
from rules.programmes import Programme

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


class ApplicationPage(BaseModel):
    items: list[ApplicationSummary]
    total: int
    offset: int
    limit: int
