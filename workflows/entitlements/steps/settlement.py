"""Receivables wait for the bank (issue 11 item 3): a payroll line already in a bank file when a
member dies or the entitlement ends is the bank's until it answers (reconciliation, usually the
next working day). Paid, it was not owed either; so the receivable that recovers it (seed 002;
低保办法 Art. 32, 特困办法 Art. 26; seed 000 四(四)) is opened only once none of the case's lines
is ``pending`` or ``sent`` — asked once a day (``SETTLE_EVERY``) through the case's ``Alarm``,
at most ``SETTLE_CHECKS`` times, after which what is paid by then is recovered. The timeline
says when a receivable waits. Cases recorded before ``RECOVERY_AFTER_SETTLEMENT`` open their
receivables at once, as they did. Workflow code only."""

from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

from jiuzhu.calls import call

with workflow.unsafe.imports_passed_through():
    from activities.entitlements.activities import EntitlementActivities
    from activities.entitlements.models import SummaryRequest

if TYPE_CHECKING:
    from workflows.entitlements.workflow import EntitlementWorkflow

WAKE_SETTLED = "settled"
SETTLE_EVERY = timedelta(days=1)
SETTLE_CHECKS = 31


async def in_flight(case: "EntitlementWorkflow") -> int:
    """How many of the case's payroll lines the bank has not answered yet."""
    return await call(
        EntitlementActivities.payments_in_flight,
        SummaryRequest(case_id=case.state.entitlement_id),
    )


def ask_again(case: "EntitlementWorkflow") -> None:
    """The next daily question, kept in state (so a continue-as-new keeps it)."""
    s = case.state
    s.settle_checks += 1
    s.settle_at = workflow.now() + SETTLE_EVERY


def settled_or_given_up(case: "EntitlementWorkflow", lines: int) -> bool:
    return lines == 0 or case.state.settle_checks >= SETTLE_CHECKS


def stop_asking(case: "EntitlementWorkflow") -> None:
    case.state.settle_at = None
    case.state.settle_checks = 0


async def wait_after_end(case: "EntitlementWorkflow") -> None:
    """The ended entitlement's own wait (its main loop is over): sleep on the case's alarm until
    the bank has answered every line, or the checks are used up."""
    s = case.state
    s.settle_checks = 0
    while not settled_or_given_up(case, lines := await in_flight(case)):
        if s.settle_checks == 0:
            await case.record(
                "recovery_waits",
                None,
                f"尚有{lines}笔救助金在银行处理中，待银行回盘后核算终止后多发金额",
                in_flight=lines,
            )
        ask_again(case)
        assert s.settle_at is not None
        case.alarm.set(WAKE_SETTLED, s.settle_at)
        while WAKE_SETTLED not in case.alarm.pop_due():
            await case.alarm.sleep(lambda: False)
    stop_asking(case)
