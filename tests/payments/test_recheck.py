"""Deaths and other stops are checked at the last moment (issue 11 item 3), on the real server:
a death loaded after the month was compiled holds the deceased's line before finance confirms
the total (the old total is refused naming the adjusted one), a death loaded after funding is
held before the bank file is written, and a person covered by two households is paid once."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.entitlements.death_check import (
    DeathCheckActivities,
    DeathCheckRequest,
    DeathCheckResult,
)
from activities.payments.instructions import (
    HELD_DECEASED,
    HELD_DUPLICATE_PERSON,
    HELD_SUSPENDED,
    hold_stopped_chunk,
    insert_payroll_chunk,
)
from activities.registry import build_activities
from jiuzhu.contract import Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_payments import (
    DeathRecord,
    EntitlementAccount,
    EntitlementMember,
    PayrollRun,
)
from jiuzhu.settings import Settings
from tests.conftest import auth
from tests.entitlements.helpers import (
    actor,
    approved_case,
    read_text,
    run_payroll,
    seed_accounts,
    start_entitlement,
    wait_published,
)
from tests.payments.support import rows, start_until_funding
from tests.payments.test_replay import keep_history
from workflows.payments.contract import PayrollStatus
from workflows.payments.models import FundingConfirmation
from workflows.payments.payroll import PayrollWorkflow
from workflows.sandbox import workflow_runner


def line(engine: Engine, case_id: str, period: str) -> tuple[str, str | None, Decimal]:
    got = rows(
        engine,
        "SELECT status, failure_reason, amount FROM payment_instruction "
        "WHERE case_id = :c AND period = :p",
        c=case_id,
        p=period,
    )
    assert len(got) == 1, got
    return got[0][0], got[0][1], Decimal(str(got[0][2])).quantize(Decimal("0.01"))


async def test_death_loaded_after_compile_is_held_and_funding_needs_the_adjusted_total(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """The reproduction: compile 2027-01, load a death dated 2026-11-25, fund. Before, the bank
    file paid the deceased's 500.00; now the line is held, the old total is refused (422 naming
    the adjusted total and what is held), the adjusted total is accepted and the rest is paid."""
    area = "419901001001"  # the demo county: the API's finance officer works here
    alone = approved_case(area, start_month=date(2027, 1, 1), amount="500.00", members=1)
    other = approved_case(area, start_month=date(2027, 1, 1), amount="600.00", members=2)
    for inp in (alone, other):
        await start_entitlement(client, settings.task_queue, inp)
        await wait_published(engine, f"{inp.household_id}-dibao")
    deceased = alone.household.members[0]
    alone_case, other_case = f"{alone.household_id}-dibao", f"{other.household_id}-dibao"

    handle, state = await start_until_funding(client, settings.task_queue, "419901", 2027, 1)
    old_total = state.compiled.pending_total
    assert line(engine, alone_case, "2027-01") == ("pending", None, Decimal("500.00"))

    r = await api.post(
        "/deaths",
        json={
            "records": [
                {
                    "id_number": deceased.id_number,
                    "name": deceased.name,
                    "date_of_death": "2026-11-25",
                }
            ]
        },
        headers=auth("admin"),
    )
    assert r.status_code == 201, r.text

    url = "/payroll/419901/2027-01/funding"
    r = await api.post(
        url, json={"amount": str(old_total), "reference": "F-OLD"}, headers=auth("finance")
    )
    adjusted = old_total - Decimal("500.00")
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["field"] == "amount"
    assert f"调整后的总额{adjusted}元" in problem["detail"], problem["detail"]
    assert "暂停发放" in problem["detail"]
    assert line(engine, alone_case, "2027-01") == ("held", HELD_DECEASED, Decimal("500.00"))

    state = await handle.query(PayrollWorkflow.get_state)
    assert state.funded_at is None
    assert state.compiled.pending_total == adjusted and state.compiled.held_count >= 1
    assert state.recheck is not None and state.recheck.newly_held >= 1

    r = await api.post(
        url, json={"amount": str(adjusted), "reference": "F-NEW"}, headers=auth("finance")
    )
    assert r.status_code == 200, r.text
    final = await handle.result()
    assert final.status is PayrollStatus.RECONCILED
    assert final.bank is not None and final.bank.total == adjusted
    bank_file = read_text(final.bank.file_path)
    assert alone.card_account.account_number not in bank_file
    assert other.card_account.account_number in bank_file
    assert line(engine, other_case, "2027-01")[0] == "paid"
    assert line(engine, alone_case, "2027-01")[0] == "held"
    with Session(engine) as s:
        run = s.get(PayrollRun, handle.id)
        assert run is not None and run.held_count >= 1 and run.held_total >= Decimal("500.00")

    # The month has ended: re-sending it is refused naming its state, as the Update would.
    r = await api.post(
        "/payroll/419901/2027-01/resubmit",
        json={"reason_zh": "重新报送"},
        headers=auth("finance"),
    )
    assert r.status_code == 409, r.text
    assert "reconciled" in r.json()["detail"] and "bank_error" in r.json()["detail"]


class LateDeathCheck(DeathCheckActivities):
    """The real death check, which waits for the test on its third call of a payroll (at the
    start, in the funding Update, and just before the bank file)."""

    def __init__(self, engine: Engine, client: Client) -> None:
        super().__init__(engine, client)
        self.calls = 0
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name="death_check")
    async def death_check(self, req: DeathCheckRequest) -> DeathCheckResult:
        self.calls += 1
        if self.calls == 3:
            self.reached.set()
            await self.release.wait()
        return await DeathCheckActivities.death_check(self, req)


@asynccontextmanager
async def late_death_worker(
    client: Client, settings: Settings, engine: Engine, check: LateDeathCheck
) -> AsyncIterator[str]:
    queue = f"recheck-{uuid.uuid4().hex[:8]}"
    activities = [
        a
        for a in build_activities(engine, settings, client)
        if not isinstance(getattr(a, "__self__", None), DeathCheckActivities)
    ]
    async with Worker(
        client,
        task_queue=queue,
        workflows=[PayrollWorkflow],
        activities=[*activities, check.death_check],
        workflow_runner=workflow_runner(),
        activity_executor=ThreadPoolExecutor(max_workers=8),
    ):
        yield queue


async def test_death_loaded_after_funding_is_held_before_the_bank_file(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    county = "419971"
    area = f"{county}001001"
    inp = approved_case(area, start_month=date(2027, 1, 1), amount="700.00", members=1)
    keep = approved_case(area, start_month=date(2027, 1, 1), amount="450.00", members=1)
    for e in (inp, keep):
        await start_entitlement(client, settings.task_queue, e)
        await wait_published(engine, f"{e.household_id}-dibao")
    case_id = f"{inp.household_id}-dibao"
    check = LateDeathCheck(engine, client)
    async with late_death_worker(client, settings, engine, check) as queue:
        handle, state = await start_until_funding(client, queue, county, 2027, 3)
        total = state.compiled.pending_total
        assert total == Decimal("1150.00")
        await handle.execute_update(
            PayrollWorkflow.confirm_funding,
            FundingConfirmation(actor=actor(Role.FINANCE, county), amount=total, reference="F"),
        )
        await asyncio.wait_for(check.reached.wait(), timeout=30)
        person = inp.household.members[0]
        with Session(engine) as s:
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
        check.release.set()
        final = await handle.result()
    assert final.status is PayrollStatus.RECONCILED
    assert line(engine, case_id, "2027-03") == ("held", HELD_DECEASED, Decimal("700.00"))
    assert final.bank is not None and final.bank.total == Decimal("450.00")
    assert inp.card_account.account_number not in read_text(final.bank.file_path)
    assert final.compiled is not None
    assert (final.compiled.held_count, final.compiled.held_total) == (1, Decimal("700.00"))
    assert final.funded_amount == Decimal("1150.00") and final.rechecks == 2
    with Session(engine) as s:
        run = s.get(PayrollRun, handle.id)
        assert run is not None and (run.held_count, run.held_total) == (1, Decimal("700.00"))
    await keep_history(client, handle.id, "payroll_recheck")


def add_member(engine: Engine, case_id: str, id_number: str, name: str = "共同成员") -> None:
    """A member as the entitlement writes one (ID number sealed, its blind index filled)."""
    with Session(engine) as s:
        s.add(
            EntitlementMember(
                case_id=case_id,
                id_number=id_number,
                name=name,
                relation="applicant",
                share_status="active",
            )
        )
        s.commit()


async def test_same_person_in_two_households_is_paid_once(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """一人一户: a person covered by households in two counties is paid by the first county's
    line; the second county holds its line. Within one county the later entitlement's line is
    held at compile, so finance never sees it in the total."""
    first = seed_accounts(engine, "419972", 1, prefix="P", start_index=2031 * 12)
    second = seed_accounts(engine, "419973", 2, prefix="Q", start_index=2031 * 12)
    twice = "419972197001010015"
    add_member(engine, first[0], twice)
    add_member(engine, second[0], twice)
    add_member(engine, second[1], "419973198002020021")

    jan = await run_payroll(client, settings.task_queue, "419972", 2031, 7)
    assert jan.reconciled is not None and jan.reconciled.paid_count == 1
    other = await run_payroll(client, settings.task_queue, "419973", 2031, 7)
    assert other.compiled is not None and other.compiled.held_count == 1
    assert line(engine, second[0], "2031-07") == ("held", HELD_DUPLICATE_PERSON, Decimal("500.00"))
    assert line(engine, second[1], "2031-07")[0] == "paid"
    assert other.reconciled is not None and other.reconciled.paid_count == 1

    both = seed_accounts(engine, "419974", 2, prefix="R", start_index=2031 * 12)
    add_member(engine, both[0], "419974197003030030")
    add_member(engine, both[1], "419974197003030030")
    handle, state = await start_until_funding(client, settings.task_queue, "419974", 2031, 7)
    assert (state.compiled.pending_count, state.compiled.held_count) == (1, 1)
    assert line(engine, both[0], "2031-07")[0] == "pending"
    assert line(engine, both[1], "2031-07") == ("held", HELD_DUPLICATE_PERSON, Decimal("500.00"))
    await handle.terminate("test done")


def test_a_recheck_since_an_instant_looks_only_at_what_changed_after_it(engine: Engine) -> None:
    """The last-moment re-check with ``since`` (``hold_stopped_chunk``) holds the line whose
    entitlement was written after it, and leaves the line whose entitlement changed before it
    (an earlier look saw that one); without ``since`` every line is looked at. Database only."""
    county, period_index = "419941", 2027 * 12 + 4
    payroll_id = f"payroll-{county}-2027-05"
    earlier, later = seed_accounts(engine, county, 2, prefix="R")
    keys = {"period_index": period_index, "monthly_key": "2027-05", "quarterly_key": "2027-Q2"}
    with unit_of_work(engine) as session:
        insert_payroll_chunk(
            session,
            payroll_id=payroll_id,
            county=county,
            after=0,
            upto=2**62,
            quarterly=False,
            now=datetime.now(UTC),
            **keys,  # type: ignore[arg-type]
        )
    since = datetime.now(UTC) - timedelta(minutes=30)
    with unit_of_work(engine) as session:
        for case_id, written in ((earlier, since - timedelta(hours=1)), (later, datetime.now(UTC))):
            account = session.exec(
                select(EntitlementAccount).where(EntitlementAccount.case_id == case_id)
            ).one()
            account.status, account.updated_at = "suspended", written
            session.add(account)

    def recheck(since: datetime | None) -> None:
        with unit_of_work(engine) as session:
            hold_stopped_chunk(
                session,
                batch_id=payroll_id,
                after=0,
                upto=2**62,
                since=since,
                **keys,  # type: ignore[arg-type]
            )

    recheck(since)
    assert line(engine, later, "2027-05") == ("held", HELD_SUSPENDED, Decimal("500.00"))
    assert line(engine, earlier, "2027-05") == ("pending", None, Decimal("500.00"))
    recheck(None)
    assert line(engine, earlier, "2027-05") == ("held", HELD_SUSPENDED, Decimal("500.00"))
