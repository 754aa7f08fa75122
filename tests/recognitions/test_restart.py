"""The yearly review deadline of a recognition survives a restart (seed 000, 豫政办〔2022〕103号
二(二): 自认定之日起进行年度复核): a 支出型 (刚性支出困难) recognition's review opens a year
after the recognition date; the worker and the Temporal server (SIGKILL) die after the reminder
to the township; on restart from the same SQLite file the escalation reaches the county once,
the reminder is not repeated, and the late review is recorded (recognised for another year, a
new cycle that repeats neither message). Its own county (419979), so the shared read model and
outbox hold nothing else of it."""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import WorkflowHandle

from jiuzhu.clock import beijing_today, start_of_day
from jiuzhu.contract import Role
from jiuzhu.db.models import OutboxMessage
from jiuzhu.household_ids import household_id_for
from jiuzhu.officers import create_officer
from jiuzhu.settings import Settings
from rules.calendar import add_months
from rules.programmes import Programme
from tests.conftest import PersistentServer
from tests.entitlements.helpers import actor, new_id, wait_for
from tests.recognitions.test_recognition import outbox, row
from tests.restart import skip_to, stack
from workflows.recognitions.contract import (
    REVIEW_DEADLINE,
    RecognitionStatus,
    recognition_workflow_id,
)
from workflows.recognitions.models import RecognitionInput, RecognitionState
from workflows.recognitions.workflow import RecognitionReviewWorkflow

COUNTY = "419979"  # a county of its own: no other test has cases here
TOWNSHIP = f"{COUNTY}001"
VILLAGE = f"{TOWNSHIP}001"
REMINDER = f"reminder:township_officer:{TOWNSHIP}"
ESCALATION = f"escalation:county_officer:{COUNTY}"
TOKEN = f"test-token-township-{TOWNSHIP}"


def recognised(on: date) -> RecognitionInput:
    """What an approved 刚性支出困难 recognition hands to its yearly review
    (``workflows/applications/steps/decision.py``, ``_start_recognition_review``)."""
    head = new_id(COUNTY, date(1975, 3, 3))
    household_id = household_id_for(head, VILLAGE)
    return RecognitionInput(
        application_id=f"A{household_id[1:]}-R",
        household_id=household_id,
        programme=Programme.RIGID_EXPENSE,
        area_code=VILLAGE,
        recognised_on=on,
        recognised_at=datetime.now(UTC),
        recognised_by=actor(Role.COUNTY_OFFICER, COUNTY, "approver"),
        applicant_name="赵大川",
        applicant_id_number=head,
        household_size=2,
        policy_version_id="test",
    )


def voided(engine: Engine, case_id: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case_id, col(OutboxMessage.voided_at).is_not(None)
            )
        ).all()
    return [r.kind for r in rows]


async def opened(
    handle: WorkflowHandle[RecognitionReviewWorkflow, RecognitionState],
) -> RecognitionState | None:
    s = await handle.query(RecognitionReviewWorkflow.get_state)
    return s if s.status is RecognitionStatus.UNDER_REVIEW else None


async def test_recognition_review_deadline_survives_killing_worker_and_server(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"recog-restart-{uuid.uuid4().hex[:6]}"})
    create_officer(
        engine, f"officer-township-{TOWNSHIP}", "测试乡镇", Role.TOWNSHIP_OFFICER, TOWNSHIP, TOKEN
    )
    inp = recognised(beijing_today())
    rid = f"{inp.household_id}-{inp.programme.value}"
    wf_id = recognition_workflow_id(inp.household_id, inp.programme.value)
    client = await persistent_server.connect()
    async with stack(client, local, engine):
        handle = await client.start_workflow(
            RecognitionReviewWorkflow.run, inp, id=wf_id, task_queue=local.task_queue
        )
        await wait_for(lambda: row(engine, rid), what="recognition read model")
        state = await handle.query(RecognitionReviewWorkflow.get_state)
        assert state.next_review == add_months(inp.recognised_on, 12)

        # One year on the review opens; its reminder reaches the township.
        await skip_to(client, handle, start_of_day(state.next_review) + timedelta(hours=1))
        state = await wait_for(lambda: opened(handle), what="yearly review opened")
        d = next(x for x in state.deadlines if x.spec.name == REVIEW_DEADLINE)
        await skip_to(client, handle, d.remind_at + timedelta(minutes=1))
        await wait_for(lambda: outbox(engine, rid) == [REMINDER], what="reminder")
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        handle = client.get_workflow_handle_for(RecognitionReviewWorkflow.run, wf_id)
        await skip_to(client, handle, d.due_at + timedelta(hours=1))
        await wait_for(lambda: outbox(engine, rid) == [ESCALATION, REMINDER], what="escalation")
        state = await handle.query(RecognitionReviewWorkflow.get_state)
        late = next(x for x in state.deadlines if x.spec.name == REVIEW_DEADLINE)
        assert late.reminded_at is not None and late.escalated_at is not None
        assert late.met_at is None and late.due_date == d.due_date
        overdue = await wait_for(
            lambda: (r := row(engine, rid)) is not None and r.overdue and r, what="overdue row"
        )
        assert overdue.status == RecognitionStatus.UNDER_REVIEW.value

        # The late review: still fits, recognised for another year.
        r = await api.post(
            f"/recognitions/{rid}/review",
            json={"outcome": "continue", "findings_zh": "近12个月医疗支出仍超过家庭年收入的50%"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert r.status_code == 200 and r.json()["status"] == "recognised", r.text
        assert r.json()["next_review"] == add_months(state.next_review, 12).isoformat()

        async def next_cycle() -> RecognitionState | None:
            st = await handle.query(RecognitionReviewWorkflow.get_state)
            return st if st.cycle == 1 else None

        carried = await wait_for(next_cycle, what="continue-as-new")
        assert carried.status is RecognitionStatus.RECOGNISED and carried.deadlines == []
        (review,) = carried.reviews
        assert review.decided_on is not None and review.decided_on > d.due_date  # late
        await wait_for(
            lambda: (r := row(engine, rid)) is not None and not r.overdue, what="not overdue"
        )
        # Met late on paper: the reminder and the escalation stand (not voided), each once.
        assert not voided(engine, rid)
        assert outbox(engine, rid) == [ESCALATION, REMINDER]  # each exactly once
