"""Deadline activities and their payloads: compute a due instant from the policy period and the
working-day calendar (so a calendar loaded later never changes a replay), and write reminders
and escalations to the outbox exactly once (DOMAIN §8)."""

from datetime import UTC, date, datetime, time

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from jiuzhu.areas import AreaRef
from jiuzhu.calendar_store import working_calendar
from jiuzhu.clock import at_beijing, end_of_day
from jiuzhu.contract import Role
from jiuzhu.db.models import OutboxMessage
from jiuzhu.records import OutboxItem
from rules.calendar import WorkingCalendar, due_date, reminder_date
from rules.periods import Period

REMINDER_HOUR = time(9, 0)

__all__ = ["Deadline", "DeadlineActivities", "DeadlineSpec", "OutboxItem", "VoidOutbox", "compute"]


class DeadlineSpec(BaseModel):
    """What the law says: ``period`` after ``start`` (a Beijing date), owed by
    ``responsible_role`` in ``responsible_area``; when it passes it goes up to the supervising
    ``escalation_role`` in ``escalation_area`` (township → county). ``basis`` cites the rule."""

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

    @classmethod
    def owed_by_township(
        cls,
        *,
        name: str,
        label_zh: str,
        start: date,
        period: Period,
        reminder_lead: Period,
        area: AreaRef,
        basis: str = "",
    ) -> "DeadlineSpec":
        """The usual case: the township of ``area`` owes it, its county is told when it
        passes."""
        return cls(
            name=name,
            label_zh=label_zh,
            start=start,
            period=period,
            reminder_lead=reminder_lead,
            responsible_role=Role.TOWNSHIP_OFFICER,
            responsible_area=area.township,
            escalation_role=Role.COUNTY_OFFICER,
            escalation_area=area.county,
            basis=basis,
        )


class Deadline(BaseModel):
    """A computed deadline with its life: reminded, escalated, met or cancelled. ``due_at`` is
    the end of ``due_date`` in Beijing time; ``remind_at`` 09:00 on the reminder day."""

    spec: DeadlineSpec
    due_date: date
    due_at: datetime
    remind_at: datetime
    provisional: bool
    generation: int = 0
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    met_at: datetime | None = None
    # The act's paper date when a step entered after the fact met the deadline.
    met_on: date | None = None
    # When the reminder/escalation posted for it were withdrawn (met on paper in time).
    voided_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and now >= self.due_at


class VoidOutbox(BaseModel):
    """Withdraw the reminders and escalations with these dedupe keys (a deadline met on paper
    in time); keys never posted are ignored."""

    dedupe_keys: list[str]
    voided_reason_zh: str


def compute(spec: DeadlineSpec, cal: WorkingCalendar) -> Deadline:
    """A deadline "within N (working) days" is met until the end of its last day, Beijing time;
    the reminder goes out at 09:00 ``reminder_lead`` before, never before the start."""
    due = due_date(spec.start, spec.period, cal)
    remind = reminder_date(due.date, spec.reminder_lead, cal)
    remind_day = max(remind.date, spec.start)
    return Deadline(
        spec=spec,
        due_date=due.date,
        due_at=end_of_day(due.date),
        remind_at=at_beijing(remind_day, REMINDER_HOUR),
        provisional=due.provisional or remind.provisional,
    )


class DeadlineActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def compute_deadline(self, spec: DeadlineSpec) -> Deadline:
        return compute(spec, working_calendar(self.engine))

    @activity.defn
    def post_outbox(self, item: OutboxItem) -> None:
        """Insert once per ``dedupe_key``: an activity retry never sends a second reminder."""
        with Session(self.engine) as session:
            exists = session.exec(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == item.dedupe_key)
            ).first()
            if exists is not None:
                return
            session.add(OutboxMessage(**item.model_dump()))
            session.commit()
        activity.logger.info(
            "outbox message",
            extra={"case_id": item.case_id, "kind": item.kind, "deadline": item.deadline_name},
        )

    @activity.defn
    def void_outbox(self, request: VoidOutbox) -> int:
        """Mark the messages void (``voided_at``, reason) once; a retry changes nothing. Returns
        how many were voided now. ``GET /me/messages`` hides void messages by default."""
        if not request.dedupe_keys:
            return 0
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.dedupe_key).in_(request.dedupe_keys),
                    col(OutboxMessage.voided_at).is_(None),
                )
            ).all()
            for row in rows:
                row.voided_at = now
                row.voided_reason_zh = request.voided_reason_zh
                session.add(row)
            session.commit()
            count = len(rows)
        if count:
            activity.logger.info("outbox messages voided", extra={"count": count})
        return count
