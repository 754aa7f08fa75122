"""Payloads of the application workflow: its input, its state (returned by the query and carried
across continue-as-new), its statuses. Pure models shared with the API."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from jiuzhu.contract import Actor
from jiuzhu.deadline_models import Deadline
from rules.household import Relation
from rules.programmes import Programme


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"


class ApplicantMember(BaseModel):
    name: str
    id_number: str
    relation: Relation


class ApplicationInput(BaseModel):
    application_id: str
    programme: Programme
    area_code: str
    household_id: str
    members: list[ApplicantMember]
    submitted_by: Actor
    submitted_at: datetime


class TimelineEntry(BaseModel):
    at: datetime
    action: str
    actor: Actor | None = None
    note_zh: str = ""


class ApplicationState(BaseModel):
    application_id: str
    programme: Programme
    area_code: str
    household_id: str
    members: list[ApplicantMember]
    status: ApplicationStatus = ApplicationStatus.SUBMITTED
    submitted_by: Actor
    submitted_at: datetime
    policy_version_id: str | None = None
    revision: int = 0
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @property
    def applicant(self) -> ApplicantMember:
        return next(m for m in self.members if m.relation == Relation.APPLICANT)
