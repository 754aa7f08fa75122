"""Each money Update happens once: ten concurrent funding confirmations of a payroll (and of a
campaign) with different references — one is recorded, nine are refused naming it (409); ten
more with the recorded reference all answer with the same record."""

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from jiuzhu.contract import Role
from jiuzhu.refusals import RefusalKind, refusal_of
from jiuzhu.settings import Settings
from tests.entitlements.helpers import actor, seed_accounts, wait_for
from tests.payments.support import GatedBank, payment_worker, start_until_funding
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.checks import same_funding
from workflows.payments.contract import CampaignStatus, PayrollStatus, campaign_workflow_id
from workflows.payments.models import CampaignFunding, CampaignInput, FundingConfirmation
from workflows.payments.payroll import PayrollWorkflow

RACERS = 10


async def _race(calls: list[Any]) -> tuple[list[Any], list[BaseException]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    return ok, errors


def _assert_refused_naming(errors: list[BaseException], recorded: str) -> None:
    for exc in errors:
        assert isinstance(exc, WorkflowUpdateFailedError), repr(exc)
        refusal = refusal_of(exc)
        assert refusal is not None and refusal.kind is RefusalKind.CONFLICT, refusal
        assert refusal.http_status == 409
        assert recorded in refusal.message_zh and refusal.extra["recorded_reference"] == recorded


async def test_payroll_funding_is_recorded_once(
    client: Client, settings: Settings, engine: Engine
) -> None:
    county = "419936"
    seed_accounts(engine, county, 2, amount="500.00", start_index=2036 * 12)
    bank = GatedBank(engine)
    async with payment_worker(client, settings, engine, bank) as queue:
        handle, state = await start_until_funding(client, queue, county, 2036, 6)
        total = state.compiled.pending_total
        finance = actor(Role.FINANCE, county)

        def confirm(ref: str) -> Any:
            return handle.execute_update(
                PayrollWorkflow.confirm_funding,
                FundingConfirmation(actor=finance, amount=total, reference=ref),
            )

        ok, errors = await _race([confirm(f"BOF-{i}") for i in range(RACERS)])
        assert len(ok) == 1 and len(errors) == RACERS - 1
        recorded = ok[0].reference
        _assert_refused_naming(errors, recorded)
        st = await handle.query(PayrollWorkflow.get_state)
        assert st.funding_reference == recorded

        # The same confirmation again, ten at once: the same record, nothing changed.
        again, errors = await _race([confirm(recorded) for _ in range(RACERS)])
        assert not errors and len(again) == RACERS
        assert {r.funded_at for r in again} == {ok[0].funded_at}
        assert all(r.already_recorded for r in again)
        # A confirmation of another amount under the recorded reference is refused too.
        try:
            await handle.execute_update(
                PayrollWorkflow.confirm_funding,
                FundingConfirmation(actor=finance, amount=total + 1, reference=recorded),
            )
        except WorkflowUpdateFailedError as exc:
            assert (r := refusal_of(exc)) is not None and r.http_status == 409
        else:  # pragma: no cover
            raise AssertionError("a second amount was accepted")
        bank.gate.set()
        final = await handle.result()
    assert final.status is PayrollStatus.RECONCILED
    assert final.funding_reference == recorded and final.funded_at == ok[0].funded_at


async def test_campaign_funding_is_recorded_once(
    client: Client, settings: Settings, engine: Engine
) -> None:
    county = "419937"
    seed_accounts(engine, county, 3, amount="500.00", start_index=2026 * 12)
    bank = GatedBank(engine)
    campaign_id = f"CFUND{county}"
    async with payment_worker(client, settings, engine, bank) as queue:
        handle = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                campaign_id=campaign_id,
                name="一次性生活补贴",
                county_code=county,
                programmes=["dibao"],
                amount_per_person=Decimal("300.00"),
                provincial_ratio=Decimal("0.6"),
                pay_by=date(2036, 12, 20),
                created_by=actor(Role.ADMIN, county),
                funding_required=True,
            ),
            id=campaign_workflow_id(campaign_id),
            task_queue=queue,
        )

        async def awaiting() -> Any:
            st = await handle.query(CampaignWorkflow.get_state)
            return st if st.status is CampaignStatus.AWAITING_FUNDING else None

        state = await wait_for(awaiting, seconds=60, what="campaign compiled")
        total = state.compiled.total
        assert total == Decimal("1800.00")  # 3 households × 2 persons × 300
        finance = actor(Role.FINANCE, county)

        def confirm(ref: str) -> Any:
            return handle.execute_update(
                CampaignWorkflow.confirm_funding,
                CampaignFunding(actor=finance, amount=total, reference=ref),
            )

        ok, errors = await _race([confirm(f"PROV-{i}") for i in range(RACERS)])
        assert len(ok) == 1 and len(errors) == RACERS - 1
        recorded = ok[0].reference
        _assert_refused_naming(errors, recorded)
        again, errors = await _race([confirm(recorded) for _ in range(RACERS)])
        assert not errors and {r.funded_at for r in again} == {ok[0].funded_at}
        bank.gate.set()
        final = await handle.result()
    assert final.status is CampaignStatus.RECONCILED
    assert final.funding_reference == recorded
    assert final.reconciled is not None and final.reconciled.paid_count == 3


def test_a_second_reference_is_refused_naming_when_in_beijing_time() -> None:
    """The 409 names the recorded confirmation's time as finance reads it: Beijing time."""
    at = datetime(2026, 11, 30, 21, 42, tzinfo=UTC)
    with pytest.raises(ApplicationError) as refused:
        same_funding("BOF-1", at, Decimal("500.00"), "BOF-2", Decimal("500.00"))
    refusal = refusal_of(refused.value)
    assert refusal is not None and refusal.kind is RefusalKind.CONFLICT
    assert "2026-12-01 05:42（北京时间）" in refusal.message_zh, refusal.message_zh
