"""Payloads of the listing posting workflow: its input, its state (the ``get_state`` query),
the posting Update's input and its small result. Pure models."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from activities.deadlines import Deadline
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from workflows.listings.contract import ChangeKind, ListingStatus

TIMELINE_KEEP = 50  # lines carried over continue-as-new (the audit log keeps them all)


class PendingChange(BaseModel):
    case_id: str
    kind: ChangeKind
    on: date


class Posting(BaseModel):
    """One posting of the listing on the board: when, by whom, what it showed."""

    posted_on: date
    households: int = Field(ge=0)
    total: Decimal = Field(ge=0, decimal_places=2)  # yuan a month
    recorded_by: Actor
    recorded_at: datetime
    changes: int = Field(ge=0)  # the pending changes it brought onto the board


class ListingState(BaseModel):
    village_code: str
    area: AreaRef
    status: ListingStatus = ListingStatus.POSTED
    policy_version_id: str | None = None
    pending: list[PendingChange] = Field(default_factory=list)
    last_posting: Posting | None = None
    postings: int = 0
    cycle: int = 1  # runs of the workflow (continue-as-new)
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0


class ListingInput(BaseModel):
    village_code: str
    carried: ListingState | None = None  # set by continue-as-new


class RecordPosting(BaseModel):
    """The updated listing is on the village's board (the API reads the listing as it is
    now and passes what it shows)."""

    actor: Actor
    posted_on: date
    households: int = Field(ge=0)
    total: Decimal = Field(ge=0, decimal_places=2)


class ListingStepResult(BaseModel):
    village_code: str
    status: ListingStatus
    revision: int
