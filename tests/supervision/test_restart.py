"""Deadlines of supervision survive killing the worker process and the persistent dev server
(SIGKILL) between their reminder and their escalation — a complaint's reply deadline and a
sampled case's spot-check deadline: restarted on the same SQLite file, the escalation goes out
once and the reminder is not sent again; the case then closes."""

import uuid
from datetime import date, timedelta

from sqlalchemy import Engine
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from tests.application.test_restart import stack
from tests.conftest import PersistentServer, auth
from tests.entitlements.helpers import wait_for
from tests.supervision.support import AREA, outbox, seed_decision
from workflows.supervision.complaint import ComplaintWorkflow
from workflows.supervision.contract import complaint_workflow_id
from workflows.supervision.models import ComplaintState, SpotCheckState
from workflows.supervision.spot_check import SpotCheckRoundWorkflow

REMINDER = "reminder:township_officer:419901001"
ESCALATION = "escalation:county_officer:419901"
COUNTY_REMINDER = "reminder:county_officer:419901"
CITY_ESCALATION = "escalation:county_officer:4199"


async def test_complaint_deadline_survives_killing_worker_and_server(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"complaint-restart-{uuid.uuid4().hex[:6]}"})
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        r = await api.post(
            "/complaints",
            json={
                "channel": "visit",
                "category": "missed",
                "summary_zh": "一户困难家庭未被发现",
                "area_code": AREA,
                "complainant": {"phone": "13900000000"},
            },
            headers=auth("village"),
        )
        assert r.status_code == 201, r.text
        cid = r.json()["complaint_id"]
        wid = complaint_workflow_id(cid)
        handle = client.get_workflow_handle_for(ComplaintWorkflow.run, wid)

        async def first_deadline() -> ComplaintState | None:
            s: ComplaintState = await handle.query(ComplaintWorkflow.get_state)
            return s if s.deadlines else None

        state: ComplaintState = await wait_for(first_deadline, seconds=60, what="deadline")
        d = state.deadlines[0]
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        now = await skipper.get_current_time(handle)
        await skipper.fast_forward(handle, d.remind_at - now + timedelta(minutes=1))
        await wait_for(lambda: outbox(engine, wid) == [REMINDER], seconds=60, what="reminder")
    persistent_server.kill()  # the worker process was SIGKILLed leaving the block

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        handle = client.get_workflow_handle_for(ComplaintWorkflow.run, wid)
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        await skipper.fast_forward(handle, d.due_at - d.remind_at + timedelta(hours=1))
        await wait_for(
            lambda: outbox(engine, wid) == [ESCALATION, REMINDER], seconds=60, what="escalation"
        )
        today = beijing_today().isoformat()
        for path, body in (
            ("findings", {"findings_zh": "属实", "substantiated": True, "investigated_on": today}),
            ("reply", {"reply_zh": "已上门核实", "channel": "sms", "delivered_on": today}),
        ):
            r = await api.post(f"/complaints/{cid}/{path}", json=body, headers=auth("township"))
            assert r.status_code == 200, (path, r.text)
        # The case's clock ran past the 30-day follow-up window from the delivery date on
        # paper, so the complaint closes at once with no follow-up asked for.
        final: ComplaintState = await handle.result()
        assert final.status.value == "closed" and final.closed_reason == "follow_up_lapsed"
        assert final.replies[0].on_time is False
    assert outbox(engine, wid) == [ESCALATION, REMINDER]


async def test_spot_check_task_deadline_survives_killing_worker_and_server(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    """A sampled case's deadline: reminder to the county, restart, escalation to the city once;
    the county's finding then completes the round."""
    case_id = seed_decision(engine, decided_on=date(2026, 3, 9), outcome="refuse", prefix="SR")
    local = settings.model_copy(update={"task_queue": f"spot-restart-{uuid.uuid4().hex[:6]}"})
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        r = await api.post(
            "/spot-checks",
            json={"county_code": "419901", "period": "2026-03", "seed": 5},
            headers=auth("county"),
        )
        assert r.status_code == 201, r.text
        round_id = r.json()["round_id"]
        handle = client.get_workflow_handle_for(SpotCheckRoundWorkflow.run, round_id)

        async def drawn() -> SpotCheckState | None:
            s: SpotCheckState = await handle.query(SpotCheckRoundWorkflow.get_state)
            return s if s.deadlines else None

        state: SpotCheckState = await wait_for(drawn, seconds=60, what="draw")
        assert [t.decision.case_id for t in state.tasks] == [case_id]
        d = state.deadlines[0]
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        now = await skipper.get_current_time(handle)
        await skipper.fast_forward(handle, d.remind_at - now + timedelta(minutes=1))
        await wait_for(
            lambda: outbox(engine, round_id) == [COUNTY_REMINDER], seconds=60, what="reminder"
        )
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        handle = client.get_workflow_handle_for(SpotCheckRoundWorkflow.run, round_id)
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        await skipper.fast_forward(handle, d.due_at - d.remind_at + timedelta(hours=1))
        await wait_for(
            lambda: outbox(engine, round_id) == [CITY_ESCALATION, COUNTY_REMINDER],
            seconds=60,
            what="escalation",
        )
        r = await api.post(
            f"/spot-checks/{round_id}/tasks/{case_id}",
            json={
                "outcome": "confirmed",
                "findings_zh": "复核收入，原不予确认正确",
                "checked_on": beijing_today().isoformat(),
            },
            headers=auth("county"),
        )
        assert r.status_code == 200 and r.json()["pending"] == 0, r.text
        final: SpotCheckState = await handle.result()
        assert final.status.value == "completed"
    assert outbox(engine, round_id) == [CITY_ESCALATION, COUNTY_REMINDER]
