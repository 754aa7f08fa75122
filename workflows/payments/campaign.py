"""One-off campaigns (一次性生活补贴, seed 003): pay a fixed amount to every covered person of every
active entitlement of the chosen programmes in a county by a date, with the provincial and local
shares recorded (e.g. 300 yuan, 6:4). Instructions are keyed (campaign, household, programme), so
a re-run pays nobody twice; the list goes to the paying bank and is reconciled like the payroll.
The credit deadline is kept in a ``DeadlineBook`` on the workflow's one ``Alarm``."""

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.payments.bank import BankActivities
    from activities.payments.models import (
        BankSubmit,
        CampaignCompile,
        CampaignRow,
        CutoffRequest,
        ReconcileRequest,
    )
    from activities.payments.payroll import PayrollActivities
    from jiuzhu.calls import call
    from jiuzhu.clock import workflow_today
    from jiuzhu.contract import Role
    from jiuzhu.timers import Alarm
    from rules.periods import calendar_days
    from workflows.deadlines.book import DeadlineBook
    from workflows.payments.contract import (
        CAMPAIGN_WORKFLOW_TYPE,
        CampaignStatus,
        PaymentKind,
        campaign_workflow_id,
    )
    from workflows.payments.models import CampaignInput, CampaignState

LONG = timedelta(minutes=30)

__all__ = ["CampaignWorkflow", "campaign_workflow_id"]


@workflow.defn(name=CAMPAIGN_WORKFLOW_TYPE)
class CampaignWorkflow:
    @workflow.init
    def __init__(self, inp: CampaignInput) -> None:
        self.state = CampaignState(campaign_id=inp.campaign_id, county_code=inp.county_code)
        self.alarm = Alarm()
        self.book = DeadlineBook(self.state.deadlines, inp.campaign_id, self._noop, self.alarm)
        self.finished = False

    async def _noop(self) -> None:
        return None

    @workflow.query
    def get_state(self) -> CampaignState:
        return self.state

    @workflow.run
    async def run(self, inp: CampaignInput) -> CampaignState:
        wakes = asyncio.create_task(self._wake_loop())
        try:
            await self._pay(inp)
        finally:
            self.finished = True
        await wakes
        return self.state

    async def _wake_loop(self) -> None:
        """The credit deadline's reminder and escalation, on the one alarm."""
        while not self.finished:
            await self.alarm.sleep(lambda: self.finished)
            due = self.alarm.pop_due()
            if due:
                await self.book.on_wake(due)

    async def _pay(self, inp: CampaignInput) -> None:
        s = self.state
        pay_by = inp.pay_by
        cut = await call(
            PayrollActivities.payroll_cutoffs,
            CutoffRequest(
                year=pay_by.year,
                month=pay_by.month,
                data_day=pay_by.day,
                funds_day=pay_by.day,
                credit_day=pay_by.day,
            ),
        )
        s.value_date = cut.credit
        start = min(workflow_today(), cut.credit)
        await self.book.start(
            DeadlineSpec(
                name="campaign_credit",
                label_zh=f"一次性补贴「{inp.name}」发放到卡",
                start=start,
                period=calendar_days((cut.credit - start).days),
                reminder_lead=calendar_days(1),
                responsible_role=Role.COUNTY_OFFICER,
                responsible_area=inp.county_code,
                escalation_role=Role.COUNTY_OFFICER,
                escalation_area=inp.county_code[:4],
                basis="晋民发〔2022〕38号：一次性生活补贴按时足额发放",
            )
        )
        s.compiled = await workflow.execute_activity_method(
            PayrollActivities.compile_campaign,
            CampaignCompile(
                campaign_id=inp.campaign_id,
                county_code=inp.county_code,
                programmes=inp.programmes,
                amount_per_person=inp.amount_per_person,
                provincial_ratio=inp.provincial_ratio,
                period_index=pay_by.year * 12 + pay_by.month - 1,
                key_prefix=f"campaign:{inp.campaign_id}",
                period=pay_by.isoformat(),
            ),
            start_to_close_timeout=LONG,
            heartbeat_timeout=timedelta(minutes=1),
        )
        if s.compiled.pending_count == 0:
            s.status = CampaignStatus.NOTHING_TO_PAY
        else:
            s.status = CampaignStatus.SENDING
            await self._save()
            s.bank = await workflow.execute_activity_method(
                BankActivities.send_to_bank,
                BankSubmit(
                    batch_id=inp.campaign_id,
                    kind=PaymentKind.CAMPAIGN,
                    county_code=inp.county_code,
                    value_date=cut.credit,
                ),
                start_to_close_timeout=LONG,
                heartbeat_timeout=timedelta(minutes=1),
            )
            s.reconciled = await workflow.execute_activity_method(
                BankActivities.reconcile_batch,
                ReconcileRequest(batch_id=inp.campaign_id, result_path=s.bank.result_path),
                start_to_close_timeout=LONG,
                heartbeat_timeout=timedelta(minutes=1),
            )
            s.status = CampaignStatus.RECONCILED
        await self.book.meet("campaign_credit")
        await self._save()

    async def _save(self) -> None:
        s = self.state
        c, r = s.compiled, s.reconciled
        await call(
            PayrollActivities.save_campaign,
            CampaignRow(
                campaign_id=s.campaign_id,
                status=s.status.value,
                instruction_count=c.pending_count if c else 0,
                total=c.total if c else 0,
                provincial_total=c.provincial_total if c else 0,
                local_total=c.local_total if c else 0,
                paid_count=r.paid_count if r else 0,
                failed_count=r.failed_count if r else 0,
            ),
        )
