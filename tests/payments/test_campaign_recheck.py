"""A campaign re-checks at the last moment (issue 11 item 3, seed 003 per person covered): deaths
on the register are applied before finance confirms the total and again before the bank file —
a household whose only member died is held with the reason, a household that lost one of two
members is paid for the one still covered (shares recomputed), and finance funds the adjusted
total."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from activities.payments.instructions import HELD_DECEASED
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Role
from jiuzhu.db.models_payments import DeathRecord
from jiuzhu.settings import Settings
from tests.entitlements.helpers import (
    actor,
    approved_case,
    start_entitlement,
    wait_for,
    wait_published,
)
from tests.payments.support import rows
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.contract import CampaignStatus, campaign_workflow_id
from workflows.payments.models import CampaignFunding, CampaignInput

COUNTY = "419977"  # its own county: nothing else pays or compiles here


def campaign_line(engine: Engine, case_id: str, campaign_id: str) -> tuple[Any, ...]:
    (got,) = rows(
        engine,
        "SELECT status, failure_reason, amount, provincial_share, local_share "
        "FROM payment_instruction WHERE case_id = :c AND payroll_id = :b",
        c=case_id,
        b=campaign_id,
    )
    return (got[0], got[1], *(Decimal(str(v)).quantize(Decimal("0.01")) for v in got[2:]))


async def test_campaign_holds_the_deceased_and_recounts_persons_before_funding(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    area = f"{COUNTY}001001"
    alone = approved_case(area, start_month=date(2026, 1, 1), amount="500.00", members=1)
    pair = approved_case(area, start_month=date(2026, 1, 1), amount="600.00", members=2)
    for inp in (alone, pair):
        await start_entitlement(client, settings.task_queue, inp)
        await wait_published(engine, f"{inp.household_id}-dibao")
    # Deaths on the register, not yet applied by any death check.
    with Session(engine) as s:
        for person in (alone.household.members[0], pair.household.members[1]):
            s.add(
                DeathRecord(
                    id_number=person.id_number,
                    name=person.name,
                    date_of_death=date(2026, 11, 2),
                    source="公安户籍注销",
                    loaded_by="test",
                )
            )
        s.commit()

    campaign_id = "C" + uuid.uuid4().hex[:15].upper()
    handle = await client.start_workflow(
        CampaignWorkflow.run,
        CampaignInput(
            campaign_id=campaign_id,
            name="一次性生活补贴",
            county_code=COUNTY,
            programmes=["dibao"],
            amount_per_person=Decimal("300.00"),
            provincial_ratio=Decimal("0.6"),
            pay_by=beijing_today().replace(day=28),
            created_by=actor(Role.ADMIN, COUNTY),
            funding_required=True,
        ),
        id=campaign_workflow_id(campaign_id),
        task_queue=settings.task_queue,
    )

    async def awaiting() -> Any:
        st = await handle.query(CampaignWorkflow.get_state)
        return st if st.status is CampaignStatus.AWAITING_FUNDING else None

    state = await wait_for(awaiting, seconds=60, what="campaign awaiting funding")
    assert state.compiled.total == Decimal("300.00") and state.compiled.held_count == 1
    alone_case, pair_case = f"{alone.household_id}-dibao", f"{pair.household_id}-dibao"
    assert campaign_line(engine, alone_case, campaign_id)[:2] == ("held", HELD_DECEASED)
    assert campaign_line(engine, pair_case, campaign_id) == (
        "pending",
        None,
        Decimal("300.00"),
        Decimal("180.00"),
        Decimal("120.00"),
    )

    await handle.execute_update(
        CampaignWorkflow.confirm_funding,
        CampaignFunding(
            actor=actor(Role.FINANCE, COUNTY), amount=Decimal("300.00"), reference="CZ-1"
        ),
    )
    final = await handle.result()
    assert final.status is CampaignStatus.RECONCILED
    assert final.bank is not None and final.bank.total == Decimal("300.00")
    assert campaign_line(engine, pair_case, campaign_id)[0] == "paid"
    assert campaign_line(engine, alone_case, campaign_id)[0] == "held"
