"""Payloads of the warning workflow (动态监测预警): its input (a warning raised by a
data-comparison load), the township's home-visit Update, its state (the ``get_state`` query) and
the Update's small result. Pure models."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from activities.deadlines import Deadline
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from rules.programmes import Programme
from workflows.monitoring.contract import (
    DataKind,
    MonitoringCategory,
    VisitOutcome,
    WarningStatus,
)


class WarningInput(BaseModel):
    """A warning raised for one person of the monitoring population by one record of a load."""

    warning_id: str
    import_id: str
    kind: DataKind
    rule_zh: str
    amount: Decimal | None = None
    observed_on: date
    note: str = ""
    person_id_number: str
    person_name: str
    household_id: str
    household_size: int
    area_code: str
    category: MonitoringCategory
    programme: str  # the source case's programme
    source_case_id: str
    entitlement_workflow_id: str | None = None  # set while the household is paid 低保/特困
    raised_by: Actor


class RecordVisit(BaseModel):
    """The township's home visit (上门核查) and what it starts."""

    actor: Actor
    visited_on: date
    visitors: list[str] = Field(min_length=1, max_length=10)
    finding_zh: str = Field(min_length=1, max_length=2000)
    outcome: VisitOutcome
    programme: Programme | None = None  # the programme offered (application_offered)
    reason_zh: str = Field(default="", max_length=1000)  # why closed (closed)


class VisitRecord(BaseModel):
    visited_on: date
    visitors: list[str]
    finding_zh: str
    outcome: VisitOutcome
    programme: Programme | None = None
    reason_zh: str = ""
    investigation_id: str | None = None
    recorded_by: Actor
    recorded_at: datetime


class WarningState(BaseModel):
    warning_id: str
    import_id: str
    kind: DataKind
    rule_zh: str
    amount: Decimal | None = None
    observed_on: date
    note: str = ""
    person_id_number: str
    person_name: str
    household_id: str
    household_size: int
    area: AreaRef
    category: MonitoringCategory
    programme: str
    source_case_id: str
    entitlement_workflow_id: str | None = None
    raised_by: Actor
    raised_on: date | None = None
    status: WarningStatus = WarningStatus.AWAITING_VISIT
    visit: VisitRecord | None = None
    closed_at: datetime | None = None
    policy_version_id: str | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0

    @property
    def closed(self) -> bool:
        return self.status is not WarningStatus.AWAITING_VISIT


class WarningStepResult(BaseModel):
    """What the visit Update returns (small; the API queries ``get_state`` for the rest)."""

    warning_id: str
    status: WarningStatus
    investigation_id: str | None = None
