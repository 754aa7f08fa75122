"""The referral workflow (转介): one need of a household, found in a case, handed to the
department that provides that assistance, with a feedback deadline and the department's answer
recorded — a link of the household's one assistance chain (seed 001 二(二)1(3): 各相关部门要及时
将救助帮扶信息反馈…形成"一户（人）一条救助链"，避免救助遗漏或重复救助).

The API starts it naming the source case (an application, an entitlement or a temporary case);
it records what was asked and opens the policy's ``referral_feedback`` deadline from the
referral's date: the county officer who chases the department is reminded before it, and the
city is told when it passes (the deadline book). A county officer records the department's
answer on its behalf (granted with an optional amount, declined, or redirected, with the
department's reference); the referring side may withdraw a referral still awaiting an answer.
Either closes the referral and the workflow completes. Each step is published to the read model
(``case_record``, kind ``referral``), the referral register (``referral``) and the audit log in
one activity."""

import asyncio

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher, CaseSteps
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.policy import PolicyActivities, PolicyRequest
    from activities.referrals.activities import ReferralActivities
    from activities.referrals.models import RecordReferral, ReferralRegisterRow
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import workflow_today
    from jiuzhu.contract import CaseKind, Role
    from jiuzhu.records import AuditRecord, CaseSnapshot
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.referrals.checks import check_answer, check_withdraw
    from workflows.referrals.contract import (
        DEPARTMENT_NAMES_ZH,
        FEEDBACK_DEADLINE,
        GET_STATE,
        NEED_NAMES_ZH,
        OUTCOME_NAMES_ZH,
        RECORD_ANSWER,
        REFERRAL_WORKFLOW_TYPE,
        STATUS_LABELS_ZH,
        WITHDRAW,
        ReferralStatus,
    )
    from workflows.referrals.models import (
        AnswerRecord,
        RecordAnswer,
        ReferralInput,
        ReferralState,
        ReferralStepResult,
        Withdraw,
        WithdrawalRecord,
    )

BASIS = (
    "seed 001 二(二)1(3)：各相关部门要及时将救助帮扶信息反馈，形成一户（人）一条救助链，"
    "避免救助遗漏或重复救助（期限：地方政策 referral_feedback）"
)


@workflow.defn(name=REFERRAL_WORKFLOW_TYPE)
class ReferralWorkflow(CaseSteps[ReferralState]):
    @workflow.init
    def __init__(self, inp: ReferralInput) -> None:
        self.state = ReferralState(
            area=AreaRef.of(inp.area_code),
            **inp.model_dump(exclude={"area_code"}),
        )
        self.alarm = Alarm()
        self.book = DeadlineBook(self.state.deadlines, inp.referral_id, self._publish, self.alarm)
        self.publisher = CasePublisher(CaseKind.REFERRAL, STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.ready = False

    @workflow.run
    async def run(self, inp: ReferralInput) -> ReferralState:
        s = self.state
        self.publisher.static(
            programme=s.department.value, area=s.area, household_id=s.household_id
        )
        policy = await call(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.area.code, on=s.asked_on),
        )
        s.policy_version_id = policy.version_id
        department = DEPARTMENT_NAMES_ZH[s.department]
        async with self.lock:
            await self.book.start(
                DeadlineSpec(
                    name=FEEDBACK_DEADLINE,
                    label_zh=f"{department}反馈{s.person_name}的「{NEED_NAMES_ZH[s.need]}」转介",
                    start=s.asked_on,
                    period=policy.referral_feedback,
                    reminder_lead=policy.reminder_lead,
                    responsible_role=Role.COUNTY_OFFICER,
                    responsible_area=s.area.county,
                    escalation_role=Role.COUNTY_OFFICER,
                    escalation_area=s.area.county[:4],
                    basis=BASIS,
                )
            )
            repeat = f"（重复转介，理由：{s.repeat_reason}）" if s.repeat_reason else ""
            await self._record(
                "refer",
                s.referred_by,
                f"转介{department}：{NEED_NAMES_ZH[s.need]}（{s.person_name}）— {s.request_zh}"
                + repeat,
                source_case_id=s.source_case_id,
                department=s.department.value,
                need=s.need.value,
                duplicate_of=list(s.duplicate_of),
            )
        self.ready = True
        await self.alarm.serve(lambda: s.closed, self.lock, self.book.on_wake)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    # --- query, signal, updates ------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> ReferralState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded: recompute a provisional deadline."""
        async with self.lock:
            await self.book.recompute_provisional()

    @workflow.update(name=RECORD_ANSWER)
    async def record_answer(self, cmd: RecordAnswer) -> ReferralStepResult:
        """The department's answer, recorded by a county officer: meets the feedback deadline
        and closes the referral."""
        async with self._step():
            s = self.state
            check_answer(s, cmd, workflow_today())
            s.answer = AnswerRecord(
                outcome=cmd.outcome,
                answer_zh=cmd.answer_zh,
                answered_on=cmd.answered_on,
                department_reference=cmd.department_reference,
                amount=cmd.amount,
                recorded_by=cmd.actor,
                recorded_at=workflow.now(),
            )
            s.status = ReferralStatus.ANSWERED
            s.closed_at = workflow.now()
            await self.book.meet(FEEDBACK_DEADLINE, on=cmd.answered_on)
            amount = f"，金额{cmd.amount}元" if cmd.amount is not None else ""
            ref = f"（{cmd.department_reference}）" if cmd.department_reference else ""
            await self._record(
                "answer",
                cmd.actor,
                f"{DEPARTMENT_NAMES_ZH[s.department]}于{cmd.answered_on:%Y-%m-%d}反馈{ref}："
                f"{OUTCOME_NAMES_ZH[cmd.outcome]}{amount} — {cmd.answer_zh}",
                outcome=cmd.outcome.value,
                answered_on=cmd.answered_on.isoformat(),
                amount=str(cmd.amount) if cmd.amount is not None else None,
                department_reference=cmd.department_reference,
            )
            return self._result()

    @record_answer.validator
    def _validate_answer(self, cmd: RecordAnswer) -> None:
        check_answer(self.state, cmd, workflow_today())

    @workflow.update(name=WITHDRAW)
    async def withdraw(self, cmd: Withdraw) -> ReferralStepResult:
        """The referring side withdraws a referral still awaiting an answer (e.g. referred to
        the wrong department); the deadline is cancelled."""
        async with self._step():
            s = self.state
            check_withdraw(s, cmd)
            s.withdrawal = WithdrawalRecord(
                reason_zh=cmd.reason_zh, recorded_by=cmd.actor, recorded_at=workflow.now()
            )
            s.status = ReferralStatus.WITHDRAWN
            s.closed_at = workflow.now()
            await self.book.cancel(FEEDBACK_DEADLINE)
            await self._record("withdraw", cmd.actor, f"撤回转介：{cmd.reason_zh}")
            return self._result()

    @withdraw.validator
    def _validate_withdraw(self, cmd: Withdraw) -> None:
        check_withdraw(self.state, cmd)

    # --- publishing ------------------------------------------------------------------------
    def _result(self) -> ReferralStepResult:
        s = self.state
        return ReferralStepResult(
            referral_id=s.referral_id,
            status=s.status,
            outcome=s.answer.outcome if s.answer else None,
        )

    def _snapshot(self) -> CaseSnapshot:
        s = self.state
        d = self.book.get(FEEDBACK_DEADLINE)
        a = s.answer
        return self._case_snapshot(
            programme=s.department.value,
            area_code=s.area.code,
            household_id=s.household_id,
            applicant_name=s.person_name,
            applicant_id_number=s.person_id_number,
            household_size=1,
            linked_case_id=s.source_case_id,
            detail={
                "department": s.department.value,
                "need": s.need.value,
                "source_kind": s.source_kind.value,
                "asked_on": s.asked_on.isoformat(),
                "due_date": d.due_date.isoformat() if d else None,
                "outcome": a.outcome.value if a else None,
            },
        )

    async def _store(self, snapshot: CaseSnapshot, audit: list[AuditRecord]) -> None:
        """The case row, the referral register's row and the audit lines in one write."""
        s = self.state
        d = self.book.get(FEEDBACK_DEADLINE)
        a = s.answer
        row = ReferralRegisterRow(
            referral_id=s.referral_id,
            workflow_id=workflow.info().workflow_id,
            household_id=s.household_id,
            source_case_id=s.source_case_id,
            source_kind=s.source_kind.value,
            source_programme=s.source_programme,
            department=s.department.value,
            need=s.need.value,
            person_name=s.person_name,
            person_id_number=s.person_id_number,
            request_zh=s.request_zh,
            area_code=s.area.code,
            county_code=s.area.county,
            status=s.status.value,
            asked_on=s.asked_on,
            referred_by=s.referred_by.officer_id,
            referred_at=s.referred_at,
            due_date=d.due_date if d else None,
            reminded=bool(d and d.reminded_at),
            escalated=bool(d and d.escalated_at),
            repeat_reason=s.repeat_reason,
            answer_outcome=a.outcome.value if a else None,
            answer_zh=a.answer_zh if a else None,
            answered_on=a.answered_on if a else None,
            answered_at=a.recorded_at if a else None,
            answer_amount=a.amount if a else None,
            department_reference=a.department_reference if a else None,
            answered_by=a.recorded_by.officer_id if a else None,
            closed_at=s.closed_at,
            revision=s.revision,
        )
        await call(
            ReferralActivities.record_referral,
            RecordReferral(snapshot=snapshot, row=row, audit=audit),
        )
