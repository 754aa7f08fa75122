"""Deadline payloads shared by the deadline activity and the workflow-side deadline book."""

from datetime import date, datetime

from pydantic import BaseModel

from jiuzhu.contract import Role
from rules.periods import Period


class DeadlineSpec(BaseModel):
    """What the law says: ``period`` after ``start`` (a date in Asia/Shanghai), owed by
    ``responsible_role`` in ``responsible_area``; when it passes it goes up to the supervising
    ``escalation_role`` in ``escalation_area`` (township → county)."""

    name: str
    label_zh: str
    start: date
    period: Period
    reminder_lead: Period
    responsible_role: Role
    responsible_area: str
    escalation_role: Role
    escalation_area: str
    basis: str = ""


class Deadline(BaseModel):
    """A computed deadline with its life: reminded, escalated, met or cancelled."""

    spec: DeadlineSpec
    due_date: date
    due_at: datetime
    remind_at: datetime
    provisional: bool
    generation: int = 0
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    met_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and now >= self.due_at
