"""The application workflow's branching with stand-in activities (same activity names, no
database, no policy store) on a per-test task queue: what the workflow decides, not what the
activities do. Runs on the session's time-skipping dev server."""

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.applications.membership import (
    ReleaseMembers,
    SettledMembers,
    SettleMembers,
    TransferMembers,
)
from activities.applications.notices import IssueNotice, NoticeRef
from activities.deadlines import Deadline, DeadlineSpec
from activities.policy import PolicyRequest
from jiuzhu.clock import at_beijing, end_of_day
from jiuzhu.contract import Actor, Role
from jiuzhu.policy_store import file_layers
from jiuzhu.records import OutboxItem, RecordStep
from rules.household import Relation
from rules.policy import Policy, resolve_policy
from rules.programmes import Programme
from workflows.applications.contract import (
    ApplicantMember,
    ApplicationStatus,
    application_workflow_id,
)
from workflows.applications.models import (
    AcceptInput,
    ApplicationInput,
    EndReviewInput,
    MissingDocumentsInput,
    StepResult,
)
from workflows.applications.workflow import ApplicationWorkflow
from workflows.sandbox import workflow_runner

ROOT = Path(__file__).resolve().parents[2]
AREA = "419901001001"
TOWNSHIP = Actor(officer_id="t", name="王经办", role=Role.TOWNSHIP_OFFICER, area_code="419901001")
RECORDED: dict[str, list[str]] = {}  # case id → audit actions written, in order


@activity.defn(name="application_check_relatives")
def check_relatives(req: object) -> list[object]:
    return []


@activity.defn(name="record_step")
def record_step(step: RecordStep) -> None:
    for line in step.audit:
        RECORDED.setdefault(line.case_id, []).append(line.action)


@activity.defn(name="policy_in_force")
def policy_in_force(req: PolicyRequest) -> Policy:
    return resolve_policy(file_layers(ROOT / "policies"), req.area_code, req.on)


@activity.defn(name="compute_deadline")
def compute_deadline(spec: DeadlineSpec) -> Deadline:
    """Every period as 5 calendar days, reminded the day before at 09:00."""
    due = spec.start + timedelta(days=5)
    return Deadline(
        spec=spec,
        due_date=due,
        due_at=end_of_day(due),
        remind_at=at_beijing(due - timedelta(days=1), datetime.min.time().replace(hour=9)),
        provisional=False,
    )


@activity.defn(name="post_outbox")
def post_outbox(item: OutboxItem) -> None:
    RECORDED.setdefault(item.case_id, []).append(f"outbox:{item.kind}")


@activity.defn(name="application_issue_notice")
def issue_notice(req: IssueNotice) -> NoticeRef:
    return NoticeRef(
        notice_id=req.notice_id, kind=req.kind, title=req.kind, issued_at=datetime.now(UTC)
    )


@activity.defn(name="membership_settle")
def settle_members(req: SettleMembers) -> SettledMembers:
    return SettledMembers()


@activity.defn(name="membership_release")
def release_members(req: ReleaseMembers) -> int:
    return 0


@activity.defn(name="membership_transfer")
def transfer_members(req: TransferMembers) -> int:
    return 0


@pytest_asyncio.fixture
async def queue(client: Client) -> AsyncIterator[str]:
    task_queue = f"app-branching-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ApplicationWorkflow],
        workflow_runner=workflow_runner(),
        activities=[
            check_relatives,
            record_step,
            policy_in_force,
            compute_deadline,
            post_outbox,
            issue_notice,
            settle_members,
            release_members,
            transfer_members,
        ],
        activity_executor=ThreadPoolExecutor(4),
    ):
        yield task_queue


async def start(client: Client, task_queue: str) -> str:
    app_id = "Z" + uuid.uuid4().hex[:15].upper()
    inp = ApplicationInput(
        application_id=app_id,
        programme=Programme.DIBAO,
        area_code=AREA,
        household_id="H1",
        members=[
            ApplicantMember(
                name="张建明", id_number="41990119700517001X", relation=Relation.APPLICANT
            )
        ],
        submitted_by=TOWNSHIP,
        submitted_at=datetime.now(UTC),
    )
    await client.start_workflow(
        ApplicationWorkflow.run, inp, id=application_workflow_id(app_id), task_queue=task_queue
    )
    return app_id


async def test_unanswered_missing_documents_lapse_at_the_end_of_the_day(
    client: Client, env: WorkflowEnvironment, queue: str
) -> None:
    app_id = await start(client, queue)
    handle = client.get_workflow_handle_for(
        ApplicationWorkflow.run, application_workflow_id(app_id)
    )
    result = await handle.execute_update(
        ApplicationWorkflow.request_documents,
        MissingDocumentsInput(actor=TOWNSHIP, missing=["收入证明"]),
    )
    assert isinstance(result, StepResult)
    assert result.status is ApplicationStatus.DOCUMENTS_REQUESTED and result.notice_id
    await env.fast_forward(handle, timedelta(days=31))
    state = await handle.result()
    assert state.status is ApplicationStatus.LAPSED and state.closing is not None
    assert RECORDED[app_id] == ["apply", "missing_documents_notice", "lapsed"]


async def test_end_of_review_cancels_deadlines_and_reminders_go_out_before(
    client: Client, env: WorkflowEnvironment, queue: str
) -> None:
    app_id = await start(client, queue)
    handle = client.get_workflow_handle_for(
        ApplicationWorkflow.run, application_workflow_id(app_id)
    )
    result = await handle.execute_update(ApplicationWorkflow.accept, AcceptInput(actor=TOWNSHIP))
    assert result.status is ApplicationStatus.ACCEPTED and result.revision >= 2
    await env.fast_forward(handle, timedelta(days=4, hours=12))  # past the reminders at 09:00
    result = await handle.execute_update(
        ApplicationWorkflow.end_review, EndReviewInput(actor=TOWNSHIP, grounds_zh="拒绝入户调查")
    )
    assert result.status is ApplicationStatus.TERMINATED and result.notice_id
    state = await handle.result()
    assert all(d.met_at or d.cancelled_at for d in state.deadlines)
    actions = RECORDED[app_id]
    assert actions[:2] == ["apply", "accept"] and actions[-1] == "end_review"
    assert "outbox:reminder" in actions and "outbox:escalation" not in actions
