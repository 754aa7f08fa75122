"""A referral's feedback deadline across a crash: the reminder goes out, then the worker process
and the persistent dev server are killed (SIGKILL) and restarted on the same SQLite file; the
escalation still goes out when the deadline passes, each message exactly once, and the answer
recorded afterwards closes the referral."""

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from api.main import create_app
from jiuzhu.clock import beijing_today
from jiuzhu.db.models import AuditEntry
from jiuzhu.settings import Settings
from tests.conftest import PersistentServer, auth
from tests.referrals.helpers import outbox, wait_for
from tests.temporary.helpers import create_case
from workflows.referrals.contract import ReferralStatus, referral_workflow_id
from workflows.referrals.models import ReferralState
from workflows.referrals.workflow import ReferralWorkflow

ROOT = Path(__file__).resolve().parents[2]
REMINDER = "reminder:county_officer:419901"
ESCALATION = "escalation:county_officer:4199"


def worker_process(server: PersistentServer, settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JIUZHU_ENVIRONMENT": "test",
        "JIUZHU_DATABASE_URL": settings.database_url,
        "JIUZHU_TEMPORAL_ADDRESS": server.address,
        "JIUZHU_TASK_QUEUE": settings.task_queue,
        "JIUZHU_POLICIES_DIR": str(settings.policies_dir),
        "JIUZHU_SEED_DEMO_OFFICERS": "false",
        "JIUZHU_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.application.worker_proc"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@asynccontextmanager
async def stack(
    server: PersistentServer, client: Client, settings: Settings, engine: Engine
) -> AsyncIterator[httpx.AsyncClient]:
    """A worker process (SIGKILLed on exit) and the API wired to ``client``."""
    proc = worker_process(server, settings)
    try:
        app = create_app(settings=settings, engine=engine, client=client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as api:
            yield api
    finally:
        proc.kill()
        proc.wait()


async def test_feedback_deadline_survives_killing_worker_and_server(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"ref-restart-{uuid.uuid4().hex[:6]}"})
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        temp = await create_case(api)
        r = await api.post(
            "/referrals",
            json={
                "source_case_id": temp["case_id"],
                "department": "employment",
                "need": "public_welfare_post",
                "person_id_number": temp["members"][0]["id_number"],
                "request_zh": "家庭失火后无收入来源，申请公益性岗位安置",
            },
            headers=auth("township"),
        )
        assert r.status_code == 201, r.text
        referral_id = r.json()["referral_id"]
        handle = client.get_workflow_handle_for(
            ReferralWorkflow.run, referral_workflow_id(referral_id)
        )
        state: ReferralState = await handle.query(ReferralWorkflow.get_state)
        for _ in range(100):
            if state.deadlines:
                break
            state = await handle.query(ReferralWorkflow.get_state)
        deadline = state.deadlines[0]
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        now = await skipper.get_current_time(handle)
        await skipper.fast_forward(handle, deadline.remind_at - now + timedelta(minutes=1))
        await wait_for(lambda: outbox(engine, referral_id) == [REMINDER], "the reminder")
    # The worker process was SIGKILLed leaving the block; now the server too.
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        handle = client.get_workflow_handle_for(
            ReferralWorkflow.run, referral_workflow_id(referral_id)
        )
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        await skipper.fast_forward(
            handle, deadline.due_at - deadline.remind_at + timedelta(hours=1)
        )
        await wait_for(
            lambda: outbox(engine, referral_id) == [ESCALATION, REMINDER], "the escalation"
        )
        r = await api.post(
            f"/referrals/{referral_id}/answer",
            json={
                "outcome": "granted",
                "answer_zh": "已安置村保洁公益性岗位",
                "answered_on": beijing_today().isoformat(),
            },
            headers=auth("county"),
        )
        assert r.status_code == 200, r.text
        final = await handle.result()
        assert final.status is ReferralStatus.ANSWERED
    assert outbox(engine, referral_id) == [ESCALATION, REMINDER]
    with Session(engine) as s:
        actions = [
            a.action
            for a in s.exec(
                select(AuditEntry)
                .where(AuditEntry.case_id == referral_id)
                .order_by(col(AuditEntry.id))
            ).all()
        ]
    assert actions == ["refer", "answer"]
