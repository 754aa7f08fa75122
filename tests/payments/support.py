"""Helpers of the payment tests: a worker of the payment workflows on a queue of its own whose
paying bank is replaced (one that answers malformed files, one that waits to be released), and
small SQL helpers."""

import threading
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from activities.payments.bank import BankActivities, EmbeddedBank, bank_dir_for, result_path_for
from activities.registry import build_activities
from jiuzhu.settings import Settings
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.payroll import PayrollWorkflow
from workflows.sandbox import workflow_runner


def scalar(engine: Engine, sql: str, **params: object) -> Any:
    with Session(engine) as s:
        return s.execute(text(sql), params).scalar_one()


def rows(engine: Engine, sql: str, **params: object) -> list[Any]:
    with Session(engine) as s:
        return list(s.execute(text(sql), params).all())


class TruncatingBank(EmbeddedBank):
    """Credits like the embedded bank, then answers with a result file whose second answer is
    cut short (``R|<seq>|<reference>``): an answer nobody can read."""

    def submit(
        self, batch_file: Path, heartbeat_every: int, progress: Callable[[int], None] | None = None
    ) -> None:
        super().submit(batch_file, heartbeat_every, progress)
        result = result_path_for(batch_file)
        lines = result.read_text(encoding="utf-8").split("\n")
        lines[2] = "|".join(lines[2].split("|")[:3])
        result.write_text("\n".join(lines), encoding="utf-8")


class CorrectedBank(TruncatingBank):
    """Answers the first file with an unreadable result; a re-sent file gets a corrected answer
    (the bank re-delivers it): lines it already credited are not credited again."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.calls = 0

    def submit(
        self, batch_file: Path, heartbeat_every: int, progress: Callable[[int], None] | None = None
    ) -> None:
        self.calls += 1
        if self.calls == 1:
            super().submit(batch_file, heartbeat_every, progress)
            return
        result_path_for(batch_file).unlink(missing_ok=True)
        EmbeddedBank.submit(self, batch_file, heartbeat_every, progress)


class GatedBank(EmbeddedBank):
    """The embedded bank, which processes a file only once the test releases it."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.gate = threading.Event()

    def submit(
        self, batch_file: Path, heartbeat_every: int, progress: Callable[[int], None] | None = None
    ) -> None:
        while not self.gate.wait(0.2):
            if progress is not None:
                progress(0)
        super().submit(batch_file, heartbeat_every, progress)


@asynccontextmanager
async def payment_worker(
    client: Client, settings: Settings, engine: Engine, bank: EmbeddedBank
) -> AsyncIterator[str]:
    """A worker of the payroll and campaign workflows with every activity, the bank replaced;
    yields its task queue."""
    queue = f"payments-{uuid.uuid4().hex[:8]}"
    banking = BankActivities(
        engine, bank_dir_for(settings.database_url, settings.bank_dir), bank=bank
    )
    activities = [
        a
        for a in build_activities(engine, settings, client)
        if not isinstance(getattr(a, "__self__", None), BankActivities)
    ]
    async with Worker(
        client,
        task_queue=queue,
        workflows=[PayrollWorkflow, CampaignWorkflow],
        activities=[*activities, banking.send_to_bank, banking.reconcile_batch],
        workflow_runner=workflow_runner(),
        activity_executor=ThreadPoolExecutor(max_workers=16),
    ):
        yield queue


async def start_until_funding(
    client: Client, queue: str, county: str, year: int, month: int, **kw: Any
) -> tuple[Any, Any]:
    """Start the month's payroll and wait until it awaits funding: (handle, state)."""
    from temporalio.common import WorkflowIDReusePolicy

    from tests.entitlements.helpers import wait_for
    from workflows.payments.contract import PayrollStatus, payroll_workflow_id
    from workflows.payments.models import PayrollInput

    handle = await client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(county_code=county, year=year, month=month, **kw),
        id=payroll_workflow_id(county, year, month),
        task_queue=queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )

    async def awaiting() -> Any:
        st = await handle.query(PayrollWorkflow.get_state)
        return st if st.status is PayrollStatus.AWAITING_FUNDING else None

    state = await wait_for(awaiting, seconds=60, what=f"payroll {county} compiled")
    return handle, state


async def fund_compiled_total(handle: Any, state: Any, county: str, reference: str) -> Any:
    """County finance confirms the month's compiled total under ``reference``; the month's
    final state once it has run to its end."""
    from jiuzhu.contract import Role
    from tests.entitlements.helpers import actor
    from workflows.payments.models import FundingConfirmation

    await handle.execute_update(
        PayrollWorkflow.confirm_funding,
        FundingConfirmation(
            actor=actor(Role.FINANCE, county),
            amount=state.compiled.pending_total,
            reference=reference,
        ),
    )
    return await handle.result()
