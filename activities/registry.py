"""Every activity the worker runs, bound to its dependencies (one block per capability)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from activities.deadlines import DeadlineActivities
from activities.policy import PolicyActivities
from activities.records import RecordActivities
from jiuzhu.settings import Settings


def build_activities(engine: Engine, settings: Settings) -> list[Callable[..., Any]]:
    records = RecordActivities(engine)
    deadlines = DeadlineActivities(engine)
    policy = PolicyActivities(engine, settings.policies_dir)
    return [
        records.record_step,
        deadlines.compute_deadline,
        deadlines.post_outbox,
        policy.policy_in_force,
    ]
