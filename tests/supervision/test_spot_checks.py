"""The monthly spot check (抽查) on the real server (issue 14 item 1): a month's sample over
≥ 50 decisions meets both policy rates (30 %, 60 % for registered relatives), reproducibly from
its recorded seed and population; each sampled case is a county task with a deadline (reminder,
then escalation — time moved with ``env.fast_forward``); a reversed approval stops the
entitlement through its review (停发 with a written notice); a reversed refusal starts a new
application linked to the refused one. Bad input is refused naming the field.
``JIUZHU_WRITE_HISTORY=1`` also saves the histories replayed by ``tests/test_replay_all.py``."""

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from jiuzhu.spot_check_schedules import ensure_spot_check_schedule
from tests.application.helpers import create, household, investigation, step, wait_status
from tests.conftest import auth
from tests.entitlements.helpers import approved_case, start_entitlement, wait_for, wait_published
from tests.factories import application_body
from tests.supervision.support import AREA, detail, outbox, row, seed_decision
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.supervision.contract import reopened_application_id
from workflows.supervision.models import SpotCheckInput, SpotCheckState
from workflows.supervision.spot_check import SpotCheckRoundWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def keep(client: Client, workflow_id: str, name: str) -> None:
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())


async def start(api: httpx.AsyncClient, period: str, seed: int | None = None) -> str:
    body: dict[str, Any] = {"county_code": "419901", "period": period}
    if seed is not None:
        body["seed"] = seed
    r = await api.post("/spot-checks", json=body, headers=auth("county"))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/spot-checks/{r.json()['round_id']}"
    return str(r.json()["round_id"])


async def drawn(api: httpx.AsyncClient, round_id: str) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        r = await api.get(f"/spot-checks/{round_id}", headers=auth("county"))
        if r.status_code != 200:
            return None
        s: dict[str, Any] = r.json()
        return s if s["drawn_at"] and s["timeline"] else None

    result: dict[str, Any] = await wait_for(ready, what=f"draw of {round_id}")
    return result


async def test_a_month_over_fifty_decisions_meets_both_rates_with_deadlines(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, worker: Worker, engine: Engine
) -> None:
    month = date(2026, 6, 1)
    relatives = {
        seed_decision(engine, decided_on=month + timedelta(days=i % 28), relatives=True)
        for i in range(12)
    }
    others = {
        seed_decision(
            engine,
            decided_on=month + timedelta(days=i % 28),
            outcome="refuse" if i % 3 == 0 else "approve",
            by_township=i % 2 == 0,  # confirmed by the township under delegation
        )
        for i in range(48)
    }
    # Not in June's population: another month, temporary aid, another county.
    seed_decision(engine, decided_on=date(2026, 5, 31))
    seed_decision(engine, decided_on=month, programme="temporary")
    seed_decision(engine, decided_on=month, area_code="410882001001")

    # Bad input first: nothing is started.
    for bad, field, status in (
        ({"county_code": "419901", "period": beijing_today().strftime("%Y-%m")}, "period", 422),
        ({"county_code": "419901", "period": "2026-13"}, "period", 422),
        ({"county_code": "4199", "period": "2026-06"}, "county_code", 422),
        ({"county_code": "419901", "period": "2026-06", "seed": -1}, "seed", 422),
        ({"county_code": "419901", "period": "2026-06", "x": 1}, "x", 422),
    ):
        r = await api.post("/spot-checks", json=bad, headers=auth("county"))
        assert r.status_code == status, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, (bad, r.text)
    june = {"county_code": "419901", "period": "2026-06"}
    assert (await api.post("/spot-checks", json=june, headers=auth("township"))).status_code == 403
    assert (
        await api.post("/spot-checks", json=june, headers=auth("other_county"))
    ).status_code == 403

    round_id = await start(api, "2026-06", seed=20260701)
    r = await api.post("/spot-checks", json=june, headers=auth("county"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "period", r.text
    s = await drawn(api, round_id)
    assert s["seed"] == 20260701 and len(s["population"]) == 60
    sampled = {t["decision"]["case_id"] for t in s["tasks"]}
    assert len(sampled & relatives) / len(relatives) >= 0.60
    assert len(sampled & others) / len(others) >= 0.30
    assert [(x["name"], x["population"], x["sampled"]) for x in s["strata"]] == [
        ("relatives", 12, 8),
        ("others", 48, 15),
    ]
    levels = {t["decision"]["decided_by_level"] for t in s["tasks"]}
    assert levels == {"county", "township"}  # delegated township decisions are sampled too
    assert {t["decision"]["outcome"] for t in s["tasks"]} == {"approve", "refuse"}

    # Auditable: the recorded draw redraws to the same sample.
    r = await api.get(f"/spot-checks/{round_id}/draw", headers=auth("auditor"))
    assert r.status_code == 200, r.text
    assert r.json()["reproduced"] is True and set(r.json()["sampled"]) == sampled
    assert (await api.get(f"/spot-checks/{round_id}", headers=auth("township"))).status_code == 403
    r = await api.get(f"/spot-checks/{round_id}", headers=auth("other_county"))
    assert r.status_code == 403
    r = await api.get("/spot-checks?county_code=419901", headers=auth("county"))
    listed = {i["round_id"]: i for i in r.json()["items"]}
    assert listed[round_id]["sample_size"] == 23 and listed[round_id]["pending"] == 23

    # Each task has a deadline: reminder to the county, then escalation to the city.
    handle = client.get_workflow_handle_for(SpotCheckRoundWorkflow.run, round_id)
    state: SpotCheckState = await handle.query(SpotCheckRoundWorkflow.get_state)
    assert len(state.deadlines) == 23
    first = state.deadlines[0]
    now = (await handle.describe()).start_time
    assert now is not None
    await env.fast_forward(handle, first.remind_at - now + timedelta(minutes=1))
    await wait_for(
        lambda: outbox(engine, round_id) == ["reminder:county_officer:419901"] * 23,
        what="reminders",
    )
    await env.fast_forward(handle, first.due_at - first.remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: outbox(engine, round_id).count("escalation:county_officer:4199") == 23,
        what="escalations",
    )
    await wait_for(lambda: getattr(row(engine, round_id), "overdue", False), what="overdue")

    # A finding: bad input named, then a confirmation.
    case_id = sorted(sampled & others)[0]
    url = f"/spot-checks/{round_id}/tasks/{case_id}"
    today = beijing_today()  # the officer's date on paper (the round's own clock ran ahead)
    good = {"outcome": "confirmed", "findings_zh": "入户复核，情况属实", "checked_on": str(today)}
    for bad, field in (
        ({**good, "outcome": "maybe"}, "outcome"),
        ({**good, "findings_zh": ""}, "findings_zh"),
        ({**good, "checked_on": "2099-01-01"}, "checked_on"),
        ({**good, "checked_on": "2026-06-30"}, "checked_on"),
        ({**good, "transfer_check": "dibao"}, "transfer_check"),
    ):
        r = await api.post(url, json=bad, headers=auth("county"))
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, (bad, r.text)
    r = await api.post(f"/spot-checks/{round_id}/tasks/NOPE", json=good, headers=auth("county"))
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "case_id", r.text
    assert (await api.post(url, json=good, headers=auth("auditor"))).status_code == 403
    key = {"Idempotency-Key": "sc-1", **auth("county")}
    r = await api.post(url, json=good, headers=key)
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert r.json()["pending"] == 22
    assert (await api.post(url, json=good, headers=key)).json()["pending"] == 22  # once
    assert (await api.post(url, json=good, headers=auth("county"))).status_code == 409
    await wait_for(lambda: detail(engine, round_id).get("confirmed") == 1, what="read model")


async def test_reversed_approval_stops_the_entitlement_through_its_review(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2026, 6, 1), amount="500.00", members=1)
    ent = await start_entitlement(client, settings.task_queue, inp)
    await wait_published(engine, f"{inp.household_id}-dibao")
    case_id = seed_decision(
        engine,
        decided_on=date(2026, 5, 20),
        by_township=True,
        entitlement_workflow_id=ent.id,
        household_id=inp.household_id,
        prefix="SA",
    )
    round_id = await start(api, "2026-05", seed=1)
    s = await drawn(api, round_id)
    assert [t["decision"]["case_id"] for t in s["tasks"]] == [case_id]
    assert s["tasks"][0]["decision"]["entitlement_workflow_id"] == ent.id
    url = f"/spot-checks/{round_id}/tasks/{case_id}"
    body = {
        "outcome": "reversed",
        "findings_zh": "复核发现家庭人均收入高于低保标准",
        "checked_on": beijing_today().isoformat(),
    }
    r = await api.post(url, json=body, headers=auth("county"))
    assert r.status_code == 200, r.text
    assert r.json()["reopened"]["path"] == "termination"
    assert r.json()["reopened"]["reopened_case_id"] == ent.id
    state = await client.get_workflow_handle_for(EntitlementWorkflow.run, ent.id).query(
        EntitlementWorkflow.get_state
    )
    actions = [t.action for t in state.timeline]
    assert ["change_reported", "review_opened", "investigation_closed", "review_decided"] == [
        a for a in actions if a in {"change_reported", "investigation_closed", "review_opened",
                                    "review_decided"}
    ]  # fmt: skip
    assert state.end_month is not None  # 停发: this month is the last paid
    assert state.notices and state.notices[-1].kind == "termination"
    final: SpotCheckState = await client.get_workflow_handle_for(
        SpotCheckRoundWorkflow.run, round_id
    ).result()
    assert final.status.value == "completed" and final.tasks[0].status.value == "reversed"
    assert all(d.met_at is not None for d in final.deadlines)
    await keep(client, round_id, "spot_check_reversed_approval")


async def test_reversed_refusal_starts_a_new_application_linked_to_it(
    api: httpx.AsyncClient, client: Client, worker: Worker, engine: Engine
) -> None:
    body = {**application_body(), "applied_on": "2026-07-01"}
    app_id, body = await create(api, body)
    await step(api, app_id, "accept", {"accepted_on": "2026-07-01"})
    hh = household(body, incomes={0: [("wage", "5000.00")]})
    await step(api, app_id, "investigation", investigation(hh, visited_on="2026-07-02"))
    await wait_status(api, app_id, "awaiting_opinion")
    await step(
        api, app_id, "initial-opinion", {"recommendation": "refuse", "opinion_on": "2026-07-10"}
    )
    s = await step(
        api, app_id, "decision", {"outcome": "refuse", "decided_on": "2026-07-15"}, who="county"
    )
    assert s["status"] == "refused"
    await wait_for(lambda: detail(engine, app_id).get("decided_on") == "2026-07-15")

    round_id = await start(api, "2026-07", seed=99)
    s = await drawn(api, round_id)
    assert [d["case_id"] for d in s["population"]] == [app_id]  # July is this test's month
    assert [t["decision"]["case_id"] for t in s["tasks"]] == [app_id]
    url = f"/spot-checks/{round_id}/tasks/{app_id}"
    finding = {
        "outcome": "reversed",
        "findings_zh": "工资收入系一次性补发，应按月均计算，原不予确认有误",
        "checked_on": beijing_today().isoformat(),
    }
    r = await api.post(url, json=finding, headers=auth("county"))
    assert r.status_code == 200, r.text
    new_id = reopened_application_id(app_id)
    assert r.json()["reopened"] == {
        "path": "new_application",
        "reopened_case_id": new_id,
        "note_zh": r.json()["reopened"]["note_zh"],
    }
    await wait_for(lambda: row(engine, new_id) is not None, what="the new application")
    new_row = row(engine, new_id)
    assert new_row is not None and new_row.linked_case_id == app_id
    old_row = row(engine, app_id)
    assert old_row is not None and new_row.household_id == old_row.household_id
    assert new_row.status == "submitted"
    assert "notice:township_officer:419901001" in outbox(engine, f"application-{new_id}")
    r = await api.get(f"/applications/{new_id}", headers=auth("township"))
    assert r.status_code == 200 and len(r.json()["members"]) == len(body["household"])
    # The township accepts it: the case is on its statutory path again.
    r = await api.post(f"/applications/{new_id}/accept", json={}, headers=auth("township"))
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text


async def test_the_monthly_schedule_launches_the_previous_months_round_once(
    client: Client, worker: Worker, settings: Settings
) -> None:
    """The schedule's run has no period: it starts last month's round under that round's id
    (a second launch finds it)."""
    handle = await ensure_spot_check_schedule(client, "410882", settings.task_queue)
    desc = await handle.describe()
    spec = desc.schedule.spec.calendars[0]
    assert (spec.day_of_month[0].start, spec.hour[0].start) == (1, 2)
    launches = []
    for n in range(2):
        run = await client.start_workflow(
            SpotCheckRoundWorkflow.run,
            SpotCheckInput(county_code="410882"),
            id=f"spot-check-launch-test-{n}",
            task_queue=settings.task_queue,
        )
        launches.append(await run.result())
    last = beijing_today().replace(day=1) - timedelta(days=1)
    period = f"{last.year:04d}-{last.month:02d}"
    assert {s.round_id for s in launches} == {f"spot-check-410882-{period}"}
    child = client.get_workflow_handle_for(SpotCheckRoundWorkflow.run, launches[0].round_id)
    state = await wait_for(lambda: _drawn(child), what="the launched round")
    assert state.period == period and state.started_by is None


async def _drawn(handle: Any) -> SpotCheckState | None:
    s: SpotCheckState = await handle.query(SpotCheckRoundWorkflow.get_state)
    return s if s.drawn_at else None
