"""The referral's one writer: the read-model row (``case_record``, kind ``referral``), the
referral register (``referral``) and the step's audit lines in one transaction. Idempotent: the
revision only grows (a late retry never overwrites a newer row) and audit lines are deduped."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from temporalio import activity

from activities.referrals.models import RecordReferral
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_referrals import Referral
from jiuzhu.read_model import add_audit, upsert_case


class ReferralActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def record_referral(self, step: RecordReferral) -> None:
        with unit_of_work(self.engine) as session:
            upsert_case(session, step.snapshot)
            values = step.row.model_dump()
            row = session.get(Referral, step.row.referral_id)
            if row is None:
                session.add(Referral(**values))
            elif step.row.revision >= row.revision:
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = datetime.now(UTC)
                session.add(row)
            for rec in step.audit:
                add_audit(session, rec)
