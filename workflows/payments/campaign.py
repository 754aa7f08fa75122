"""One-off campaigns (一次性生活补贴, seed 003): pay a fixed amount to every covered person of every
active entitlement of the chosen programmes in a county by a date, with the provincial and local
shares recorded (e.g. 300 yuan, 6:4). Instructions are keyed (campaign, household, programme), so
a re-run pays nobody twice; the list goes to the paying bank and is reconciled like the payroll.
At the last moment — before finance confirms the total, and again before the bank file — the
death check runs and the pending lines are re-checked (patch ``campaign-recheck``): the deceased
are not paid and a household is paid for the persons still covered.
The credit deadline is kept in a ``DeadlineBook`` on the workflow's one ``Alarm``.

An unreadable bank answer stops the campaign at ``bank_error`` with one escalation to finance;
finance re-sends it with the audited Update ``resubmit`` (only from ``bank_error``): the lines
still unanswered go again, the bank credits each reference once (patch ``campaign-resubmit``:
campaigns started before it end at ``bank_error``)."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from jiuzhu.calls import call
from jiuzhu.publishing import publish_details
from jiuzhu.timers import Alarm
from jiuzhu.versions import CAMPAIGN_RECHECK, CAMPAIGN_RESUBMIT, CAMPAIGN_RESUBMIT_FIRST
from workflows.deadlines.book import DeadlineBook
from workflows.payments.bank_step import (
    bank_error_text,
    escalate_bank_error,
    record_resubmission,
    send_and_reconcile,
)

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.entitlements.death_check import DeathCheckActivities, DeathCheckRequest
    from activities.payments.models import (
        BankSubmit,
        CampaignCompile,
        CampaignRow,
        CutoffRequest,
    )
    from activities.payments.payroll import PayrollActivities
    from jiuzhu.clock import workflow_today
    from jiuzhu.contract import Role
    from rules.periods import calendar_days
    from workflows.payments.checks import check_campaign_funding, check_campaign_resubmit
    from workflows.payments.contract import (
        CAMPAIGN_STATUS_LABELS_ZH,
        CAMPAIGN_WORKFLOW_TYPE,
        RESUBMIT,
        CampaignStatus,
        PaymentKind,
        campaign_workflow_id,
    )
    from workflows.payments.models import (
        CampaignFunding,
        CampaignFundingResult,
        CampaignInput,
        CampaignState,
        ResubmitBatch,
        ResubmitResult,
    )

LONG = timedelta(minutes=30)

__all__ = ["CampaignWorkflow", "campaign_workflow_id"]


def campaign_list(inp: CampaignInput) -> CampaignCompile:
    """The campaign's list as compile and re-check both address it."""
    return CampaignCompile(
        campaign_id=inp.campaign_id,
        county_code=inp.county_code,
        programmes=inp.programmes,
        amount_per_person=inp.amount_per_person,
        provincial_ratio=inp.provincial_ratio,
        period_index=inp.pay_by.year * 12 + inp.pay_by.month - 1,
        key_prefix=f"campaign:{inp.campaign_id}",
        period=inp.pay_by.isoformat(),
    )


@workflow.defn(name=CAMPAIGN_WORKFLOW_TYPE)
class CampaignWorkflow:
    @workflow.init
    def __init__(self, inp: CampaignInput) -> None:
        self.state = CampaignState(campaign_id=inp.campaign_id, county_code=inp.county_code)
        self.alarm = Alarm()
        self.book = DeadlineBook(self.state.deadlines, inp.campaign_id, self._noop, self.alarm)
        self.finished = False
        self.lock = asyncio.Lock()

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
        await workflow.wait_condition(workflow.all_handlers_finished)
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
            campaign_list(inp),
            start_to_close_timeout=LONG,
            heartbeat_timeout=timedelta(minutes=1),
        )
        recheck = workflow.patched(CAMPAIGN_RECHECK)
        if recheck and s.compiled.pending_count > 0:
            await self._recheck(inp)
        if s.compiled.pending_count == 0:
            s.status = CampaignStatus.NOTHING_TO_PAY
        else:
            if inp.funding_required:
                s.status = CampaignStatus.AWAITING_FUNDING
                await self._save()
                await workflow.wait_condition(lambda: s.funded_at is not None)
                if recheck:  # deaths loaded while finance funded it are not paid either
                    await self._recheck(inp)
            s.status = CampaignStatus.SENDING
            await self._save()
            submit = BankSubmit(
                batch_id=inp.campaign_id,
                kind=PaymentKind.CAMPAIGN,
                county_code=inp.county_code,
                value_date=cut.credit,
            )
            try:
                s.bank, s.reconciled = await send_and_reconcile(
                    submit, heartbeat=timedelta(minutes=1)
                )
                s.status = CampaignStatus.RECONCILED
            except ActivityError as exc:
                resubmits = workflow.patched(CAMPAIGN_RESUBMIT_FIRST)  # before a local activity
                await self._bank_failed(inp, exc)
                if resubmits or workflow.patched(CAMPAIGN_RESUBMIT):
                    await self._until_resubmitted(inp, submit)
        await self.book.meet("campaign_credit")
        await self._save()

    async def _recheck(self, inp: CampaignInput) -> None:
        """The last moment before the total is confirmed (and before the bank file): the death
        check tells each entitlement of the deaths on the register, then the campaign's pending
        lines are held or recounted for the persons still covered
        (``PayrollActivities.recheck_campaign``); the totals become the adjusted ones."""
        s = self.state
        try:
            await workflow.execute_activity_method(
                DeathCheckActivities.death_check,
                DeathCheckRequest(county_code=inp.county_code, checked_by=inp.campaign_id),
                start_to_close_timeout=LONG,
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError:
            workflow.logger.warning("death check failed; the re-check uses the register as is")
        s.compiled = await workflow.execute_activity_method(
            PayrollActivities.recheck_campaign,
            campaign_list(inp),
            start_to_close_timeout=LONG,
            heartbeat_timeout=timedelta(minutes=1),
        )
        await self._save()

    async def _until_resubmitted(self, inp: CampaignInput, submit: BankSubmit) -> None:
        """Wait at ``bank_error`` for finance's ``resubmit``, then send again: the bank file
        holds only the lines still unanswered (pending or sent), the bank credits each
        reference once; another unreadable answer waits again."""
        s = self.state
        while s.status is CampaignStatus.BANK_ERROR:
            await self._save()
            handled = len(s.resubmissions)
            await workflow.wait_condition(lambda n=handled: len(s.resubmissions) > n)  # type: ignore[misc]
            await self._save()
            try:
                s.bank, s.reconciled = await send_and_reconcile(
                    submit, heartbeat=timedelta(minutes=1)
                )
                s.bank_error = None
                s.status = CampaignStatus.RECONCILED
            except ActivityError as exc:
                await self._bank_failed(inp, exc)

    @workflow.update(name=RESUBMIT)
    async def resubmit(self, inp: ResubmitBatch) -> ResubmitResult:
        """County finance re-sends the campaign after an unreadable bank answer (only from
        ``bank_error``; re-checked under the lock, so of racing Updates one is recorded and
        the others are refused). Recorded with who, when, why and the error it follows."""
        async with self.lock:
            s = self.state
            check_campaign_resubmit(s, inp)
            done = await record_resubmission(
                case_id=s.campaign_id,
                inp=inp,
                number=len(s.resubmissions) + 1,
                after_error=s.bank_error,
            )
            s.resubmissions.append(done)
            s.status = CampaignStatus.SENDING
            return ResubmitResult(status=s.status.value, resubmission=len(s.resubmissions))

    @resubmit.validator
    def _validate_resubmit(self, inp: ResubmitBatch) -> None:
        check_campaign_resubmit(self.state, inp)

    async def _bank_failed(self, inp: CampaignInput, exc: ActivityError) -> None:
        """A malformed bank answer (non-retryable): stop and tell county finance, once."""
        s = self.state
        s.bank_error = bank_error_text(exc)
        s.status = CampaignStatus.BANK_ERROR
        await escalate_bank_error(
            batch_id=s.campaign_id,
            workflow_id=campaign_workflow_id(s.campaign_id),
            county_code=inp.county_code,
            message_zh=(
                f"一次性补贴「{inp.name}」代发：银行回盘无法读取，发放已停止，请核对后人工处理。"
                f"{s.bank_error}"
            ),
        )

    @workflow.update
    async def confirm_funding(self, inp: CampaignFunding) -> CampaignFundingResult:
        """County finance confirms it funded the campaign's total. Once: the same reference
        again answers with the recorded confirmation, another reference is refused (409 naming
        the recorded one); re-checked under the lock against racing Updates."""
        async with self.lock:
            s = self.state
            check_campaign_funding(s, inp)
            if s.funded_at is not None and s.funding_reference is not None:
                return CampaignFundingResult(
                    status=s.status,
                    funded_at=s.funded_at,
                    reference=s.funding_reference,
                    already_recorded=True,
                )
            s.funded_by = inp.actor
            s.funding_reference = inp.reference
            s.funded_at = workflow.now()
            return CampaignFundingResult(
                status=s.status, funded_at=s.funded_at, reference=inp.reference
            )

    @confirm_funding.validator
    def _validate_funding(self, inp: CampaignFunding) -> None:
        check_campaign_funding(self.state, inp)

    async def _save(self) -> None:
        s = self.state
        publish_details(CAMPAIGN_STATUS_LABELS_ZH[s.status], self.book)
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
