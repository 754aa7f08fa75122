"""Open an overpayment receivable when a death is recorded (seed 002: stop paying the deceased;
what was paid after the death is recovered).

``open_overpayment_recovery`` is called by the entitlement when it records a death (the monthly
death check's ``record_death`` Update or a reported death): it reads the household's paid
payroll lines for periods after the month of death, computes the deceased's share of each
(``overpaid_lines``) and, when anything was overpaid, starts the receivable's workflow by type
name under the id ``recovery-<household>-<person key>`` (the deceased's blind index, never the
ID number) — one per household and death; starting again finds it (also under the id of
earlier releases)."""

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, text
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.recoveries.models import (
    OpenRecoveryRequest,
    OpenRecoveryResult,
    OverpaidLine,
    RecoveryInput,
)
from jiuzhu.console import case_static
from jiuzhu.contract import CaseKind
from jiuzhu.db.sealing import blind_index
from workflows.payments.contract import PaymentKind, PaymentStatus
from workflows.recoveries.contract import (
    RECOVERY_WORKFLOW_TYPE,
    legacy_recovery_workflow_id,
    recovery_workflow_id,
)

CENT = Decimal("0.01")
MONTHLY = re.compile(r"^(\d{4})-(\d{2})$")
QUARTERLY = re.compile(r"^(\d{4})-Q([1-4])$")

PAID_LINES_SQL = text(
    "SELECT idempotency_key, period, amount FROM payment_instruction "
    "WHERE case_id = :c AND kind = :kind AND status = :paid ORDER BY period, id"
)


def overpaid_lines(
    rows: list[tuple[str, str, Decimal]], date_of_death: date, covered_members: int
) -> list[OverpaidLine]:
    """The deceased's share of each paid line ``(key, period, amount)`` for months after the
    month of death (the month of death itself was owed):

    - a one-person household (``covered_members == 1``): the whole amount;
    - otherwise the amount ÷ covered members (the household amount is split in equal shares,
      ``workflows/entitlements/amounts.py``), to the cent, half up;
    - a quarterly line (dispersed 特困, ``YYYY-Qn``): that share × the quarter's months after
      the month of death ÷ 3.

    Lines whose period has no month after the death are left out."""
    died = date_of_death.year * 12 + date_of_death.month - 1
    out: list[OverpaidLine] = []
    for key, period, amount in rows:
        paid = Decimal(str(amount)).quantize(CENT)
        share = paid / covered_members
        if m := MONTHLY.fullmatch(period):
            if int(m.group(1)) * 12 + int(m.group(2)) - 1 <= died:
                continue
        elif q := QUARTERLY.fullmatch(period):
            first = int(q.group(1)) * 12 + (int(q.group(2)) - 1) * 3
            after = sum(1 for i in range(first, first + 3) if i > died)
            if after == 0:
                continue
            share = share * after / 3
        else:
            continue
        overpaid = share.quantize(CENT, rounding=ROUND_HALF_UP)
        if overpaid > 0:
            out.append(
                OverpaidLine(
                    idempotency_key=key, period=period, paid_amount=paid, overpaid=overpaid
                )
            )
    return out


class RecoveryActivities:
    def __init__(self, engine: Engine, client: Client | None) -> None:
        self.engine = engine
        self.client = client

    @activity.defn
    async def open_overpayment_recovery(self, req: OpenRecoveryRequest) -> OpenRecoveryResult:
        """Open the receivable of this death if anything was paid after its month (idempotent:
        the workflow id is the household's and the deceased's)."""
        with Session(self.engine) as session:
            rows = session.execute(
                PAID_LINES_SQL,
                {
                    "c": req.entitlement_id,
                    "kind": PaymentKind.PAYROLL.value,
                    "paid": PaymentStatus.PAID.value,
                },
            ).all()
        lines = overpaid_lines(
            [(r[0], r[1], r[2]) for r in rows], req.date_of_death, req.covered_members
        )
        amount = sum((line.overpaid for line in lines), Decimal("0.00"))
        if amount <= 0:
            return OpenRecoveryResult()
        if self.client is None:
            raise ApplicationError(
                "opening a recovery needs the Temporal client", type="NoClient", non_retryable=True
            )
        legacy = legacy_recovery_workflow_id(req.household_id, req.deceased_id_number)
        if await self._exists(legacy):
            return OpenRecoveryResult(recovery_id=legacy, amount=amount, opened=False)
        recovery_id = recovery_workflow_id(req.household_id, person_key(req.deceased_id_number))
        inp = RecoveryInput(
            recovery_id=recovery_id,
            lines=lines,
            amount=amount,
            **req.model_dump(),
        )
        text = case_static(
            CaseKind.RECOVERY,
            area_code=req.area_code,
            programme=req.programme,
            applicant_name=req.deceased_name,
            subject_zh="死亡后多发救助金",
        )
        try:
            await self.client.start_workflow(
                RECOVERY_WORKFLOW_TYPE,
                inp,
                id=recovery_id,
                task_queue=activity.info().task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            return OpenRecoveryResult(recovery_id=recovery_id, amount=amount, opened=False)
        return OpenRecoveryResult(recovery_id=recovery_id, amount=amount, opened=True)

    async def _exists(self, workflow_id: str) -> bool:
        assert self.client is not None
        try:
            await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True


def person_key(id_number: str) -> str:
    """The deceased's key in a receivable's id: 16 hex characters of the blind index."""
    return blind_index(id_number)[:16]
