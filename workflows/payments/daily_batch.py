"""The daily bank batch of temporary assistance: every instruction reaches a bank.
Temporary prepayments from the township reserve fund (先行救助), county awards and staged
一事一议 payments (民发〔2018〕23号; 晋民发〔2022〕38号 二.7–8) are paid to the card (一卡通)
in one batch per county and value date (id ``daily_batch_id(county, value date)``), started
by the county's daily Temporal Schedule (17:00 Beijing) for the next working day:

1. a later run of a batch that has moved money returns its record as it stands (immutable);
2. the county's pending temporary-aid instructions join the batch in one set-based statement
   (``activities/payments/instructions.assign_daily_batch``), unwritable lines are held;
3. nothing to pay: the batch completes quietly;
4. the shared bank step sends and reconciles (``bank_step.send_and_reconcile``, as the payroll:
   the bank credits each reference once, a worker restart resumes from heartbeats);
5. each refused prepayment is credited back to its township's reserve fund, once;
6. an unreadable bank answer stops the batch (``bank_error``) with one escalation to finance.

A scheduled (or triggered, or backfilled) run has the schedule's id: it derives the value date
from its action time and starts the batch with the canonical id, then ends."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from jiuzhu.calls import call
from jiuzhu.publishing import publish_details
from workflows.payments.bank_step import bank_error_text, escalate_bank_error, send_and_reconcile

with workflow.unsafe.imports_passed_through():
    from activities.payments.daily_batch import (
        BankBatchRow,
        DailyAssign,
        DailyBatchActivities,
        ValueDateRequest,
    )
    from activities.payments.models import BankSubmit, BankSubmitResult
    from activities.temporary.payloads import BankReturns
    from activities.temporary.reserve_fund import ReserveFundActivities
    from jiuzhu.clock import to_beijing
    from jiuzhu.console import case_static
    from jiuzhu.contract import SA_CASE_KIND, SA_COUNTY, SA_STATUS, CaseKind
    from workflows.payments.contract import (
        DAILY_BATCH_SETTLED,
        DAILY_BATCH_STATUS_LABELS_ZH,
        DAILY_BATCH_WORKFLOW_TYPE,
        DailyBatchStatus,
        PaymentKind,
        daily_batch_id,
    )
    from workflows.payments.models import DailyBatchInput, DailyBatchState

LONG = timedelta(minutes=30)
SA_SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")

__all__ = ["DailyBankBatchWorkflow", "daily_batch_id"]


@workflow.defn(name=DAILY_BATCH_WORKFLOW_TYPE)
class DailyBankBatchWorkflow:
    @workflow.init
    def __init__(self, inp: DailyBatchInput) -> None:
        self.state = DailyBatchState(
            county_code=inp.county_code,
            value_date=inp.value_date,
            value_date_provisional=inp.value_date_provisional,
            batch_id=daily_batch_id(inp.county_code, inp.value_date) if inp.value_date else None,
        )

    @workflow.query
    def get_state(self) -> DailyBatchState:
        return self.state

    @workflow.run
    async def run(self, inp: DailyBatchInput) -> DailyBatchState:
        s = self.state
        if s.batch_id is None or workflow.info().workflow_id != s.batch_id:
            return await self._launch(inp)
        existing = await call(DailyBatchActivities.find_bank_batch, s.batch_id)
        if existing is not None and existing.status in DAILY_BATCH_SETTLED:
            s.rerun_of_existing, s.existing = True, existing
            s.status = DailyBatchStatus(existing.status)
            return s
        self._static_search_attributes()
        await self._pay(inp)
        return s

    async def _pay(self, inp: DailyBatchInput) -> None:
        s = self.state
        assert s.batch_id is not None and s.value_date is not None
        heartbeat = timedelta(seconds=inp.heartbeat_seconds)
        s.assigned = await workflow.execute_activity_method(
            DailyBatchActivities.assign_daily_batch,
            DailyAssign(batch_id=s.batch_id, county_code=s.county_code),
            start_to_close_timeout=LONG,
            heartbeat_timeout=heartbeat,
        )
        if s.assigned.pending_count == 0:
            # Nothing to pay: complete quietly (a row only when held lines need a hand).
            s.status = DailyBatchStatus.NOTHING_TO_PAY
            self._publish_status()
            if s.assigned.held_count:
                await self._save()
            return
        s.status = DailyBatchStatus.SENDING
        await self._save()

        async def sent(bank: BankSubmitResult) -> None:
            s.bank = bank
            await self._save()

        try:
            s.bank, s.reconciled = await send_and_reconcile(
                BankSubmit(
                    batch_id=s.batch_id,
                    kind=PaymentKind.TEMPORARY,
                    county_code=s.county_code,
                    value_date=s.value_date,
                ),
                heartbeat=heartbeat,
                after_send=sent,
            )
        except ActivityError as exc:
            # Only a non-retryable failure gets here (a malformed bank answer): the batch
            # stops and finance is told, once.
            s.bank_error = bank_error_text(exc)
            s.status = DailyBatchStatus.BANK_ERROR
            await escalate_bank_error(
                batch_id=s.batch_id,
                workflow_id=s.batch_id,
                county_code=s.county_code,
                message_zh=(
                    f"{s.county_code} {s.value_date:%Y-%m-%d}临时救助资金代发：银行回盘无法读取，"
                    f"发放已停止，请核对银行文件与回盘后人工处理。{s.bank_error}"
                ),
            )
            await self._save()
            return
        if s.reconciled.failed_count:
            s.credited_back = await workflow.execute_activity_method(
                ReserveFundActivities.credit_back_failed,
                BankReturns(batch_id=s.batch_id),
                start_to_close_timeout=LONG,
            )
        s.status = DailyBatchStatus.RECONCILED
        await self._save()

    async def _launch(self, inp: DailyBatchInput) -> DailyBatchState:
        """A scheduled (or triggered, or backfilled) run: the value date is the next working
        day after the (Beijing) day of the action time; start that day's batch."""
        s = self.state
        if inp.value_date is None:
            info = workflow.info()
            at = to_beijing(info.typed_search_attributes.get(SA_SCHEDULED_START) or info.start_time)
            found = await call(
                DailyBatchActivities.daily_value_date, ValueDateRequest(made_on=at.date())
            )
            s.value_date, s.value_date_provisional = found.value_date, found.provisional
        assert s.value_date is not None
        s.batch_id = daily_batch_id(s.county_code, s.value_date)
        text = case_static(
            CaseKind.BANK_BATCH,
            area_code=s.county_code,
            subject_zh=f"{s.value_date.isoformat()}入账批次",
        )
        try:
            await workflow.start_child_workflow(
                DailyBankBatchWorkflow.run,
                inp.model_copy(
                    update={
                        "value_date": s.value_date,
                        "value_date_provisional": s.value_date_provisional,
                    }
                ),
                id=s.batch_id,
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(SA_CASE_KIND, CaseKind.BANK_BATCH.value),
                        SearchAttributePair(SA_COUNTY, s.county_code),
                        SearchAttributePair(SA_STATUS, DailyBatchStatus.STARTED.value),
                    ]
                ),
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            pass  # the day's batch is already running: nothing to do
        s.launched_workflow_id = s.batch_id
        s.status = DailyBatchStatus.LAUNCHED
        workflow.set_current_details(f"**已启动**：{s.value_date}代发批次（{s.batch_id}）")
        return s

    def _static_search_attributes(self) -> None:
        """Kind and county, unless the launcher set them."""
        present = {pair.key.name for pair in workflow.info().typed_search_attributes}
        updates = [
            u
            for u in (
                SA_CASE_KIND.value_set(CaseKind.BANK_BATCH.value),
                SA_COUNTY.value_set(self.state.county_code),
            )
            if u.key.name not in present
        ]
        if updates:
            workflow.upsert_search_attributes(updates)

    def _publish_status(self) -> None:
        workflow.upsert_search_attributes([SA_STATUS.value_set(self.state.status.value)])
        publish_details(DAILY_BATCH_STATUS_LABELS_ZH[self.state.status])

    async def _save(self) -> None:
        """Search attributes and the ``bank_batch`` read-model row, together."""
        s = self.state
        assert s.batch_id is not None and s.value_date is not None
        s.revision += 1
        self._publish_status()
        a, rec, back = s.assigned, s.reconciled, s.credited_back
        info = workflow.info()
        await call(
            DailyBatchActivities.save_bank_batch,
            BankBatchRow(
                batch_id=s.batch_id,
                county_code=s.county_code,
                value_date=s.value_date,
                status=s.status.value,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                revision=s.revision,
                value_date_provisional=s.value_date_provisional,
                assigned_count=a.pending_count if a else 0,
                assigned_total=a.pending_total if a else 0,
                paid_count=rec.paid_count if rec else 0,
                paid_total=rec.paid_total if rec else 0,
                failed_count=rec.failed_count if rec else 0,
                failed_total=rec.failed_total if rec else 0,
                held_count=rec.held_count if rec else (a.held_count if a else 0),
                held_total=rec.held_total if rec else (a.held_total if a else 0),
                credited_back_count=back.credited_count if back else 0,
                credited_back_total=back.credited_total if back else 0,
                report_path=rec.report_path if rec else None,
                bank_error=s.bank_error,
            ),
        )
