"""Deadline activities: compute a due instant from the policy period and the working-day
calendar (so a calendar loaded later never changes a replay), and write reminders and
escalations to the outbox exactly once."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity

from jiuzhu.calendar_store import working_calendar
from jiuzhu.db.models import OutboxMessage
from jiuzhu.deadline_models import Deadline, DeadlineSpec
from jiuzhu.records import OutboxItem
from rules.calendar import WorkingCalendar, due_date, reminder_date

SHANGHAI = ZoneInfo("Asia/Shanghai")
REMINDER_HOUR = time(9, 0)


def end_of_day(d: date) -> datetime:
    """A deadline "within N days" is met until the end of its last day, Beijing time."""
    return datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)


def compute(spec: DeadlineSpec, cal: WorkingCalendar) -> Deadline:
    due = due_date(spec.start, spec.period, cal)
    remind = reminder_date(due.date, spec.reminder_lead, cal)
    remind_day = max(remind.date, spec.start)
    return Deadline(
        spec=spec,
        due_date=due.date,
        due_at=end_of_day(due.date),
        remind_at=datetime.combine(remind_day, REMINDER_HOUR, tzinfo=SHANGHAI),
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
