"""The bank step every payment batch shares (the monthly payroll and one-off campaigns): send the
batch's file to the paying bank, then reconcile the bank's answer line by line; and, when the
answer cannot be read, the one escalation to county finance (焦民〔2022〕154号: the bank credits by
the 10th, finance watches the funds). Workflow code: the two activities are regular activities
that heartbeat their progress and resume after a worker restart."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from jiuzhu.calls import call

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities
    from activities.payments.bank import BankActivities
    from activities.payments.models import (
        BankSubmit,
        BankSubmitResult,
        ReconcileRequest,
        ReconcileResult,
    )
    from activities.records import RecordActivities
    from jiuzhu.contract import Role
    from jiuzhu.records import AuditRecord, OutboxItem, RecordStep
    from workflows.payments.models import Resubmission, ResubmitBatch

BANK_TIMEOUT = timedelta(minutes=30)


async def send_and_reconcile(
    submit: BankSubmit,
    *,
    heartbeat: timedelta,
    reconcile: ReconcileRequest | None = None,
    after_send: Callable[[BankSubmitResult], Awaitable[None]] | None = None,
) -> tuple[BankSubmitResult, ReconcileResult]:
    """Send ``submit``'s batch, run ``after_send`` (e.g. record the month as reconciling), then
    reconcile the answer (``reconcile`` overrides the request's defaults; its ``result_path`` is
    taken from the sent batch). Raises ``ActivityError`` only for a non-retryable failure: a bank
    answer that cannot be read."""
    bank: BankSubmitResult = await workflow.execute_activity_method(
        BankActivities.send_to_bank,
        submit,
        start_to_close_timeout=BANK_TIMEOUT,
        heartbeat_timeout=heartbeat,
    )
    if after_send is not None:
        await after_send(bank)
    request = (reconcile or ReconcileRequest(batch_id=submit.batch_id, result_path="")).model_copy(
        update={"batch_id": submit.batch_id, "result_path": bank.result_path}
    )
    reconciled: ReconcileResult = await workflow.execute_activity_method(
        BankActivities.reconcile_batch,
        request,
        start_to_close_timeout=BANK_TIMEOUT,
        heartbeat_timeout=heartbeat,
    )
    return bank, reconciled


def bank_error_text(exc: ActivityError) -> str:
    """What finance is told about an unreadable bank answer (at most 500 characters)."""
    return str(exc.cause if exc.cause is not None else exc)[:500]


async def escalate_bank_error(
    *, batch_id: str, workflow_id: str, county_code: str, message_zh: str
) -> None:
    """One escalation to county finance per batch (deduplicated by the batch id)."""
    await call(
        DeadlineActivities.post_outbox,
        OutboxItem(
            dedupe_key=f"{batch_id}:bank_error",
            kind="escalation",
            recipient_role=Role.FINANCE.value,
            recipient_area=county_code,
            case_id=batch_id,
            workflow_id=workflow_id,
            message_zh=message_zh,
            due_at=workflow.now(),
        ),
    )


async def record_resubmission(
    *, case_id: str, inp: ResubmitBatch, number: int, after_error: str | None
) -> Resubmission:
    """Finance re-sends a batch after an unreadable answer: the audited step (who, when, why,
    the error it follows), the ``number``-th re-send of the batch ``case_id``."""
    done = Resubmission(
        actor=inp.actor, at=workflow.now(), reason_zh=inp.reason_zh, after_error=after_error
    )
    workflow_id = workflow.info().workflow_id
    await call(
        RecordActivities.record_step,
        RecordStep(
            audit=[
                AuditRecord(
                    dedupe_key=f"{workflow_id}:resubmit:{number}",
                    at=done.at,
                    case_id=case_id,
                    workflow_id=workflow_id,
                    action="bank_resubmit",
                    actor=inp.actor,
                    detail={"reason_zh": inp.reason_zh, "after_error": after_error},
                )
            ]
        ),
    )
    return done
