"""The overpayment-recovery workflow (追回多发救助金): one receivable per household and death,
opened when an entitlement records a death dated before payments already made (seed 002: stop
paying the deceased; what was paid after the death is recovered), and one per entitlement and
ending, opened when an entitlement ends after months already paid beyond its last payable month
(低保办法 Art. 32, 特困办法 Art. 26: support stops from the month after; seed 000 四(四):
依法依规追回非法获取的救助金).

A death's receivable is the deceased's share of every payroll line paid for a month after the
month of death (``activities/recoveries/activities.py``: ``overpaid_lines``); an ending's is what
every paid line paid for months after the last payable month, less what a death's receivable
already claims on it (``ended_lines``). It has one deadline, the
policy's ``overpayment_recovery`` (default 90 calendar days from opening): the county officer
responsible is reminded before it and the city is told when it passes (the deadline book). A
county officer records repayments (from the estate, a next of kin or the recipient; at most the
balance) and, where the county so decides, the write-off of what is left (document number,
date, reasons). The workflow completes when the balance is 0 — recovered or written off. Each
step is published to the read model (``case_record``, kind ``recovery``) with its audit line."""

import asyncio
from decimal import Decimal

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher, CaseSteps
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.policy import PolicyActivities, PolicyRequest
    from activities.recoveries.models import RecoveryInput
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import workflow_today
    from jiuzhu.contract import Actor, CaseKind, Role
    from jiuzhu.records import CaseSnapshot
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.recoveries.checks import check_repayment, check_write_off
    from workflows.recoveries.contract import (
        GET_STATE,
        PAYER_NAMES_ZH,
        RECORD_REPAYMENT,
        RECOVERY_DEADLINE,
        RECOVERY_WORKFLOW_TYPE,
        STATUS_LABELS_ZH,
        WRITE_OFF,
        RecoveryStatus,
    )
    from workflows.recoveries.models import (
        RecordRepayment,
        RecoveryState,
        RecoveryStepResult,
        Repayment,
        WriteOff,
        WriteOffRecord,
    )

BASIS = (
    "seed 002：每月开展死亡比对，停发死亡人员的救助金；其死亡后多发的救助金予以追回"
    "（期限：地方政策 overpayment_recovery）"
)
BASIS_ENDED = (
    "低保办法第三十二条、特困办法第二十六条：救助终止的，自次月起停止发放；"
    "seed 000 四(四)：依法依规追回非法获取的救助金（期限：地方政策 overpayment_recovery）"
)


@workflow.defn(name=RECOVERY_WORKFLOW_TYPE)
class OverpaymentRecoveryWorkflow(CaseSteps[RecoveryState]):
    @workflow.init
    def __init__(self, inp: RecoveryInput) -> None:
        self.state = RecoveryState(
            recovery_id=inp.recovery_id,
            entitlement_id=inp.entitlement_id,
            household_id=inp.household_id,
            programme=inp.programme,
            area=AreaRef.of(inp.area_code),
            deceased_id_number=inp.deceased_id_number,
            deceased_name=inp.deceased_name,
            date_of_death=inp.date_of_death,
            cause=inp.cause,
            applicant_id_number=inp.applicant_id_number,
            applicant_name=inp.applicant_name,
            last_payable_month=inp.last_payable_month,
            covered_members=inp.covered_members,
            payee_name=inp.payee_name,
            record_ref=inp.record_ref,
            lines=inp.lines,
            amount=inp.amount,
            balance=inp.amount,
        )
        self.alarm = Alarm()
        self.book = DeadlineBook(self.state.deadlines, inp.recovery_id, self._publish, self.alarm)
        self.publisher = CasePublisher(CaseKind.RECOVERY, STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.ready = False

    @workflow.run
    async def run(self, inp: RecoveryInput) -> RecoveryState:
        s = self.state
        self.publisher.static(programme=s.programme, area=s.area, household_id=s.household_id)
        policy = await call(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.area.code, on=workflow_today()),
        )
        s.policy_version_id = policy.version_id
        s.opened_at = workflow.now()
        async with self.lock:
            await self.book.start(
                DeadlineSpec(
                    name=RECOVERY_DEADLINE,
                    label_zh=f"追回救助终止后多发的救助金{s.amount}元或报县级决定核销"
                    if s.ended
                    else f"追回{s.deceased_name}死亡后多发的救助金{s.amount}元或报县级决定核销",
                    start=workflow_today(),
                    period=policy.overpayment_recovery,
                    reminder_lead=policy.reminder_lead,
                    responsible_role=Role.COUNTY_OFFICER,
                    responsible_area=s.area.county,
                    escalation_role=Role.COUNTY_OFFICER,
                    escalation_area=s.area.county[:4],
                    basis=BASIS_ENDED if s.ended else BASIS,
                )
            )
            months = "、".join(line.period for line in s.lines)
            await self._record(
                "open",
                None,
                f"救助于{s.since:%Y年%m月}发放完毕后终止，其后已发放{months}的救助金，"
                f"应追回共{s.amount}元"
                if s.ended
                else f"{s.deceased_name}于{s.since:%Y-%m-%d}死亡，其后已发放{months}的救助金，"
                f"应追回其份额共{s.amount}元",
                amount=str(s.amount),
                lines=[line.model_dump(mode="json") for line in s.lines],
            )
        self.ready = True
        await self.alarm.serve(lambda: s.closed, self.lock, self.book.on_wake)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    # --- query, signal, updates ------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> RecoveryState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded: recompute a provisional deadline."""
        async with self.lock:
            await self.book.recompute_provisional()

    @workflow.update(name=RECORD_REPAYMENT)
    async def record_repayment(self, cmd: RecordRepayment) -> RecoveryStepResult:
        """Money repaid by the estate, a next of kin or the recipient (at most the balance);
        a balance of 0 closes the receivable as recovered."""
        async with self._step():
            s = self.state
            check_repayment(s, cmd, workflow_today())
            s.repayments.append(
                Repayment(
                    amount=cmd.amount,
                    payer_kind=cmd.payer_kind,
                    payer_name=cmd.payer_name,
                    reference=cmd.reference,
                    paid_on=cmd.paid_on,
                    recorded_by=cmd.actor,
                    recorded_at=workflow.now(),
                )
            )
            s.recovered += cmd.amount
            s.balance -= cmd.amount
            payer = PAYER_NAMES_ZH[cmd.payer_kind] + (f"{cmd.payer_name}" if cmd.payer_name else "")
            await self._record(
                "repayment",
                cmd.actor,
                f"{cmd.paid_on:%Y-%m-%d}由{payer}缴回{cmd.amount}元（凭证号{cmd.reference}），"
                f"余额{s.balance}元",
                amount=str(cmd.amount),
                payer_kind=cmd.payer_kind.value,
                reference=cmd.reference,
            )
            if s.balance == 0:
                await self._close(RecoveryStatus.RECOVERED, cmd.actor, "多发救助金已全部追回，办结")
            return self._result()

    @record_repayment.validator
    def _validate_repayment(self, cmd: RecordRepayment) -> None:
        check_repayment(self.state, cmd, workflow_today())

    @workflow.update(name=WRITE_OFF)
    async def write_off(self, cmd: WriteOff) -> RecoveryStepResult:
        """The county decided to write off what is left (e.g. no estate and no next of kin):
        the balance is written off under the recorded decision and the receivable closes."""
        async with self._step():
            s = self.state
            check_write_off(s, cmd, workflow_today())
            s.write_off = WriteOffRecord(
                amount=s.balance,
                document_number=cmd.document_number,
                decided_on=cmd.decided_on,
                reason_zh=cmd.reason_zh,
                recorded_by=cmd.actor,
                recorded_at=workflow.now(),
            )
            s.written_off, s.balance = s.balance, Decimal("0.00")
            await self._close(
                RecoveryStatus.WRITTEN_OFF,
                cmd.actor,
                f"县级决定（{cmd.document_number}，{cmd.decided_on:%Y-%m-%d}）核销余额"
                f"{s.written_off}元：{cmd.reason_zh}",
                document_number=cmd.document_number,
                decided_on=cmd.decided_on.isoformat(),
            )
            return self._result()

    @write_off.validator
    def _validate_write_off(self, cmd: WriteOff) -> None:
        check_write_off(self.state, cmd, workflow_today())

    # --- closing and publishing ------------------------------------------------------------
    async def _close(
        self, status: RecoveryStatus, actor: Actor, note_zh: str, **detail: object
    ) -> None:
        s = self.state
        s.status = status
        s.closed_at = workflow.now()
        await self.book.meet(RECOVERY_DEADLINE)
        await self._record("close", actor, note_zh, outcome=status.value, **detail)

    def _result(self) -> RecoveryStepResult:
        s = self.state
        return RecoveryStepResult(
            recovery_id=s.recovery_id,
            status=s.status,
            balance=s.balance,
            recovered=s.recovered,
            written_off=s.written_off,
        )

    def _snapshot(self) -> CaseSnapshot:
        s = self.state
        d = self.book.get(RECOVERY_DEADLINE)
        return self._case_snapshot(
            programme=s.programme,
            area_code=s.area.code,
            household_id=s.household_id,
            applicant_name=s.person_name,
            applicant_id_number=s.person_id_number,
            household_size=s.covered_members,
            linked_case_id=s.entitlement_id,
            detail={
                "amount": str(s.amount),
                "balance": str(s.balance),
                "recovered": str(s.recovered),
                "written_off": str(s.written_off),
                "date_of_death": s.date_of_death.isoformat() if s.date_of_death else None,
                "payee_name": s.payee_name,
                "due_date": d.due_date.isoformat() if d else None,
                "periods": [line.period for line in s.lines],
                **(
                    {"cause": s.cause.value, "last_payable_month": s.since.isoformat()}
                    if s.ended
                    else {}
                ),
            },
        )
