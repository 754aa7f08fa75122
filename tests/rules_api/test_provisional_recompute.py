"""A provisional deadline is recomputed when its year's schedule is loaded, on the real server:
a working-day deadline reaching into 2027 (no schedule shipped → weekdays only, provisional,
``HasProvisionalDeadline`` true); ``PUT /calendar/years/2027`` signals ``calendar_changed``; the
deadline moves past the Spring Festival holidays, is no longer provisional, its reminder and
escalation timers follow the new date and the search attribute is cleared (DOMAIN §8)."""

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.routes.policies import today_shanghai
from jiuzhu.db.models import CalendarYear, OutboxMessage
from jiuzhu.settings import Settings
from rules.calendar import YearSchedule, builtin_calendar
from tests.conftest import auth
from tests.deadline_probe import DeadlineProbeWorkflow, ProbeState
from worker import make_worker

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2027
PROVISIONAL_DUE = date(2027, 2, 9)  # a Tuesday, counting weekdays only
# Invented test data in the shape of a State Council notice: New Year 01-01..03; Spring
# Festival 02-06..12 with make-up Sunday 02-14 and Saturday 02-20; Qingming, Labour Day,
# Dragon Boat, Mid-Autumn and National Day with their make-up days.
SCHEDULE_2027 = {
    "holidays": [
        "2027-01-01",
        "2027-01-02",
        "2027-01-03",
        *[f"2027-02-{d:02d}" for d in range(6, 13)],
        "2027-04-05",
        *[f"2027-05-0{d}" for d in range(1, 6)],
        "2027-06-09",
        "2027-09-15",
        *[f"2027-10-0{d}" for d in range(1, 8)],
    ],
    "workdays": [
        "2027-02-14",
        "2027-02-20",
        "2027-04-25",
        "2027-05-08",
        "2027-09-26",
        "2027-10-09",
    ],
}
# Three weekday holidays fall on or before 02-09 (01-01, 02-08, 02-09); the next working days are
# 02-14 (make-up), 02-15 and 02-16.
RECOMPUTED_DUE = date(2027, 2, 16)

pytestmark = pytest.mark.skipif(
    today_shanghai() >= date(YEAR, 1, 1), reason="needs a start date before 2027"
)


@pytest.fixture
def restore_2027(engine: Engine) -> Iterator[None]:
    """Other tests share the session database: leave 2027 as this test found it."""
    with Session(engine) as s:
        before = s.get(CalendarYear, YEAR)
        saved = before.model_dump() if before is not None else None
    yield
    with Session(engine) as s:
        row = s.get(CalendarYear, YEAR)
        if row is not None:
            s.delete(row)
            s.commit()
        if saved is not None:
            s.add(CalendarYear(**saved))
            s.commit()


async def eventually_count(client: Client, query: str, expected: int, seconds: float = 10) -> None:
    """Visibility is eventually consistent: poll briefly."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (count := (await client.count_workflows(query)).count) != expected:
        assert loop.time() < end, f"{query!r}: {count} != {expected}"
        await asyncio.sleep(0.1)


async def eventually_state(
    handle: WorkflowHandle[Any, Any], check: Callable[[ProbeState], bool], seconds: float = 10
) -> ProbeState:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not check(state := await handle.query(DeadlineProbeWorkflow.get_state)):
        assert loop.time() < end, state
        await asyncio.sleep(0.05)
    return state


def outbox(engine: Engine, workflow_id: str) -> list[tuple[str, bool]]:
    """(kind, names the recomputed due date) of the probe's reminders and escalations."""
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.workflow_id == workflow_id)).all()
    return sorted((r.kind, RECOMPUTED_DUE.isoformat() in r.message_zh) for r in rows)


def at(d: date, hour: int = 0) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)


async def test_loading_2027_recomputes_a_provisional_deadline(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    settings: Settings,
    engine: Engine,
    restore_2027: None,
) -> None:
    client = env.client
    today = today_shanghai()
    working_days = builtin_calendar().count_working_days(today, PROVISIONAL_DUE)
    expected_new = builtin_calendar([YearSchedule.model_validate({"year": YEAR, **SCHEDULE_2027})])
    assert expected_new.add_working_days(today, working_days).date == RECOMPUTED_DUE

    queue = f"recompute-{uuid.uuid4().hex[:6]}"
    wf_id = f"probe-recompute-{uuid.uuid4().hex}"
    async with make_worker(client, settings, engine, queue, [DeadlineProbeWorkflow]):
        handle = await client.start_workflow(
            DeadlineProbeWorkflow.run, working_days, id=wf_id, task_queue=queue
        )
        state = await eventually_state(handle, lambda s: bool(s.deadlines))
        before = state.deadlines[0]
        assert before.spec.start == today
        assert before.provisional is True
        assert before.due_date == PROVISIONAL_DUE
        assert before.due_at == at(PROVISIONAL_DUE + timedelta(days=1))
        assert before.remind_at == at(date(2027, 2, 8), 9)  # 1 working day before, weekdays only
        mine = f"WorkflowId = '{wf_id}'"
        await eventually_count(client, f"{mine} AND HasProvisionalDeadline = true", 1)

        r = await api.put(f"/calendar/years/{YEAR}", json=SCHEDULE_2027, headers=auth("admin"))
        assert r.status_code == 200, r.text
        assert r.json()["source"] == "loaded"
        assert r.json()["signalled"] >= 1 and r.json()["signal_failures"] == 0

        state = await eventually_state(handle, lambda s: s.deadlines[0].generation == 1)
        after = state.deadlines[0]
        assert after.provisional is False
        assert after.due_date == RECOMPUTED_DUE
        assert after.due_at == at(RECOMPUTED_DUE + timedelta(days=1))
        assert after.remind_at == at(date(2027, 2, 15), 9)
        assert after.reminded_at is None and after.escalated_at is None
        await eventually_count(client, f"{mine} AND HasProvisionalDeadline = false", 1)

        # The timers follow the new date: nothing at the old reminder or due instant.
        started = await env.get_current_time(handle)
        await env.fast_forward(handle, before.due_at - started + timedelta(hours=1))
        assert outbox(engine, wf_id) == []
        await env.fast_forward(handle, after.remind_at - before.due_at)
        assert outbox(engine, wf_id) == [("reminder", True)]
        await env.fast_forward(handle, after.due_at - after.remind_at)
        assert outbox(engine, wf_id) == [("escalation", True), ("reminder", True)]

        # A second load changes nothing for a deadline that is no longer provisional.
        r = await api.put(f"/calendar/years/{YEAR}", json=SCHEDULE_2027, headers=auth("admin"))
        assert r.status_code == 200
        await handle.signal(DeadlineProbeWorkflow.finish)
        await env.fast_forward(handle, timedelta(seconds=2))  # the probe's closing 1 s sleep
        final = await handle.result()
        assert final.deadlines[0].generation == 1
        assert final.deadlines[0].escalated_at is not None
