"""The payroll workflow: one per county and month (id ``payroll_workflow_id(county, y, m)``),
started ahead by the month before it, with a start delay up to the 1st at 01:00 Beijing time
(``jiuzhu.schedules``; DOMAIN §5 payment calendar, seed 002):

0. start the next month's payroll ahead (``PayrollCalendarActivities.plan_next_month``);

1. the monthly death check (suspends deceased members' shares at once);
2. by the data cut-off (5th) compile the month's payment list from active entitlements in the
   read model — 低保 monthly, dispersed 特困 quarterly in the quarter's first month where the
   county's policy says so, centralised 特困 to the institution — each instruction keyed
   (household, programme, period), so a re-run or retry never pays twice;
3. by the funds cut-off (8th) finance confirms funding (an Update) — of the total as it stands
   after a last re-check: the death check runs again and every line stopped since compile
   (a death, a suspension, a termination, a changed amount, a person paid in two households)
   is held with its reason, so finance confirms the adjusted total;
4. by the credit cut-off (10th) re-check once more (deaths recorded after funding are held),
   then hand the list to the paying bank and reconcile each line.

Each cut-off is the Nth, or the last working day before it. A missed cut-off sends a reminder
before and an escalation after (``DeadlineBook`` on the workflow's one ``Alarm``). The list lives
in the database; the history holds counts and totals only.

A run launched by the per-county schedule of earlier releases (its id is the schedule's, not
the month's) derives the month from its scheduled time and starts the month's payroll as a
child with the canonical id, then ends; worker start-up deletes those schedules, and the child
is started only if the month has no workflow yet that did not fail."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher
from jiuzhu.timers import Alarm
from jiuzhu.versions import PAYROLL_NEXT_MONTH
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
    from activities.payments.calendar import NextMonthRequest, PayrollCalendarActivities
    from activities.payments.models import (
        BankSubmit,
        BankSubmitResult,
        CompileRequest,
        CutoffRequest,
        PayrollRunRow,
        RecheckRequest,
        RecheckResult,
        ReconcileRequest,
    )
    from activities.payments.payroll import PayrollActivities
    from activities.policy import PolicyActivities, PolicyRequest
    from jiuzhu.clock import to_beijing, workflow_today
    from jiuzhu.console import case_static
    from jiuzhu.contract import SA_CASE_KIND, SA_COUNTY, SA_STATUS, CaseKind, Role
    from rules.periods import calendar_days
    from rules.policy import PaymentFrequency
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.payments.checks import (
        check_adjusted_total,
        check_funding,
        check_payroll_resubmit,
    )
    from workflows.payments.contract import (
        PAYROLL_SETTLED,
        PAYROLL_STATUS_LABELS_ZH,
        PAYROLL_WORKFLOW_TYPE,
        RESUBMIT,
        START_NOW,
        PaymentKind,
        PayrollStatus,
        payroll_workflow_id,
    )
    from workflows.payments.models import (
        FundingConfirmation,
        FundingResult,
        PayrollInput,
        PayrollState,
        ResubmitBatch,
        ResubmitResult,
    )

LONG = timedelta(minutes=30)
# A month whose list was compiled is never paid or recorded again by a later run (re-run,
# backfill, schedule catch-up): the run returns the month's record as it stands.
IMMUTABLE_MONTH = "payroll-immutable-month"
# Deaths and stops are checked at the last moment: in the funding Update (finance confirms the
# adjusted total) and again just before the bank file is written (issue 11 item 3).
RECHECK_BEFORE_PAYMENT = "payroll-recheck-before-payment"
# After an unreadable bank answer the month waits at ``bank_error`` for finance's ``resubmit``.
PAYROLL_RESUBMIT = "payroll-resubmit"
# Asked before the bank-error escalation (a local activity), as ``CAMPAIGN_RESUBMIT_FIRST``
# (jiuzhu/versions.py) explains; months that recorded ``payroll-resubmit`` replay with it.
PAYROLL_RESUBMIT_FIRST = "payroll-resubmit-asked-first"
# A re-check looks at the lines again only if something was recorded since the previous look
# (compile or re-check), less this margin for clocks of worker hosts running a little behind.
RECHECK_CLOCK_MARGIN = timedelta(minutes=1)
SA_SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
CUTOFF_BASIS = "焦民〔2022〕154号 第六条：5日前录入、8日前拨付、10日前发放到卡，遇节假日提前"


def scheduled_month(inp: PayrollInput) -> tuple[int, int]:
    """The month a run pays: explicit in the input, or the month (Beijing time) of the
    schedule's action time, or of the workflow's start."""
    if inp.year is not None and inp.month is not None:
        return inp.year, inp.month
    info = workflow.info()
    at = to_beijing(info.typed_search_attributes.get(SA_SCHEDULED_START) or info.start_time)
    return at.year, at.month


def county_city(county: str) -> str:
    return county[:4]


@workflow.defn(name=PAYROLL_WORKFLOW_TYPE)
class PayrollWorkflow:
    @workflow.init
    def __init__(self, inp: PayrollInput) -> None:
        year, month = scheduled_month(inp)
        self.inp = inp
        self.state = PayrollState(
            payroll_id=payroll_workflow_id(inp.county_code, year, month),
            county_code=inp.county_code,
            year=year,
            month=month,
            period=f"{year:04d}-{month:02d}",
        )
        self.alarm = Alarm()
        self.book = DeadlineBook(
            self.state.deadlines, self.state.payroll_id, self._save, self.alarm
        )
        self.publisher = CasePublisher(CaseKind.PAYROLL, PAYROLL_STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.finished = False

    @workflow.run
    async def run(self, inp: PayrollInput) -> PayrollState:
        s = self.state
        if workflow.info().workflow_id != s.payroll_id:
            return await self._launch(inp)
        # A regular activity (not a local one): what follows it always runs in the next workflow
        # task, on replay as when it ran, so the patches asked after it read the same.
        if workflow.patched(PAYROLL_NEXT_MONTH):
            await workflow.execute_activity_method(
                PayrollCalendarActivities.plan_next_month,
                NextMonthRequest(county_code=s.county_code, year=s.year, month=s.month),
                start_to_close_timeout=timedelta(seconds=30),
            )
        if workflow.patched(IMMUTABLE_MONTH):
            existing = await call(PayrollActivities.find_payroll_run, s.payroll_id)
            if existing is not None and existing.status in PAYROLL_SETTLED:
                s.rerun_of_existing = True
                s.existing = existing
                s.status = PayrollStatus(existing.status)
                return s
        self._static_search_attributes()
        wakes = asyncio.create_task(self._wake_loop())
        try:
            await self._pay(inp)
        finally:
            self.finished = True
        await wakes
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    async def _pay(self, inp: PayrollInput) -> None:
        s = self.state
        policy = await call(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.county_code, on=date(s.year, s.month, 1)),
        )
        s.policy_version_id = policy.version_id
        s.quarterly_tekun = policy.tekun_dispersed_payment_frequency is PaymentFrequency.QUARTERLY
        s.cutoffs = await call(
            PayrollActivities.payroll_cutoffs,
            CutoffRequest(
                year=s.year,
                month=s.month,
                data_day=policy.payment_data_day,
                funds_day=policy.payment_funds_day,
                credit_day=policy.payment_credit_day,
            ),
        )
        c = s.cutoffs
        async with self.lock:
            await self.book.start(
                self._spec("payroll_data", "录入当月发放名单", c.data, Role.COUNTY_OFFICER)
            )
            await self.book.start(
                self._spec("payroll_funds", "拨付救助资金", c.funds, Role.FINANCE)
            )
            await self.book.start(
                self._spec("payroll_credit", "资金发放到卡", c.credit, Role.COUNTY_OFFICER)
            )
        s.status = PayrollStatus.COMPILING
        await self._save()

        try:
            s.deaths = await workflow.execute_activity_method(
                DeathCheckActivities.death_check,
                DeathCheckRequest(county_code=s.county_code, checked_by=s.payroll_id),
                start_to_close_timeout=LONG,
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError:
            workflow.logger.warning("death check failed; payroll continues without it")

        index = s.year * 12 + s.month - 1
        quarter = (s.month - 1) // 3 + 1
        s.looked_at = workflow.now()
        s.compiled = await workflow.execute_activity_method(
            PayrollActivities.compile_payroll,
            CompileRequest(
                payroll_id=s.payroll_id,
                county_code=s.county_code,
                period_index=index,
                monthly_key=s.period,
                quarterly_key=f"{s.year:04d}-Q{quarter}",
                quarterly=s.quarterly_tekun,
                chunk_size=inp.chunk_size,
            ),
            start_to_close_timeout=LONG,
            heartbeat_timeout=timedelta(seconds=inp.heartbeat_seconds),
        )
        async with self.lock:
            await self.book.meet("payroll_data")
        if s.compiled.pending_count == 0:
            s.status = PayrollStatus.NOTHING_TO_PAY
            async with self.lock:
                await self.book.cancel_all()
            await self._save()
            return

        s.status = PayrollStatus.AWAITING_FUNDING
        await self._save()
        await workflow.wait_condition(lambda: s.funded_at is not None)
        async with self.lock:
            await self.book.meet("payroll_funds")
        if workflow.patched(RECHECK_BEFORE_PAYMENT):
            async with self.lock:
                await self._recheck()

        s.status = PayrollStatus.SENDING
        await self._save()

        async def reconciling(bank: BankSubmitResult) -> None:
            s.bank, s.status = bank, PayrollStatus.RECONCILING
            await self._save()

        async def send() -> None:
            s.bank, s.reconciled = await send_and_reconcile(
                BankSubmit(
                    batch_id=s.payroll_id,
                    kind=PaymentKind.PAYROLL,
                    county_code=s.county_code,
                    value_date=c.credit,
                    heartbeat_every=inp.chunk_size,
                ),
                heartbeat=timedelta(seconds=inp.heartbeat_seconds),
                reconcile=ReconcileRequest(
                    batch_id=s.payroll_id, result_path="", chunk_size=inp.chunk_size
                ),
                after_send=reconciling,
            )

        try:
            await send()
        except ActivityError as exc:
            # Only a non-retryable failure gets here (a malformed bank answer): retrying reads
            # the same bytes, so the month stops and finance is told, once.
            resubmits = workflow.patched(PAYROLL_RESUBMIT_FIRST)  # before a local activity
            await self._bank_failed(exc)
            if not (resubmits or workflow.patched(PAYROLL_RESUBMIT)):
                return
            await self._until_resubmitted(send)
            return
        async with self.lock:
            await self.book.meet("payroll_credit")
        s.status = PayrollStatus.RECONCILED
        await self._save()

    async def _until_resubmitted(self, send: Callable[[], Awaitable[None]]) -> None:
        """Wait at ``bank_error`` for finance's ``resubmit``, then send again: the file holds
        only the lines still unanswered (pending or sent), the bank credits each reference
        once; another unreadable answer waits again (this is the only way a month that moved
        money is re-opened: explicitly, audited)."""
        s = self.state
        while s.status is PayrollStatus.BANK_ERROR:
            handled = len(s.resubmissions)
            await workflow.wait_condition(lambda n=handled: len(s.resubmissions) > n)  # type: ignore[misc]
            await self._save()
            try:
                await send()
            except ActivityError as exc:
                await self._bank_failed(exc)
                continue
            s.bank_error = None
            s.status = PayrollStatus.RECONCILED
            await self._save()

    async def _recheck(self) -> RecheckResult:
        """Run the death check again (each entitlement suspends its deceased members' shares
        and writes the read model), then hold the month's pending lines that no longer qualify
        (``PayrollActivities.recheck_batch``); the compiled totals become the adjusted ones and
        the month's record shows what is held."""
        s = self.state
        assert s.compiled is not None
        since = s.looked_at - RECHECK_CLOCK_MARGIN if s.looked_at is not None else None
        s.looked_at = workflow.now()
        try:
            late = await workflow.execute_activity_method(
                DeathCheckActivities.death_check,
                DeathCheckRequest(county_code=s.county_code, checked_by=s.payroll_id),
                start_to_close_timeout=LONG,
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
            s.late_deaths_applied += late.applied
        except ActivityError:
            workflow.logger.warning("death check failed; the re-check uses the register as is")
        quarter = (s.month - 1) // 3 + 1
        result = await workflow.execute_activity_method(
            PayrollActivities.recheck_batch,
            RecheckRequest(
                payroll_id=s.payroll_id,
                period_index=s.year * 12 + s.month - 1,
                monthly_key=s.period,
                quarterly_key=f"{s.year:04d}-Q{quarter}",
                chunk_size=self.inp.chunk_size,
                since=since,
                arrears=s.compiled.arrears_ranges,
            ),
            start_to_close_timeout=LONG,
            heartbeat_timeout=timedelta(seconds=self.inp.heartbeat_seconds),
        )
        s.recheck = result
        s.rechecks += 1
        s.compiled = s.compiled.model_copy(
            update={
                "pending_count": result.pending_count,
                "pending_total": result.pending_total,
                "by_programme": result.by_programme,
                "held_count": result.held_count,
                "held_total": result.held_total,
            }
        )
        await self._save()
        return result

    async def _bank_failed(self, exc: ActivityError) -> None:
        s = self.state
        s.bank_error = bank_error_text(exc)
        s.status = PayrollStatus.BANK_ERROR
        async with self.lock:
            await self.book.cancel_all()
        await escalate_bank_error(
            batch_id=s.payroll_id,
            workflow_id=s.payroll_id,
            county_code=s.county_code,
            message_zh=(
                f"{s.county_code} {s.period}救助金代发：银行回盘无法读取，发放已停止，"
                f"请核对银行文件与回盘后人工处理。{s.bank_error}"
            ),
        )
        await self._save()

    async def _wake_loop(self) -> None:
        """The cut-offs' reminders and escalations, on the one alarm, while the payroll runs."""
        while not self.finished:
            await self.alarm.sleep(lambda: self.finished)
            due = self.alarm.pop_due()
            if due:
                async with self.lock:
                    await self.book.on_wake(due)

    async def _launch(self, inp: PayrollInput) -> PayrollState:
        """A scheduled (or triggered, or backfilled) run: start the month's payroll."""
        s = self.state
        child_input = inp.model_copy(update={"year": s.year, "month": s.month})
        text = case_static(
            CaseKind.PAYROLL, area_code=s.county_code, subject_zh=f"{s.period}月度救助金发放"
        )
        try:
            await workflow.start_child_workflow(
                PayrollWorkflow.run,
                child_input,
                id=s.payroll_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(SA_CASE_KIND, CaseKind.PAYROLL.value),
                        SearchAttributePair(SA_COUNTY, s.county_code),
                        SearchAttributePair(SA_STATUS, PayrollStatus.STARTED.value),
                    ]
                ),
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            pass  # this month's payroll is already running: nothing to do
        s.launched_workflow_id = s.payroll_id
        s.status = PayrollStatus.LAUNCHED
        workflow.set_current_details(f"**已启动**：{s.period}月度发放（{s.payroll_id}）")
        return s

    def _static_search_attributes(self) -> None:
        """Kind and county, unless the launcher set them (a payroll has no programme, area or
        household, so ``CasePublisher.static`` does not apply)."""
        present = {pair.key.name for pair in workflow.info().typed_search_attributes}
        updates = [
            u
            for u in (
                SA_CASE_KIND.value_set(CaseKind.PAYROLL.value),
                SA_COUNTY.value_set(self.state.county_code),
            )
            if u.key.name not in present
        ]
        if updates:
            workflow.upsert_search_attributes(updates)

    def _spec(self, name: str, label_zh: str, cutoff: date, role: Role) -> DeadlineSpec:
        start = min(workflow_today(), cutoff)
        county = self.state.county_code
        return DeadlineSpec(
            name=name,
            label_zh=f"{self.state.period}{label_zh}",
            start=start,
            period=calendar_days((cutoff - start).days),
            reminder_lead=calendar_days(1),
            responsible_role=role,
            responsible_area=county,
            escalation_role=Role.COUNTY_OFFICER if role is Role.FINANCE else role,
            escalation_area=county if role is Role.FINANCE else county_city(county),
            basis=CUTOFF_BASIS,
        )

    # --- updates, queries and signals -----------------------------------------------------
    @workflow.query
    def get_state(self) -> PayrollState:
        return self.state

    @workflow.update
    async def confirm_funding(self, inp: FundingConfirmation) -> FundingResult:
        """County finance confirms it funded the paying bank with the payroll's total — the
        total after the last re-check (deaths, stops and duplicates since compile are held
        first; the old total is then refused naming the adjusted one). Once:
        the same reference again answers with the recorded confirmation, another reference
        is refused (409 naming the recorded one) — re-checked here, under the lock, since
        racing Updates may all pass the validator before the first is recorded."""
        async with self.lock:
            s = self.state
            check_funding(s, inp)
            if s.funded_at is not None:
                return FundingResult(
                    status=s.status,
                    funded_at=s.funded_at,
                    reference=s.funding_reference,
                    already_recorded=True,
                )
            if workflow.patched(RECHECK_BEFORE_PAYMENT):
                await self._recheck()
                check_adjusted_total(s, inp)
            s.funded_by = inp.actor
            s.funding_reference = inp.reference
            s.funded_amount = inp.amount
            s.funded_at = workflow.now()
            return FundingResult(status=s.status, funded_at=s.funded_at, reference=inp.reference)

    @confirm_funding.validator
    def _validate_funding(self, inp: FundingConfirmation) -> None:
        check_funding(self.state, inp)

    @workflow.update(name=RESUBMIT)
    async def resubmit(self, inp: ResubmitBatch) -> ResubmitResult:
        """County finance re-sends the month after an unreadable bank answer (only from
        ``bank_error``; re-checked under the lock, so of racing Updates one is recorded and the
        others are refused). Audited with who, when, why and the error it follows."""
        async with self.lock:
            s = self.state
            check_payroll_resubmit(s, inp)
            done = await record_resubmission(
                case_id=s.payroll_id,
                inp=inp,
                number=len(s.resubmissions) + 1,
                after_error=s.bank_error,
            )
            s.resubmissions.append(done)
            s.status = PayrollStatus.SENDING
            return ResubmitResult(status=s.status.value, resubmission=len(s.resubmissions))

    @resubmit.validator
    def _validate_resubmit(self, inp: ResubmitBatch) -> None:
        check_payroll_resubmit(self.state, inp)

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded: recompute provisional cut-offs."""
        async with self.lock:
            await self.book.recompute_provisional()

    @workflow.signal(name=START_NOW)
    def start_now(self) -> None:
        """An officer's trigger or backfill (signal-with-start): delivering it is the point — a
        month started ahead runs at once instead of at its 1st; nothing else changes."""

    # --- publishing ----------------------------------------------------------------------
    async def _save(self) -> None:
        s = self.state
        s.revision += 1
        self.publisher.dynamic(status=s.status.value, book=self.book)
        c, comp, rec = s.cutoffs, s.compiled, s.reconciled
        row = PayrollRunRow(
            payroll_id=s.payroll_id,
            county_code=s.county_code,
            period=s.period,
            status=s.status.value,
            data_cutoff=c.data if c else None,
            funds_cutoff=c.funds if c else None,
            credit_date=c.credit if c else None,
            cutoffs_provisional=c.provisional if c else False,
            compiled_count=comp.pending_count if comp else 0,
            compiled_total=comp.pending_total if comp else 0,
            new_count=comp.inserted if comp else 0,
            retried_count=comp.retried if comp else 0,
            arrears_count=comp.arrears if comp else 0,
            funded_by=s.funded_by.officer_id if s.funded_by else None,
            funding_reference=s.funding_reference,
            funded_at=s.funded_at,
            bank_file=s.bank.file_path if s.bank else None,
            result_file=s.bank.result_path if s.bank else None,
            report_file=rec.report_path if rec else None,
            paid_count=rec.paid_count if rec else 0,
            paid_total=rec.paid_total if rec else 0,
            failed_count=rec.failed_count if rec else 0,
            failed_total=rec.failed_total if rec else 0,
            flagged_count=rec.flagged_count if rec else 0,
            deaths_found=(s.deaths.found if s.deaths else 0) + s.late_deaths_applied,
            held_count=comp.held_count if comp else 0,
            held_total=comp.held_total if comp else 0,
            covered_upto=comp.covered_upto if comp else None,
            quarterly_tekun=s.quarterly_tekun,
            revision=s.revision,
            run_id=workflow.info().run_id,
        )
        await call(PayrollActivities.save_payroll_run, row)
