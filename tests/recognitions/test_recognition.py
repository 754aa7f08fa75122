"""The yearly review of a 低保边缘 recognition on the real server (issue 14 item 6; seed 000,
豫政办〔2022〕103号 二(二): 对最低生活保障边缘人口和支出型困难人口，应当自认定之日起进行年度复核):
a 低保 applicant refused but fitting 低保边缘 consents, the follow-on case recognises the
household, and the recognition starts its review workflow. A year after the recognition date
the review opens with its deadline (reminder to the township, then escalation to the county);
the township finds the household still fits (another year, continue-as-new); the next year's
review ends the recognition. The same yearly review runs for a 支出型 (刚性支出困难)
recognition: a 低保 applicant refused but fitting 刚性支出困难 (not 低保边缘) consents and is
recognised in the follow-on case ``-R`` (policy ``rigid_expense_validity``, 12 months).
``JIUZHU_WRITE_HISTORY=1`` saves the histories (of the 低保边缘 case) replayed by
``tests/recognitions/test_replay.py`` and ``tests/test_replay_all.py``."""

import os
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import start_of_day
from jiuzhu.db.models import CaseRecord, OutboxMessage
from rules.calendar import add_months
from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
from tests.application.helpers import (
    create,
    household,
    investigation,
    save_history,
    step,
    wait_status,
)
from tests.conftest import auth
from tests.entitlements.helpers import wait_for
from workflows.recognitions.contract import (
    REVIEW_DEADLINE,
    RecognitionStatus,
    recognition_workflow_id,
)
from workflows.recognitions.models import RecognitionState
from workflows.recognitions.workflow import RecognitionReviewWorkflow

HISTORIES = Path(__file__).parent / "histories"


def outbox(engine: Engine, case_id: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case_id, OutboxMessage.deadline_name == REVIEW_DEADLINE
            )
        ).all()
    return sorted(f"{r.kind}:{r.recipient_role}:{r.recipient_area}" for r in rows)


def row(engine: Engine, case_id: str) -> CaseRecord | None:
    with Session(engine) as s:
        return s.get(CaseRecord, case_id)


async def save(client: Client, workflow_id: str, run_id: str | None, name: str) -> None:
    if os.environ.get("JIUZHU_WRITE_HISTORY") != "1":
        return
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json())


async def review_opened(
    env: WorkflowEnvironment,
    handle: WorkflowHandle[RecognitionReviewWorkflow, RecognitionState],
    day: date,
) -> RecognitionState:
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, start_of_day(day) - now + timedelta(hours=1))

    async def opened() -> RecognitionState | None:
        s = await handle.query(RecognitionReviewWorkflow.get_state)
        return s if s.status is RecognitionStatus.UNDER_REVIEW else None

    result: RecognitionState = await wait_for(opened, what="yearly review opened")
    return result


async def reviewed_yearly(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    engine: Engine,
    *,
    programme: Programme,
    household_id: str,
    follow_id: str,
    recognised_on: date,
    still_fits_zh: str,
    no_longer_fits_zh: str,
    keep_histories: bool = False,
) -> None:
    """Seed 000 (豫政办〔2022〕103号 二(二)): the recognition of ``household_id`` (approved in
    ``follow_id`` on ``recognised_on``) is reviewed a year after the recognition date, with its
    deadline (reminder to the township, escalation to the county); continued once, then ended."""
    # The recognition starts its yearly review: first review one year from the recognition date.
    rid = f"{household_id}-{programme.value}"
    handle = client.get_workflow_handle_for(
        RecognitionReviewWorkflow.run, recognition_workflow_id(household_id, programme.value)
    )
    first = await wait_for(lambda: row(engine, rid), what="recognition read model")
    assert first.case_kind == "recognition" and first.status == "recognised"
    assert first.linked_case_id == follow_id
    state = await handle.query(RecognitionReviewWorkflow.get_state)
    assert state.recognised_on == recognised_on
    assert state.next_review == add_months(recognised_on, 12)
    name = PROGRAMME_SHORT_NAMES_ZH[programme]
    assert state.programme == programme.value and f"认定为{name}家庭" in state.timeline[0].note_zh
    first_run = (await handle.describe()).run_id

    # Area and role checks; nothing to review yet.
    r = await api.get(f"/recognitions/{rid}", headers=auth("township"))
    assert r.status_code == 200 and r.json()["status"] == "recognised", r.text
    assert (await api.get(f"/recognitions/{rid}", headers=auth("other_county"))).status_code == 403
    assert (await api.get("/recognitions/nope", headers=auth("county"))).status_code == 404
    review = {"outcome": "continue", "findings_zh": still_fits_zh}
    r = await api.post(f"/recognitions/{rid}/review", json=review, headers=auth("township"))
    assert r.status_code == 409, r.text
    r = await api.post(f"/recognitions/{rid}/review", json=review, headers=auth("village"))
    assert r.status_code == 403, r.text

    # One year on: the review opens with its deadline — reminder, then escalation.
    state = await review_opened(env, handle, state.next_review)
    assert len(state.reviews) == 1
    d = next(x for x in state.deadlines if x.spec.name == REVIEW_DEADLINE)
    assert d.spec.label_zh == f"{name}家庭年度复核"
    area = state.area
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, d.remind_at - now + timedelta(minutes=1))
    await wait_for(
        lambda: outbox(engine, rid) == [f"reminder:township_officer:{area.township}"],
        what="reminder",
    )
    await env.fast_forward(handle, d.due_at - d.remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: (
            outbox(engine, rid)
            == [
                f"escalation:county_officer:{area.county}",
                f"reminder:township_officer:{area.township}",
            ]
        ),
        what="escalation",
    )
    bad = {"outcome": "maybe", "findings_zh": "x"}
    r = await api.post(f"/recognitions/{rid}/review", json=bad, headers=auth("township"))
    assert r.status_code == 422 and "outcome" in r.text, r.text

    # Still fits: recognised for another year (a new cycle).
    r = await api.post(f"/recognitions/{rid}/review", json=review, headers=auth("township"))
    assert r.status_code == 200, r.text
    nxt = date.fromisoformat(r.json()["next_review"])
    assert r.json()["status"] == "recognised" and nxt.year == state.next_review.year + 1

    async def next_cycle() -> RecognitionState | None:
        st = await handle.query(RecognitionReviewWorkflow.get_state)
        return st if st.cycle == 1 else None

    state = await wait_for(next_cycle, what="continue-as-new")
    assert state.reviews[0].outcome is not None and state.reviews[0].outcome.value == "continue"
    if keep_histories:
        await save(client, handle.id, first_run, "recognition_reviewed")

    # The next year's review ends the recognition.
    state = await review_opened(env, handle, nxt)
    r = await api.post(
        f"/recognitions/{rid}/review",
        json={"outcome": "end", "findings_zh": no_longer_fits_zh},
        headers=auth("county"),
    )
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    final = await handle.result()
    assert final.status is RecognitionStatus.ENDED and len(final.reviews) == 2
    await wait_for(lambda: (row(engine, rid) or first).status == "ended", what="ended row")
    if keep_histories:
        await save(client, handle.id, None, "recognition_ended")


async def test_edge_recognition_reviewed_yearly_with_deadline(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    engine: Engine,
) -> None:
    # A 低保 application refused, fitting 低保边缘 (700 per person: above 550, below 825).
    app_id, body = await create(api)
    hh = household(body, incomes={0: [("wage", "1400.00")]})
    await step(api, app_id, "accept", {})
    await step(api, app_id, "investigation", investigation(hh))
    await wait_status(api, app_id, "awaiting_opinion")
    await step(api, app_id, "initial-opinion", {"recommendation": "refuse"})
    s = await step(api, app_id, "decision", {"outcome": "refuse"}, who="county")
    await step(api, app_id, "edge-consent", {"consent": True}, who="village")
    follow_id = f"{app_id}-E"
    await wait_for(lambda: row(engine, follow_id), what="follow-on read model")
    await wait_status(api, follow_id, "awaiting_decision")
    f = await step(api, follow_id, "decision", {"outcome": "approve"}, who="county")
    assert f["status"] == "approved" and f["entitlement_workflow_id"] is None
    recognised_on = date.fromisoformat(f["decision"]["on"])
    await save_history(client, follow_id, "edge_recognised_review_v1")
    await reviewed_yearly(
        api,
        env,
        client,
        engine,
        programme=Programme.DIBAO_EDGE,
        household_id=s["household_id"],
        follow_id=follow_id,
        recognised_on=recognised_on,
        still_fits_zh="家庭人均收入仍低于低保标准1.5倍",
        no_longer_fits_zh="家庭成员就业，人均收入超过低保标准1.5倍",
        keep_histories=True,
    )


async def test_rigid_expense_recognition_reviewed_yearly_with_deadline(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    engine: Engine,
) -> None:
    """支出型: 1,800 yuan for 2 → 900 per person, above 1.5 × the 低保 standard (825, so not
    低保边缘) and below the monthly per-capita disposable income (31,552 ÷ 12); 20,000 yuan of
    medical spending in 12 months above 50% of the household's annual income (10,800) —
    《刚性支出困难家庭认定办法》, policy ``rigid_expense_threshold_share``."""
    app_id, body = await create(api)
    hh = household(
        body,
        incomes={0: [("wage", "1800.00")]},
        rigid_expenditures_12m=[{"kind": "medical", "amount": "20000.00"}],
    )
    await step(api, app_id, "accept", {})
    await step(api, app_id, "investigation", investigation(hh))
    a = await wait_status(api, app_id, "awaiting_opinion")
    eligible = {p["programme"] for p in a["assessment"]["programmes"] if p["eligible"]}
    assert "rigid_expense" in eligible and "dibao_edge" not in eligible, eligible
    await step(api, app_id, "initial-opinion", {"recommendation": "refuse"})
    s = await step(api, app_id, "decision", {"outcome": "refuse"}, who="county")
    assert s["edge_offer"]["programme"] == "rigid_expense", s["edge_offer"]
    await step(api, app_id, "edge-consent", {"consent": True}, who="village")
    follow_id = f"{app_id}-R"
    await wait_for(lambda: row(engine, follow_id), what="follow-on read model")
    await wait_status(api, follow_id, "awaiting_decision")
    f = await step(api, follow_id, "decision", {"outcome": "approve"}, who="county")
    assert f["status"] == "approved" and f["entitlement_workflow_id"] is None
    assert f["programme"] == "rigid_expense"
    await reviewed_yearly(
        api,
        env,
        client,
        engine,
        programme=Programme.RIGID_EXPENSE,
        household_id=s["household_id"],
        follow_id=follow_id,
        recognised_on=date.fromisoformat(f["decision"]["on"]),
        still_fits_zh="近12个月医疗支出仍超过家庭年收入的50%",
        no_longer_fits_zh="医疗支出已由大病保险报销，刚性支出不再超过家庭年收入的50%",
    )
