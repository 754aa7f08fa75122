"""Open an overpayment receivable when payments were made for months no longer owed.

- A death (seed 002: stop paying the deceased; what was paid after the death is recovered).
  ``open_overpayment_recovery`` is called by the entitlement when it records a death (the
  monthly death check's ``record_death`` Update or a reported death): it reads the household's
  paid payroll lines for periods after the month of death, computes the deceased's share of
  each (``overpaid_lines``) and, when anything was overpaid, starts the receivable's workflow by
  type name under the id ``recovery-<household>-<person key>`` (the deceased's blind index,
  never the ID number) — one per household and death; starting again finds it (also under the
  id of earlier releases).
- An ending (低保办法 Art. 32 and 特困办法 Art. 26: support stops from the month after the last
  payable one; seed 000 四(四): 依法依规追回非法获取的物资、救助金). ``open_ending_recovery`` is
  called by the entitlement when it ends (after a stop, a gradual withdrawal, a 特困 termination,
  the end of a recognition's validity; a reversed approval ends through a stop): it reads the
  entitlement's paid payroll lines for periods after the last payable month — a month paid
  ahead, or compiled and paid before the stop was recorded — and recovers what they paid for
  those months (``ended_lines``), less what a death's receivable already claims on the same
  line, under the id ``recovery-<entitlement>-ended-<YYYYMM>`` — one per entitlement and
  ending."""

import re
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.recoveries.models import (
    OpenEndingRecoveryRequest,
    OpenRecoveryRequest,
    OpenRecoveryResult,
    OverpaidLine,
    ReceivableLines,
    RecoveryInput,
)
from jiuzhu.console import case_static
from jiuzhu.contract import CaseKind
from jiuzhu.db.models import AuditEntry, CaseRecord
from jiuzhu.db.sealing import blind_index
from rules.calendar import add_months
from workflows.payments.contract import PaymentKind, PaymentStatus
from workflows.recoveries.contract import (
    GET_STATE,
    RECOVERY_WORKFLOW_TYPE,
    RecoveryCause,
    ending_recovery_workflow_id,
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


def _month(d: date) -> int:
    return d.year * 12 + d.month - 1


def ended_lines(
    rows: list[tuple[str, str, Decimal]],
    *,
    start_month: date,
    last_payable_month: date,
    monthly_amount: Decimal,
    claimed: Mapping[str, Decimal] | None = None,
) -> list[OverpaidLine]:
    """What each paid line ``(key, period, amount)`` paid for months after the entitlement's
    last payable month (those months were not owed: 低保办法 Art. 32, 特困办法 Art. 26):

    - a monthly line (``YYYY-MM``) of a later month: the whole amount;
    - a quarterly line (dispersed 特困, ``YYYY-Qn``): the payroll paid it for the quarter's
      months from the first payable one (``start_month``) on, up to the end it knew when it
      compiled the line; those months are the first ``round(amount ÷ monthly_amount)`` of them
      when the amount is that many months of ``monthly_amount``, else all of them. The line's
      overpayment is the amount × its months after the last payable month ÷ its months (a
      quarter wholly after it: the whole amount);
    - less what another receivable already claims on the same line (``claimed``, by key: a
      death's receivable holds the deceased's share), never below 0.

    Amounts in yuan to the cent, half up; lines with nothing left to recover are left out."""
    last = _month(last_payable_month)
    first_payable = _month(start_month)
    out: list[OverpaidLine] = []
    for key, period, amount in rows:
        paid = Decimal(str(amount)).quantize(CENT)
        if m := MONTHLY.fullmatch(period):
            if int(m.group(1)) * 12 + int(m.group(2)) - 1 <= last:
                continue
            due = paid
        elif q := QUARTERLY.fullmatch(period):
            first = int(q.group(1)) * 12 + (int(q.group(2)) - 1) * 3
            months = [i for i in range(first, first + 3) if i >= first_payable] or [first]
            covered = len(months)
            if monthly_amount > 0:
                whole = int((paid / monthly_amount).to_integral_value(rounding=ROUND_HALF_UP))
                if 1 <= whole < covered and abs(paid - monthly_amount * whole) <= CENT / 2:
                    covered = whole
            after = sum(1 for i in months[:covered] if i > last)
            if after == 0:
                continue
            due = paid * after / covered
        else:
            continue
        due -= (claimed or {}).get(key, Decimal("0.00"))
        overpaid = due.quantize(CENT, rounding=ROUND_HALF_UP)
        if overpaid > 0:
            out.append(
                OverpaidLine(
                    idempotency_key=key, period=period, paid_amount=paid, overpaid=overpaid
                )
            )
    return out


def _add_claims(claimed: dict[str, Decimal], lines: list[OverpaidLine]) -> None:
    for line in lines:
        claimed[line.idempotency_key] = claimed.get(line.idempotency_key, Decimal("0.00")) + (
            line.overpaid
        )


class RecoveryActivities:
    def __init__(self, engine: Engine, client: Client | None) -> None:
        self.engine = engine
        self.client = client

    @activity.defn
    async def open_overpayment_recovery(self, req: OpenRecoveryRequest) -> OpenRecoveryResult:
        """Open the receivable of this death if anything was paid after its month (idempotent:
        the workflow id is the household's and the deceased's)."""
        with Session(self.engine) as session:
            paid = paid_payroll_lines(session, req.entitlement_id)
        lines = overpaid_lines(paid, req.date_of_death, req.covered_members)
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
        return await self._start(inp, req.deceased_name, "死亡后多发救助金")

    @activity.defn
    async def open_ending_recovery(self, req: OpenEndingRecoveryRequest) -> OpenRecoveryResult:
        """Open the receivable of this ending if months after the last payable one were paid
        (idempotent: the workflow id is the entitlement's and the ending's effective month;
        what other receivables of the entitlement already claim is left out)."""
        recovery_id = ending_recovery_workflow_id(
            req.entitlement_id, add_months(req.last_payable_month.replace(day=1), 1)
        )
        with Session(self.engine) as session:
            paid = paid_payroll_lines(session, req.entitlement_id)

            def after_the_end(claimed: Mapping[str, Decimal]) -> list[OverpaidLine]:
                return ended_lines(
                    paid,
                    start_month=req.start_month,
                    last_payable_month=req.last_payable_month,
                    monthly_amount=req.monthly_amount,
                    claimed=claimed,
                )

            if not after_the_end({}):
                return OpenRecoveryResult()
            claimed, seen = claimed_by_others(session, req.entitlement_id, recovery_id)
        if self.client is None:
            raise ApplicationError(
                "opening a recovery needs the Temporal client", type="NoClient", non_retryable=True
            )
        for id_number in req.deceased_id_numbers:
            # A death's receivable not yet in the read model (opened a moment ago): its lines
            # from the workflow itself.
            for workflow_id in (
                recovery_workflow_id(req.household_id, person_key(id_number)),
                legacy_recovery_workflow_id(req.household_id, id_number),
            ):
                if workflow_id not in seen and (lines := await self._lines_of(workflow_id)):
                    _add_claims(claimed, lines)
                    seen.add(workflow_id)
        lines = after_the_end(claimed)
        amount = sum((line.overpaid for line in lines), Decimal("0.00"))
        if amount <= 0:
            return OpenRecoveryResult()
        inp = RecoveryInput(
            recovery_id=recovery_id,
            entitlement_id=req.entitlement_id,
            household_id=req.household_id,
            programme=req.programme,
            area_code=req.area_code,
            cause=RecoveryCause.ENDED,
            applicant_id_number=req.applicant_id_number,
            applicant_name=req.applicant_name,
            last_payable_month=req.last_payable_month.replace(day=1),
            covered_members=req.covered_members,
            payee_name=req.payee_name,
            record_ref=req.record_ref,
            lines=lines,
            amount=amount,
        )
        return await self._start(inp, req.applicant_name, "终止后多发救助金")

    async def _start(
        self, inp: RecoveryInput, person_name: str, subject_zh: str
    ) -> OpenRecoveryResult:
        """Start the receivable's workflow under its id (reject-duplicate: a receivable that
        exists is found, not opened twice)."""
        assert self.client is not None
        text = case_static(
            CaseKind.RECOVERY,
            area_code=inp.area_code,
            programme=inp.programme,
            applicant_name=person_name,
            subject_zh=subject_zh,
        )
        found = OpenRecoveryResult(recovery_id=inp.recovery_id, amount=inp.amount, opened=False)
        try:
            await self.client.start_workflow(
                RECOVERY_WORKFLOW_TYPE,
                inp,
                id=inp.recovery_id,
                task_queue=activity.info().task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            return found
        return found.model_copy(update={"opened": True})

    async def _lines_of(self, workflow_id: str) -> list[OverpaidLine]:
        """The lines a receivable claims, from its own state (none if there is no such
        receivable)."""
        assert self.client is not None
        try:
            state: ReceivableLines = await self.client.get_workflow_handle(workflow_id).query(
                GET_STATE, result_type=ReceivableLines
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return []
            raise
        return state.lines

    async def _exists(self, workflow_id: str) -> bool:
        assert self.client is not None
        try:
            await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True


def paid_payroll_lines(session: Session, entitlement_id: str) -> list[tuple[str, str, Decimal]]:
    """The entitlement's paid payroll lines: (idempotency key, period, amount in yuan)."""
    rows = session.execute(
        PAID_LINES_SQL,
        {"c": entitlement_id, "kind": PaymentKind.PAYROLL.value, "paid": PaymentStatus.PAID.value},
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def person_key(id_number: str) -> str:
    """The deceased's key in a receivable's id: 16 hex characters of the blind index."""
    return blind_index(id_number)[:16]


def claimed_by_others(
    session: Session, entitlement_id: str, recovery_id: str
) -> tuple[dict[str, Decimal], set[str]]:
    """What the entitlement's other receivables claim, by payroll line key (summed), and their
    ids: the lines each recorded when it opened (its ``open`` audit line, kept for good, so a
    receivable closed long ago still counts)."""
    rows = session.exec(
        select(AuditEntry.case_id, AuditEntry.detail)
        .join(CaseRecord, col(CaseRecord.case_id) == col(AuditEntry.case_id))
        .where(
            CaseRecord.case_kind == CaseKind.RECOVERY.value,
            CaseRecord.linked_case_id == entitlement_id,
            AuditEntry.action == "open",
            AuditEntry.case_id != recovery_id,
        )
    ).all()
    claimed: dict[str, Decimal] = {}
    seen: set[str] = set()
    for case_id, detail in rows:
        seen.add(case_id)
        _add_claims(
            claimed, [OverpaidLine.model_validate(x) for x in (detail or {}).get("lines", [])]
        )
    return claimed, seen
