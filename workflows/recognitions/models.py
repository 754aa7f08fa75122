"""Payloads of the recognition review workflow: its input (the hand-off plus the state carried
across continue-as-new), its state (returned by the query), the review decision (one input and
one small result model). Pure models shared with the API."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from activities.deadlines import Deadline
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from rules.periods import Period, months, working_days
from workflows.recognitions.contract import (
    RecognisedCase,
    RecognitionStatus,
    ReviewDecisionKind,
)

# No national rule fixes how long the yearly review may take once due: the same documented
# default as an entitlement's review (``workflows.entitlements.models.REVIEW_COMPLETION``).
REVIEW_COMPLETION: Period = months(1)
TIMELINE_KEEP = 60


class ReviewRecord(BaseModel):
    year: int  # 1 = the first yearly review after recognition
    opened_on: date
    decided_on: date | None = None
    decided_by: Actor | None = None
    outcome: ReviewDecisionKind | None = None
    findings_zh: str | None = None


class RecognitionState(BaseModel):
    recognition_id: str
    application_id: str
    household_id: str
    programme: str
    area: AreaRef
    recognised_on: date
    recognised_by: Actor
    applicant_name: str
    applicant_id_number: str
    household_size: int
    policy_version_id: str
    status: RecognitionStatus = RecognitionStatus.RECOGNISED
    review_every: Period = Field(default_factory=lambda: months(12))
    reminder_lead: Period = Field(default_factory=lambda: working_days(1))
    next_review: date
    reviews: list[ReviewRecord] = Field(default_factory=list)
    ended_on: date | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0
    cycle: int = 0


class RecognitionInput(RecognisedCase):
    carried: RecognitionState | None = None


class ReviewDecision(BaseModel):
    """``record_review``: the township (recognition delegated to it, seed 000 二(二)) or the
    county records the yearly review's finding."""

    actor: Actor
    outcome: ReviewDecisionKind
    findings_zh: str = Field(min_length=1, max_length=1000)
    decided_on: date | None = None  # the paper date (default: today)


class RecognitionStepResult(BaseModel):
    recognition_id: str
    status: RecognitionStatus
    next_review: date | None
    reviewed_at: datetime | None = None
