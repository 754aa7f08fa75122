"""特困 rules already written down (issue 14 item 6), on the real server with time skipping:

- 生活自理能力复核评估 (特困办法 Art. 20–23): a reported self-care change opens a re-assessment
  due within the policy's ``self_care_reassessment`` (10 working days) — reminder to the
  township, then escalation to the county — and the re-assessment's new care tier changes the
  care standard (and the amount) from the next month.
- 未成年特困人员 (特困办法, DOMAIN §4): covered to the coverage age (18), longer while in
  school — the 18th birthday opens the in-school review with its deadline (reminder, then
  escalation); the county stops support (7-day publicity first) or continues it.

``JIUZHU_WRITE_HISTORY=1`` saves the histories replayed by ``tests/test_replay_all.py``."""

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import beijing_date, beijing_today, start_of_day
from jiuzhu.db.models import OutboxMessage
from jiuzhu.household_ids import household_id_for
from jiuzhu.policy_store import policy_in_force
from jiuzhu.settings import Settings
from rules.calendar import add_months
from rules.household import CareTier, Household, Hukou, Member, Relation
from rules.periods import working_days
from tests.conftest import auth
from tests.entitlements.helpers import (
    approved_case,
    new_id,
    start_entitlement,
    wait_for,
    wait_published,
)
from workflows.entitlements.models import (
    EntitlementInput,
    EntitlementState,
    EntitlementStatus,
    ReviewKind,
)
from workflows.entitlements.workflow import EntitlementWorkflow

AREA = "419901001001"
TOWNSHIP = "419901001"
COUNTY = "419901"
HISTORIES = Path(__file__).parent / "histories"


def outbox(engine: Engine, case_id: str, deadline_name: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case_id, OutboxMessage.deadline_name == deadline_name
            )
        ).all()
    return sorted(f"{r.kind}:{r.recipient_role}:{r.recipient_area}" for r in rows)


async def save_history(
    handle: WorkflowHandle[EntitlementWorkflow, EntitlementState], name: str
) -> None:
    if os.environ.get("JIUZHU_WRITE_HISTORY") != "1":
        return
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json())


async def reminder_then_escalation(
    env: WorkflowEnvironment,
    handle: WorkflowHandle[EntitlementWorkflow, EntitlementState],
    engine: Engine,
    case_id: str,
    name: str,
) -> None:
    """The deadline's reminder reaches the township, then its escalation the county."""
    state = await handle.query(EntitlementWorkflow.get_state)
    d = next(x for x in state.deadlines if x.spec.name == name)
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, d.remind_at - now + timedelta(minutes=1))
    await wait_for(
        lambda: outbox(engine, case_id, name) == [f"reminder:township_officer:{TOWNSHIP}"],
        what="reminder",
    )
    await env.fast_forward(handle, d.due_at - d.remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: (
            outbox(engine, case_id, name)
            == [f"escalation:county_officer:{COUNTY}", f"reminder:township_officer:{TOWNSHIP}"]
        ),
        what="escalation",
    )


def tekun_case(
    birth: date, start_month: date, amount: str, care_tier: str | None
) -> EntitlementInput:
    """A one-person 特困 entitlement for someone born on ``birth``."""
    base = approved_case(AREA, programme="tekun", start_month=start_month, amount=amount, members=1)
    person = Member(
        name="李小芳",
        id_number=new_id(AREA[:6], birth),
        relation=Relation.APPLICANT,
        birth_date=birth,
        hukou=Hukou.RURAL,
    )
    household_id = household_id_for(person.id_number, AREA)
    return base.model_copy(
        update={
            "application_id": f"A{household_id[1:]}",
            "household_id": household_id,
            "household": Household(members=[person]),
            "care_tier": care_tier,
            "card_account": base.card_account.model_copy(
                update={"holder_name": person.name, "holder_id_number": person.id_number}
            ),
        }
    )


async def test_self_care_change_reassessed_with_deadline_and_new_tier_from_next_month(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    today = beijing_today()
    start = add_months(today.replace(day=1), 1)
    inp = tekun_case(date(1950, 5, 6), start, "1200.00", CareTier.SELF_CARE.value)
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-tekun"
    await wait_published(engine, case_id)
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.self_care_reassessment == working_days(10)
    assert state.coverage_until is None  # an adult: no minor's coverage age
    url = f"/entitlements/{case_id}"

    # Bad input: a self-care change on a 低保 entitlement, an assessment without its six items.
    dibao = approved_case(AREA, members=1)
    await start_entitlement(client, settings.task_queue, dibao)
    await wait_published(engine, f"{dibao.household_id}-dibao")
    r = await api.post(
        f"/entitlements/{dibao.household_id}-dibao/changes",
        json={"kind": "self_care", "description_zh": "行动不便"},
        headers=auth("township"),
    )
    assert r.status_code == 422 and "kind" in r.text, r.text

    # Reported: the re-assessment is due within 10 working days (特困办法 Art. 23).
    r = await api.post(
        f"{url}/changes",
        json={"kind": "self_care", "description_zh": "中风后不能自主行走和洗澡"},
        headers=auth("village"),
    )
    assert r.status_code == 201, r.text
    inv_id = r.json()["investigation_id"]
    r = await api.post(
        f"{url}/changes",
        json={"kind": "self_care", "description_zh": "再次报告"},
        headers=auth("village"),
    )
    assert r.status_code == 409, r.text  # one re-assessment at a time
    state = await handle.query(EntitlementWorkflow.get_state)
    name = f"investigation:{inv_id}"
    d = next(x for x in state.deadlines if x.spec.name == name)
    assert d.spec.period == working_days(10) and d.spec.basis == "特困办法 Art. 23"
    assert d.spec.label_zh == "生活自理能力复核评估"

    six = {
        "eating": True,
        "dressing": False,
        "getting_out_of_bed": False,
        "toileting": False,
        "walking_indoors": False,
        "bathing": False,
    }
    r = await api.post(
        f"{url}/self-care-assessments",
        json={"investigation_id": inv_id, "assessment": {"eating": True}},
        headers=auth("township"),
    )
    assert r.status_code == 422 and "assessment" in r.text, r.text
    r = await api.post(
        f"{url}/self-care-assessments",
        json={"investigation_id": "nope", "assessment": six},
        headers=auth("township"),
    )
    assert r.status_code == 404, r.text
    r = await api.post(
        f"{url}/self-care-assessments",
        json={"investigation_id": inv_id, "assessment": six},
        headers=auth("village"),
    )
    assert r.status_code == 403, r.text
    r = await api.post(
        f"{url}/self-care-assessments",
        json={"investigation_id": inv_id, "assessment": six},
        headers=auth("other_county"),
    )
    assert r.status_code in (403, 404), r.text

    await reminder_then_escalation(env, handle, engine, case_id, name)

    # The re-assessment: 5 of 6 unable → fully lost; the care standard changes next month.
    r = await api.post(
        f"{url}/self-care-assessments",
        json={"investigation_id": inv_id, "assessment": six},
        headers=auth("township"),
    )
    assert r.status_code == 201, r.text
    out = r.json()
    policy = policy_in_force(engine, settings.policies_dir, AREA, beijing_date(inp.approved_at))
    delta = policy.tekun_care_full_loss - policy.tekun_care_self_care
    now_day = beijing_date(await env.get_current_time(handle))
    effective = add_months(now_day.replace(day=1), 1)
    assert out["care_tier"] == "full_loss" and out["previous_tier"] == "self_care"
    assert Decimal(out["next_amount"]) == Decimal("1200.00") + delta
    assert out["effective_from"] == effective.isoformat() and out["notice_id"] is None
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.care_tier == "full_loss" and state.payable_amount == Decimal("1200.00")
    assert state.self_care_assessments[-1].unable_count == 5
    inv = next(i for i in state.investigations if i.investigation_id == inv_id)
    assert inv.closed_at is not None
    assert not next(x for x in state.deadlines if x.spec.name == name).is_open

    # From the next month the new care standard is paid.
    now = await env.get_current_time(handle)

    await env.fast_forward(handle, start_of_day(effective) - now + timedelta(hours=1))

    async def paid_new() -> bool:
        s = await handle.query(EntitlementWorkflow.get_state)
        return s.payable_amount == Decimal("1200.00") + delta

    await wait_for(paid_new, what="new care standard")
    await save_history(handle, "tekun_self_care_v1")


async def test_minor_reaches_coverage_age_review_deadline_then_stop(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    today = beijing_today()
    start = add_months(today.replace(day=1), 1)
    birthday = today + timedelta(days=75)
    if birthday.month == 2 and birthday.day == 29:
        birthday += timedelta(days=1)
    birth = birthday.replace(year=birthday.year - 18)
    inp = tekun_case(birth, start, "900.00", CareTier.SELF_CARE.value)
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-tekun"
    await wait_published(engine, case_id)
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.coverage_until == birthday

    # The 18th birthday opens the in-school review.

    now = await env.get_current_time(handle)
    await env.fast_forward(handle, start_of_day(birthday) - now + timedelta(hours=1))

    async def review_open() -> EntitlementState | None:
        s = await handle.query(EntitlementWorkflow.get_state)
        return s if s.review is not None else None

    state = await wait_for(review_open, what="coverage review")
    assert state.review is not None and state.review.kind is ReviewKind.COVERAGE_AGE
    assert "年满18周岁" in state.review.reason_zh
    name = state.review.deadline_name

    # Its completion deadline: reminder to the township, then escalation to the county.
    await reminder_then_escalation(env, handle, engine, case_id, name)

    # Not in school: the county stops support — 7 days of publicity first (特困办法 Art. 24–27).
    url = f"/entitlements/{case_id}/review-outcome"
    r = await api.post(
        url,
        json={"outcome": "stop", "reasons_zh": "已年满18周岁且未在校就读"},
        headers=auth("county"),
    )
    assert r.status_code == 422 and "transfer_check" in r.text, r.text
    r = await api.post(
        url,
        json={
            "outcome": "stop",
            "reasons_zh": "已年满18周岁且未在校就读，不再属于无劳动能力的未成年人",
            "transfer_check": "temporary",
        },
        headers=auth("county"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "terminating"
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.coverage_until is None and state.status is EntitlementStatus.TERMINATING
    assert state.review is None

    now = await env.get_current_time(handle)
    await env.fast_forward(handle, timedelta(days=9))

    async def stopping() -> bool:
        s = await handle.query(EntitlementWorkflow.get_state)
        return s.end_month is not None

    await wait_for(stopping, what="termination after publicity")
    await save_history(handle, "tekun_minor_coverage_v1")


async def test_minor_in_school_continues(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    """In school at 18: the county continues support; the review does not reopen."""
    start = add_months(beijing_today().replace(day=1), 1)
    # 17 in the first month paid, 18 twenty days into it (whatever day the test runs on: a
    # birthday before the start would make the person an adult from the start, with no review).
    birthday = start + timedelta(days=20)
    inp = tekun_case(birthday.replace(year=birthday.year - 18), start, "900.00", None)
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-tekun"
    await wait_published(engine, case_id)

    now = await env.get_current_time(handle)
    await env.fast_forward(handle, start_of_day(birthday) - now + timedelta(hours=1))

    async def review_open() -> bool:
        s = await handle.query(EntitlementWorkflow.get_state)
        return s.review is not None

    await wait_for(review_open, what="coverage review")
    r = await api.post(
        f"/entitlements/{case_id}/review-outcome",
        json={"outcome": "continue", "reasons_zh": "在普通高中就读，继续享受救助供养"},
        headers=auth("county"),
    )
    assert r.status_code == 200, r.text

    async def continued() -> EntitlementState | None:
        s = await handle.query(EntitlementWorkflow.get_state)
        return s if s.cycle >= 1 else None

    state = await wait_for(continued, what="continue-as-new")
    assert state.coverage_until is None and state.review is None
    assert state.status is EntitlementStatus.ACTIVE
