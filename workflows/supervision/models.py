"""Payloads of the supervision workflows: the monthly spot-check round (its input, sampled
tasks, the county's finding) and the complaint (intake, findings, reply, follow-up). Pure
models; the activities' payloads live in ``activities/supervision/models.py``."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from activities.deadlines import Deadline
from activities.supervision.models import ReopenResult, SampledDecision
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from workflows.supervision.contract import (
    CheckOutcome,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    DeliveryChannel,
    ResponsibleLevel,
    SpotCheckStatus,
    TaskStatus,
)
from workflows.supervision.sampling import Stratum


# --- spot checks (抽查) ------------------------------------------------------------------------
class SpotCheckInput(BaseModel):
    """A round: the county and the month whose decisions are sampled; ``seed`` as given by the
    county (else minted by the workflow, recorded either way). Without a ``period`` (the
    county's monthly schedule) the run only launches the round of the month before its own
    start, under that round's id, and ends."""

    round_id: str = ""
    county_code: str
    period: str | None = None
    seed: int | None = Field(default=None, ge=0, lt=2**62)
    started_by: Actor | None = None


class SpotCheckTask(BaseModel):
    """One sampled decision: a task for the county with its own deadline."""

    decision: SampledDecision
    deadline_name: str
    status: TaskStatus = TaskStatus.PENDING
    checked_by: Actor | None = None
    checked_at: datetime | None = None
    checked_on: date | None = None
    findings_zh: str | None = None
    reopened: ReopenResult | None = None


class RecordSpotCheck(BaseModel):
    """The county's finding on a sampled case: confirmed, or reversed with findings (a reversed
    特困 approval also records the transfer check of 特困办法 Art. 27)."""

    actor: Actor
    case_id: str
    outcome: CheckOutcome
    findings_zh: str = Field(min_length=1, max_length=2000)
    checked_on: date
    transfer_check: str | None = None


class SpotCheckState(BaseModel):
    round_id: str
    county_code: str
    area: AreaRef
    period: str
    status: SpotCheckStatus = SpotCheckStatus.OPEN
    seed: int | None = None
    population_digest: str | None = None
    population: list[SampledDecision] = Field(default_factory=list)
    strata: list[Stratum] = Field(default_factory=list)
    tasks: list[SpotCheckTask] = Field(default_factory=list)
    started_by: Actor | None = None
    drawn_at: datetime | None = None
    completed_at: datetime | None = None
    policy_version_id: str | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0

    def task(self, case_id: str) -> SpotCheckTask | None:
        return next((t for t in self.tasks if t.decision.case_id == case_id), None)

    @property
    def pending(self) -> int:
        return sum(1 for t in self.tasks if t.status is TaskStatus.PENDING)


class SpotCheckStepResult(BaseModel):
    round_id: str
    case_id: str
    status: TaskStatus
    reopened: ReopenResult | None
    pending: int


# --- complaints (投诉举报) ---------------------------------------------------------------------
class ComplaintInput(BaseModel):
    """Intake by any officer. The complainant's identity is not here (``complaint_party``)."""

    complaint_id: str
    channel: ComplaintChannel
    category: ComplaintCategory
    summary_zh: str = Field(min_length=1, max_length=2000)
    area_code: str
    subject_case_id: str | None = None
    subject_household_id: str | None = None
    programme: str = ""
    anonymous: bool
    received_on: date
    received_by: Actor


class ComplaintFindings(BaseModel):
    actor: Actor
    findings_zh: str = Field(min_length=1, max_length=2000)
    substantiated: bool
    investigated_on: date


class ComplaintReply(BaseModel):
    actor: Actor
    reply_zh: str = Field(min_length=1, max_length=2000)
    channel: DeliveryChannel
    delivered_on: date


class ComplaintFollowUp(BaseModel):
    """The complainant's answer to the reply: satisfied (the complaint closes) or not (the
    county re-examines it with a new reply deadline)."""

    actor: Actor
    satisfied: bool
    note_zh: str = Field(default="", max_length=2000)
    on: date


class FindingsRecord(BaseModel):
    round: int
    level: ResponsibleLevel
    findings_zh: str
    substantiated: bool
    investigated_on: date
    recorded_by: Actor
    recorded_at: datetime


class ReplyRecord(BaseModel):
    round: int
    reply_zh: str
    channel: DeliveryChannel
    delivered_on: date
    recorded_by: Actor
    recorded_at: datetime
    on_time: bool


class FollowUpRecord(BaseModel):
    round: int
    satisfied: bool
    note_zh: str
    on: date
    recorded_by: Actor
    recorded_at: datetime


class ComplaintState(BaseModel):
    complaint_id: str
    channel: ComplaintChannel
    category: ComplaintCategory
    summary_zh: str
    area: AreaRef
    subject_case_id: str | None
    subject_household_id: str | None
    programme: str
    anonymous: bool
    received_on: date
    received_by: Actor
    level: ResponsibleLevel
    responsible_area: str
    status: ComplaintStatus = ComplaintStatus.INVESTIGATING
    round: int = 1
    findings: list[FindingsRecord] = Field(default_factory=list)
    replies: list[ReplyRecord] = Field(default_factory=list)
    follow_ups: list[FollowUpRecord] = Field(default_factory=list)
    follow_up_until: date | None = None
    closed_at: datetime | None = None
    closed_reason: str | None = None
    policy_version_id: str | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0

    def current_findings(self) -> FindingsRecord | None:
        return next((f for f in reversed(self.findings) if f.round == self.round), None)


class ComplaintStepResult(BaseModel):
    complaint_id: str
    status: ComplaintStatus
    level: ResponsibleLevel
    round: int
