"""Saved histories of the entitlement (across a continue-as-new: both runs), the payroll and a
campaign, replayed with the worker's workflows: a change that breaks determinism fails here, in
CI, before it reaches running cases.

``test_recorded_histories_replay`` replays ``histories/*.json`` (no server). The scenario test
records fresh histories on the real server and replays them at once; with
``JIUZHU_WRITE_HISTORY=1`` it also saves them (only when a change is deliberately incompatible,
and then patch the workflow with ``workflow.patched``). ``entitlement_ended_recovery`` (the run
that ends after a month paid ahead and opens its receivable, patch ``RECOVERY_ON_END``) is saved
the same way by ``tests/recoveries/test_ending_recovery.py``. ``entitlement_run{1,2}`` were recorded
before the entitlement baseline (one patch marker per patch), ``entitlement_baseline_run{1,2}``
with it (one marker per run)."""

import json
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from jiuzhu.clock import beijing_today
from jiuzhu.contract import Role
from jiuzhu.settings import Settings
from tests.conftest import TEST_CONVERTER
from tests.entitlements.helpers import (
    actor,
    approved_case,
    run_payroll,
    seed_accounts,
    start_entitlement,
    wait_for,
    wait_published,
)
from workflows.entitlements.contract import DeathNotification
from workflows.entitlements.models import ReviewOutcome, ReviewOutcomeKind
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.contract import campaign_workflow_id, payroll_workflow_id
from workflows.payments.models import CampaignInput
from workflows.payments.payroll import PayrollWorkflow

HISTORIES = Path(__file__).parent / "histories"
AREA = "419918001001"  # a county of its own
COUNTY = AREA[:6]


def workflow_id_of(name: str) -> str:
    """The recorded run's workflow id where the workflow reads it (a payroll whose id is not
    its month's is a scheduled launcher)."""
    return payroll_workflow_id(COUNTY, 2032, 1) if name == "payroll" else f"replay-{name}"


def replayer() -> Replayer:
    """The worker's classes of this domain's three workflow types."""
    return Replayer(
        workflows=[EntitlementWorkflow, PayrollWorkflow, CampaignWorkflow],
        data_converter=TEST_CONVERTER,
    )


async def test_recorded_histories_replay() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    names = {p.stem for p in files}
    required = {"entitlement_run1", "entitlement_run2", "payroll", "campaign"}
    required |= {"entitlement_baseline_run1", "entitlement_baseline_run2"}
    assert required | {"entitlement_ended_recovery"} <= names, names
    for path in files:
        history = WorkflowHistory.from_json(workflow_id_of(path.stem), json.loads(path.read_text()))
        result = await replayer().replay_workflow(history)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def patch_markers(history: WorkflowHistory) -> int:
    return sum(
        e.marker_recorded_event_attributes.marker_name == "core_patch" for e in history.events
    )


async def _keep(client: Client, workflow_id: str, run_id: str | None, name: str) -> None:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    if name.startswith("entitlement"):  # each run records the baseline's one patch marker
        assert patch_markers(history) == 1, name
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())


async def test_record_and_replay_fresh_histories(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    queue = settings.task_queue
    # An entitlement: a death (the death check's Update), the household review decided, a new
    # cycle by continue-as-new; both runs are kept.
    inp = approved_case(AREA, start_month=date(2032, 1, 1), amount="900.00", members=3)
    handle = await start_entitlement(client, queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    first_run = (await handle.describe()).run_id
    await handle.execute_update(
        EntitlementWorkflow.record_death,
        DeathNotification(
            id_number=inp.household.members[2].id_number,
            date_of_death=beijing_today() - timedelta(days=3),
            source="死亡比对（测试）",
            record_ref="death_record:replay",
        ),
    )
    await handle.execute_update(
        EntitlementWorkflow.record_review_outcome,
        ReviewOutcome(
            actor=actor(Role.COUNTY_OFFICER, COUNTY),
            outcome=ReviewOutcomeKind.CONTINUE,
            reasons_zh="核实成员死亡，其余成员情况无变化",
        ),
    )

    async def second_run() -> str | None:
        run_id = (await handle.describe()).run_id
        return run_id if run_id != first_run else None

    run2 = await wait_for(second_run, what="continue-as-new")
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.cycle == 1 and state.payable_amount == Decimal("600.00")
    await _keep(client, handle.id, first_run, "entitlement_baseline_run1")
    await _keep(client, handle.id, run2, "entitlement_baseline_run2")

    # The month's payroll over the county (the entitlement above and seeded ones).
    seed_accounts(engine, COUNTY, 5, prefix="R")
    result = await run_payroll(client, queue, COUNTY, 2032, 1)
    assert result.status.value == "reconciled"
    await _keep(client, payroll_workflow_id(COUNTY, 2032, 1), None, "payroll")

    # A one-off campaign over the same county.
    campaign_id = f"CREPLAY{beijing_today():%Y%m%d}"
    campaign: Any = await client.execute_workflow(
        CampaignWorkflow.run,
        CampaignInput(
            campaign_id=campaign_id,
            name="一次性生活补贴（回放）",
            county_code=COUNTY,
            programmes=["dibao"],
            amount_per_person=Decimal("300.00"),
            provincial_ratio=Decimal("0.6"),
            pay_by=beijing_today() + timedelta(days=20),
            created_by=actor(Role.ADMIN, COUNTY),
        ),
        id=campaign_workflow_id(campaign_id),
        task_queue=queue,
    )
    assert campaign.status.value == "reconciled"
    await _keep(client, campaign_workflow_id(campaign_id), None, "campaign")
