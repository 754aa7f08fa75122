"""Read-model and audit writes. A step's snapshot and its audit lines commit in one transaction;
both are idempotent (revision guard, audit dedupe key), so an activity retry changes nothing.
The monitoring population is fed here too, in the same transaction (``observe``: a 低保/特困
entitlement, its end, a refusal or a 边缘/支出型 recognition — issue 14 item 3)."""

from sqlalchemy import Engine
from temporalio import activity

from activities.monitoring.population import observe
from jiuzhu.db.engine import unit_of_work
from jiuzhu.read_model import add_audit, upsert_case
from jiuzhu.records import RecordStep


class RecordActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def record_step(self, step: RecordStep) -> None:
        with unit_of_work(self.engine) as session:
            if step.snapshot is not None:
                upsert_case(session, step.snapshot)
            for rec in step.audit:
                add_audit(session, rec)
            if step.snapshot is not None:
                observe(session, step.snapshot, step.audit)
