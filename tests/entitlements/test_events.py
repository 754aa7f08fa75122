"""Changes during an entitlement, end to end through the API on the real server: the monthly
death check suspends a share at once and opens the household review (the review then continues
the entitlement as new); the third unjustified work refusal cuts that person's share; a
data-comparison flag opens an investigation and stops nobody; 特困 termination goes through 7
days of publicity with the transfer check recorded; bad input is refused with nothing written."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.contract import Role
from jiuzhu.settings import Settings
from tests.conftest import auth
from tests.entitlements.helpers import (
    account_row,
    actor,
    approved_case,
    new_id,
    payments,
    run_payroll,
    start_entitlement,
    wait_for,
    wait_published,
)
from workflows.entitlements.models import (
    ChangeKind,
    ChangeReport,
    EntitlementStatus,
    InvestigationClose,
    ReviewKind,
    ShareStatus,
)
from workflows.entitlements.workflow import EntitlementWorkflow

AREA = "419901001001"  # the demo county: the API's test officers work here


async def test_death_check_suspends_share_and_opens_review(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2032, 1, 1), amount="900.00", members=3)
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    deceased = inp.household.members[1]

    body = {
        "records": [
            {
                "id_number": deceased.id_number,
                "name": deceased.name,
                "date_of_death": "2026-10-03",
                "source": "公安户籍注销",
            }
        ]
    }
    r = await api.post("/deaths", json=body, headers=auth("county"))
    assert r.status_code == 403
    r = await api.post("/deaths", json=body, headers=auth("admin"))
    assert r.status_code == 201 and r.json()["loaded"] == 1 and r.json()["already_known"] == 0
    r = await api.post("/deaths", json=body, headers=auth("admin"))
    assert (r.json()["loaded"], r.json()["already_known"]) == (0, 1)

    jan = await run_payroll(client, settings.task_queue, "419901", 2032, 1)
    assert jan.deaths is not None and jan.deaths.applied >= 1
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.member(deceased.id_number).status is ShareStatus.SUSPENDED  # type: ignore[union-attr]
    assert state.review is not None and state.review.kind is ReviewKind.DEATH
    death_deadline = next(d for d in state.deadlines if d.name == "death_review")
    assert death_deadline.spec.period.value == 3 and death_deadline.is_open
    assert [str(p.amount) for p in payments(engine, case_id)] == ["600.00"]  # 2 of 3 shares

    r = await api.get(f"/entitlements/{case_id}", headers=auth("township"))
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["payments"][0]["period"] == "2032-01"
    assert detail["state"]["review"]["kind"] == "death"

    # The household review continues the entitlement without the deceased: a new cycle.
    first_run = (await handle.describe()).run_id
    r = await api.post(
        f"/entitlements/{case_id}/review-outcome",
        json={"outcome": "continue", "reasons_zh": "核实成员死亡，其余成员情况无变化"},
        headers=auth("county"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["payable_amount"] == "600.00"
    after = await wait_for(lambda: _new_run(handle, first_run), what="continue-as-new")
    state = await handle.query(EntitlementWorkflow.get_state)
    assert after and state.cycle == 1 and state.review is None
    assert state.member(deceased.id_number).status is ShareStatus.DECEASED  # type: ignore[union-attr]
    assert not any(d.is_open for d in state.deadlines)
    await run_payroll(client, settings.task_queue, "419901", 2032, 2)
    assert [str(p.amount) for p in payments(engine, case_id)] == ["600.00", "600.00"]
    # The calendar signal is harmless with no provisional deadline.
    await handle.signal("calendar_changed")


async def _new_run(handle: WorkflowHandle[Any, Any], first_run: str | None) -> bool:
    return (await handle.describe()).run_id != first_run


async def test_third_unjustified_work_refusal_cuts_the_share(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2032, 1, 1), amount="900.00", members=3)
    await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    member = inp.household.members[1].id_number
    url = f"/entitlements/{case_id}/work-refusals"

    assert (await api.post(url, json={})).status_code == 401
    body = {"member_id_number": member, "justified": False, "description_zh": "拒绝公益岗位"}
    r = await api.post(url, json=body, headers=auth("township2"))
    assert r.status_code == 403  # another township's officer
    r = await api.post(url, json=body, headers=auth("village"))
    assert r.status_code == 403  # wrong role
    r = await api.post(url, json={**body, "member_id_number": "123"}, headers=auth("township"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id_number"
    r = await api.post(
        url,
        json={**body, "member_id_number": new_id("419901", date(1985, 1, 1))},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id_number", r.text

    r = await api.post(url, json={**body, "justified": True}, headers=auth("township"))
    assert r.status_code == 201 and r.json()["share_cut"] is False
    for n in (1, 2):
        r = await api.post(url, json=body, headers=auth("township"))
        assert r.json() == {"unjustified_refusals": n, "share_cut": False, "notice_id": None}
    r = await api.post(url, json=body, headers=auth("township"))
    assert r.status_code == 201
    third = r.json()
    assert third["unjustified_refusals"] == 3 and third["share_cut"] is True
    r = await api.get(f"/entitlements/{case_id}", headers=auth("county"))
    detail = r.json()
    assert detail["state"]["payable_amount"] == "900.00"  # this month unchanged
    assert detail["state"]["next_amount"] == "600.00"  # cut from next month
    assert [n["kind"] for n in detail["notices"]] == ["reduction"]
    r = await api.get(
        f"/entitlements/{case_id}/notices/{third['notice_id']}", headers=auth("township")
    )
    assert r.status_code == 200 and "第三十四条" in r.text
    row = account_row(engine, case_id)
    assert row is not None and row.next_amount == Decimal("600.00")
    # Once refused 3 times the share is cut: a further refusal for that member is refused.
    r = await api.post(url, json=body, headers=auth("township"))
    assert r.status_code == 409


async def test_data_flag_opens_investigation_and_stops_nobody(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2032, 1, 1))
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    url = f"/entitlements/{case_id}/changes"
    r = await api.post(
        url, json={"kind": "lottery", "description_zh": "x"}, headers=auth("township")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = await api.post(
        url,
        json={"kind": "data_flag", "description_zh": "车辆登记比对：疑似新购车辆"},
        headers=auth("village"),
    )
    assert r.status_code == 201, r.text
    inv = r.json()["investigation_id"]
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.status is EntitlementStatus.ACTIVE and state.payable_amount == Decimal("600.00")
    assert any(d.name == f"investigation:{inv}" and d.is_open for d in state.deadlines)
    r = await api.post(
        f"/entitlements/{case_id}/investigations/{inv}/close",
        json={"finding_zh": "车辆为亲属所有，家庭经济状况无变化", "open_review": False},
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.review is None and state.status is EntitlementStatus.ACTIVE
    assert not any(d.is_open for d in state.deadlines)
    r = await api.post(
        f"/entitlements/{case_id}/investigations/{inv}/close",
        json={"finding_zh": "again"},
        headers=auth("township"),
    )
    assert r.status_code == 409
    r = await api.post(
        f"/entitlements/{case_id}/review-outcome",
        json={"outcome": "continue", "reasons_zh": "无"},
        headers=auth("county"),
    )
    assert r.status_code == 409  # no review is open


async def test_tekun_termination_publicity_then_stop_with_transfer_check(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    area = "419917001001"
    county = actor(Role.COUNTY_OFFICER, "419917")
    inp = approved_case(
        area, programme="tekun", members=1, amount="910.00", start_month=date(2026, 12, 1)
    )
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-tekun"
    await wait_published(engine, case_id)
    receipt = await handle.execute_update(
        EntitlementWorkflow.report_change,
        ChangeReport(
            actor=actor(Role.TOWNSHIP_OFFICER, "419917001"),
            kind=ChangeKind.INCOME,
            description_zh="本人恢复劳动能力并就业",
        ),
    )
    await handle.execute_update(
        EntitlementWorkflow.close_investigation,
        InvestigationClose(
            actor=actor(Role.TOWNSHIP_OFFICER, "419917001"),
            investigation_id=receipt.investigation_id,
            finding_zh="已恢复劳动能力，有稳定收入",
            open_review=True,
        ),
    )
    from temporalio.client import WorkflowUpdateFailedError

    from workflows.entitlements.models import ReviewOutcome, ReviewOutcomeKind, TransferCheck

    stop = ReviewOutcome(
        actor=county, outcome=ReviewOutcomeKind.STOP, reasons_zh="恢复劳动能力，不再符合特困条件"
    )
    try:
        await handle.execute_update(EntitlementWorkflow.record_review_outcome, stop)
        raise AssertionError("特困 stop without the transfer check was accepted")
    except WorkflowUpdateFailedError:
        pass
    result = await handle.execute_update(
        EntitlementWorkflow.record_review_outcome,
        stop.model_copy(update={"transfer_check": TransferCheck.TEMPORARY}),
    )
    assert result.status is EntitlementStatus.TERMINATING and result.end_month is None
    state = await handle.query(EntitlementWorkflow.get_state)
    until = state.termination_publicity_until
    assert until is not None and (until - date.today()).days in (7, 8)
    assert state.notices == []  # no stop before the publicity ends
    await env.fast_forward(handle, timedelta(days=9))
    state = await wait_for(lambda: _ended_month(handle), what="termination after publicity")
    assert state.end_month is not None and state.status is EntitlementStatus.TERMINATING
    assert [n.kind for n in state.notices] == ["termination"]
    assert (account_row(engine, case_id) or None).end_month is not None  # type: ignore[union-attr]
    await env.fast_forward(handle, timedelta(days=62))
    final = await handle.result()
    assert final.status is EntitlementStatus.ENDED
    assert any(t.action == "termination_confirmed" for t in final.timeline)


async def _ended_month(handle: WorkflowHandle[Any, Any]) -> Any:
    state = await handle.query(EntitlementWorkflow.get_state)
    return state if state.end_month is not None else None
