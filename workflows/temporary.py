"""The temporary-assistance workflow (临时救助, DOMAIN §6): one durable workflow per case.

- 急难型 (emergency): a township officer grants a small prepayment at once from the township
  reserve fund (小金额先行救助, up to ``policy.prepayment_cap``), skipping verification, appraisal
  and publicity; a justification deadline (``policy.prepayment_justification``, default 10
  working days; reminder to the township before, escalation to the county after) runs until the
  township records who was helped, why, how much, the investigation and its signature
  (事后补充说明); the county accepts it or rejects it, which opens recovery (追回) of the amount.
- 一事一议: a need above the township's cap goes to the county coordination mechanism, which
  decides the amount and may approve staged payments (一次审批、分阶段救助) paid on their dates.
- 支出型 (normal procedure): the application workflow runs the statutory steps as a child
  (apply → accept → investigate → publicity → decision, refusal notice within 3 working days);
  this workflow pays the approved amount.

Sources: 国发〔2014〕47号, 民发〔2018〕23号; deadlines and caps are policy parameters.
Human steps are Updates with validators (state, role, area, data); nothing is recorded for a
refused step. Money moves only through idempotent activities keyed by case (+ stage)."""

import asyncio
import functools
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import SHANGHAI, DeadlineActivities
    from activities.policy import PolicyActivities, PolicyRequest
    from activities.reserve_fund import (
        INSUFFICIENT_FUNDS,
        NO_RESERVE_FUND,
        ReserveFundActivities,
    )
    from activities.temporary import EVENT_ALREADY_AIDED, TemporaryActivities
    from jiuzhu.contract import (
        SA_AREA,
        SA_CASE_KIND,
        SA_COUNTY,
        SA_HOUSEHOLD,
        SA_NEXT_DEADLINE,
        SA_OVERDUE,
        SA_PROGRAMME,
        SA_PROVISIONAL,
        SA_STATUS,
        SA_TOWNSHIP,
        Actor,
        CaseKind,
        Role,
        application_workflow_id,
    )
    from jiuzhu.deadline_models import DeadlineSpec
    from jiuzhu.records import AuditRecord, CaseSnapshot, OutboxItem
    from rules.areas import county_of, township_of
    from rules.id_number import validate_id_number
    from rules.money import format_yuan
    from rules.programmes import Programme
    from workflows.application import ApplicationWorkflow, initial_search_attributes
    from workflows.application_models import (
        ApplicationInput,
        ApplicationState,
        ApplicationStatus,
        TimelineEntry,
    )
    from workflows.deadlines import DeadlineBook
    from workflows.temporary_models import (
        CalendarChanged,
        ChildApplication,
        CloseCase,
        DecideSpecial,
        EventClaim,
        GrantPrepayment,
        Justification,
        JustificationReview,
        PaymentOrder,
        PaymentRecord,
        PendingLookup,
        Prepayment,
        PrepaymentDebit,
        PrepaymentRow,
        RecordRecovery,
        Recovery,
        RecoveryCredit,
        RecoveryEntry,
        RecoveryOpen,
        Referral,
        ReferToCounty,
        ReviewJustification,
        Signature,
        SpecialDecision,
        Stage,
        SubmitJustification,
        TemporaryCaseInput,
        TemporaryCaseState,
        TemporaryOutcome,
        TemporaryProcedure,
        TemporaryRecord,
        TemporaryStatus,
    )
    from workflows.temporary_rules import (
        Problem,
        application_id_for_case,
        award_key,
        check_prepayment_amount,
        check_referral_amount,
        check_special_decision,
        one_off_floor,
        prepayment_key,
        recovery_key,
        stage_key,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Money-moving activities called from an update: bounded retries so an officer gets an answer;
# each is idempotent by key, so the officer's retry of the step completes the same payment.
MONEY_RETRY = RetryPolicy(maximum_attempts=8, maximum_interval=timedelta(seconds=10))
JUSTIFICATION = "prepayment_justification"
BUSINESS_REFUSALS = (INSUFFICIENT_FUNDS, NO_RESERVE_FUND, EVENT_ALREADY_AIDED)

# Types of refusal, mapped by the API: WrongState → 409, Forbidden → 403, InvalidData → 422.
WRONG_STATE = "WrongState"
FORBIDDEN = "Forbidden"
INVALID = "InvalidData"


def _today() -> date:
    """Today in Beijing time, from the workflow clock (deterministic on replay)."""
    return workflow.now().astimezone(SHANGHAI).date()


def refuse(kind: str, message: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(message, {"field": field}, type=kind, non_retryable=True)


def invalid(problem: Problem) -> ApplicationError:
    return refuse(INVALID, problem.message, problem.field)


def temporary_search_attributes(inp: TemporaryCaseInput) -> TypedSearchAttributes:
    """Set at start so a case is findable in the Web UI from its first moment."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.TEMPORARY.value),
            SearchAttributePair(SA_PROGRAMME, Programme.TEMPORARY.value),
            SearchAttributePair(SA_STATUS, TemporaryStatus.REGISTERED.value),
            SearchAttributePair(SA_AREA, inp.area_code),
            SearchAttributePair(SA_COUNTY, county_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_TOWNSHIP, township_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_HOUSEHOLD, inp.household_id),
            SearchAttributePair(SA_OVERDUE, False),
        ]
    )


@workflow.defn
class TemporaryCaseWorkflow:
    @workflow.init
    def __init__(self, inp: TemporaryCaseInput) -> None:
        if inp.resume is not None:
            self.state = inp.resume
        else:
            self.state = TemporaryCaseState(
                case_id=inp.case_id,
                procedure=inp.procedure,
                area_code=inp.area_code,
                household_id=inp.household_id,
                members=inp.members,
                event=inp.event,
                card_account=inp.card_account,
                requested_amount=inp.requested_amount,
                repeat_reason=inp.repeat_reason,
                registered_by=inp.registered_by,
                registered_at=inp.registered_at,
            )
        self.book = DeadlineBook(self.state.deadlines, self.state.case_id, self._publish)
        self.lock = asyncio.Lock()

    # --- run -----------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: TemporaryCaseInput) -> TemporaryCaseState:
        if inp.resume is None:
            async with self.lock:
                await self._register()
        else:
            self.book.resume()
        if self.state.procedure is TemporaryProcedure.NORMAL and self.state.closed_at is None:
            await self._run_application()
        while self.state.closed_at is None:
            stage = self._next_stage()
            timeout: float | None = None
            if stage is not None:
                timeout = (self._stage_instant(stage) - workflow.now()).total_seconds()
                if timeout <= 0:
                    async with self.lock:
                        await self._pay_stage(stage)
                        await self._maybe_close()
                    continue
            watched = stage.payment_key if stage else None
            try:
                await workflow.wait_condition(
                    functools.partial(self._should_wake, watched), timeout=timeout
                )
            except TimeoutError:
                pass
            if self.state.closed_at is None and workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(lambda: not self.lock.locked())
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp.model_copy(update={"resume": self.state}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    def _should_wake(self, watched: str | None) -> bool:
        """Closed, a new stage plan (or the stage paid), or history long enough to continue as
        new."""
        return (
            self.state.closed_at is not None
            or self._next_key() != watched
            or workflow.info().is_continue_as_new_suggested()
        )

    async def _register(self) -> None:
        """Policy in force on the day the case is registered (DOMAIN §9), the link to a pending
        低保/特困 application (DOMAIN §6), the registration record."""
        s = self.state
        s.policy = await workflow.execute_activity_method(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.area_code, on=_today()),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        s.policy_version_id = s.policy.version_id
        pending = await workflow.execute_activity_method(
            TemporaryActivities.find_pending_application,
            PendingLookup(
                household_id=s.household_id, member_id_numbers=[m.id_number for m in s.members]
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        audit_extra: list[AuditRecord] = []
        if pending is not None:
            s.linked_case_id = pending.case_id
            audit_extra.append(
                AuditRecord(
                    dedupe_key=f"{workflow.info().workflow_id}:linked:{pending.case_id}",
                    at=workflow.now(),
                    case_id=pending.case_id,
                    workflow_id=workflow.info().workflow_id,
                    action="temporary_assistance_linked",
                    actor=s.registered_by,
                    detail={"temporary_case_id": s.case_id},
                )
            )
        note = (
            "登记临时救助（急难型）"
            if s.procedure is TemporaryProcedure.EMERGENCY
            else "申请临时救助（支出型）"
        )
        if pending is not None:
            note += f"；关联待审核的{pending.programme}申请{pending.case_id}"
        await self._record(
            "register",
            s.registered_by,
            note,
            extra_audit=audit_extra,
            procedure=s.procedure.value,
            event_type=s.event.event_type.value,
            event_date=s.event.event_date.isoformat(),
            linked_case_id=s.linked_case_id,
            repeat_reason=s.repeat_reason,
        )

    async def _registered(self) -> None:
        """Updates may arrive before ``run`` has loaded the policy (handlers run first in the
        first activation): wait for registration before taking the lock."""
        await workflow.wait_condition(lambda: self.state.policy is not None)

    # --- queries and signals ---------------------------------------------------------------
    @workflow.query
    def get_state(self) -> TemporaryCaseState:
        return self.state

    @workflow.signal(name="calendar_changed")
    async def calendar_changed(self, change: CalendarChanged | None = None) -> None:
        """A year's working-day schedule was loaded: provisional deadlines are recomputed."""
        async with self.lock:
            await self.book.recompute_provisional()

    # --- common checks ---------------------------------------------------------------------
    def _check_actor(self, actor: Actor, *roles: Role) -> None:
        if actor.role not in roles:
            raise refuse(FORBIDDEN, f"角色{actor.role.value}无权办理此事项")
        if not actor.covers(self.state.area_code):
            raise refuse(
                FORBIDDEN, f"案件所在地{self.state.area_code}不在您的辖区{actor.area_code}内"
            )

    def _check_open(self) -> None:
        if self.state.closed_at is not None:
            raise refuse(WRONG_STATE, "案件已办结")

    # --- 急难型: prepayment ----------------------------------------------------------------
    @workflow.update
    async def grant_prepayment(self, cmd: GrantPrepayment) -> TemporaryCaseState:
        """小金额先行救助 (民发〔2018〕23号): debit the reserve fund and issue the instruction
        first (one activity, one transaction), then change state; a refusal leaves no trace."""
        await self._registered()
        async with self.lock:
            self._validate_grant(cmd)
            s = self.state
            assert s.policy is not None
            township = township_of(s.area_code) or s.area_code
            key = prepayment_key(s.case_id)
            today = _today()
            applicant = s.applicant
            try:
                debit = await workflow.execute_activity_method(
                    ReserveFundActivities.debit_prepayment,
                    PrepaymentDebit(
                        case_id=s.case_id,
                        township_code=township,
                        county_code=county_of(s.area_code) or s.area_code,
                        area_code=s.area_code,
                        household_id=s.household_id,
                        idempotency_key=key,
                        amount=cmd.amount,
                        payee_name=s.card_account.holder_name or applicant.name,
                        payee_id_number=s.card_account.holder_id_number or applicant.id_number,
                        card_account=s.card_account.account_number,
                        period=today.isoformat(),
                        actor=cmd.actor,
                        note_zh=f"先行救助：{cmd.reason_zh}",
                        claim=self._claim(cmd.repeat_reason),
                    ),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=MONEY_RETRY,
                )
            except ActivityError as err:
                raise self._business_refusal(err) from None
            now = workflow.now()
            s.prepayment = Prepayment(
                amount=debit.amount,
                reason_zh=cmd.reason_zh,
                granted_by=cmd.actor,
                granted_at=now,
                payment_key=key,
                ledger_entry_id=debit.ledger_entry_id,
                fund_balance_after=debit.balance_after,
                repeat_reason=cmd.repeat_reason or s.repeat_reason,
            )
            s.payments.append(
                PaymentRecord(
                    idempotency_key=key,
                    kind="prepayment",
                    funding_source="reserve_fund",
                    amount=debit.amount,
                    period=today.isoformat(),
                    issued_at=now,
                )
            )
            await self.book.start(
                DeadlineSpec(
                    name=JUSTIFICATION,
                    label_zh="先行救助事后补充说明",
                    start=today,
                    period=s.policy.prepayment_justification,
                    reminder_lead=s.policy.reminder_lead,
                    responsible_role=Role.TOWNSHIP_OFFICER,
                    responsible_area=township,
                    escalation_role=Role.COUNTY_OFFICER,
                    escalation_area=county_of(s.area_code) or s.area_code,
                    basis="民发〔2018〕23号：小金额先行救助，事后补充说明；期限为本地政策参数",
                )
            )
            await self._record(
                "prepayment",
                cmd.actor,
                f"先行救助{format_yuan(debit.amount)}（备用金支出，余额{format_yuan(debit.balance_after)}）",
                amount=str(debit.amount),
                reason_zh=cmd.reason_zh,
                payment_key=key,
                ledger_entry_id=debit.ledger_entry_id,
                repeat_reason=cmd.repeat_reason,
            )
            return self.state

    @grant_prepayment.validator
    def _validate_grant(self, cmd: GrantPrepayment) -> None:
        s = self.state
        self._check_actor(cmd.actor, Role.TOWNSHIP_OFFICER)
        self._check_open()
        if s.procedure is not TemporaryProcedure.EMERGENCY:
            raise refuse(WRONG_STATE, "支出型临时救助按审核审批程序办理，不适用先行救助")
        if s.prepayment is not None:
            raise refuse(WRONG_STATE, "本案已先行救助")
        if s.policy is not None:
            problem = check_prepayment_amount(cmd.amount, s.policy)
            if problem is not None:
                raise invalid(problem)

    def _claim(self, repeat_reason: str | None) -> EventClaim:
        s = self.state
        return EventClaim(
            case_id=s.case_id,
            member_id_numbers=[m.id_number for m in s.members],
            event_type=s.event.event_type,
            event_date=s.event.event_date,
            repeat_reason=repeat_reason or s.repeat_reason,
        )

    @staticmethod
    def _business_refusal(err: ActivityError) -> BaseException:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in BUSINESS_REFUSALS:
            return ApplicationError(
                cause.message, *cause.details, type=cause.type, non_retryable=True
            )
        return err

    # --- justification -------------------------------------------------------------------
    @workflow.update
    async def submit_justification(self, cmd: SubmitJustification) -> TemporaryCaseState:
        """事后补充说明 with the township's signature (民发〔2018〕23号: 补齐审核审批手续);
        meets the justification deadline (late if already escalated)."""
        await self._registered()
        async with self.lock:
            self._validate_justification(cmd)
            s = self.state
            assert s.prepayment is not None
            deadline = self.book.get(JUSTIFICATION)
            late = deadline is not None and workflow.now() >= deadline.due_at
            applicant = s.applicant
            s.prepayment.justification = Justification(
                beneficiary_name=cmd.beneficiary_name or applicant.name,
                beneficiary_id_number=cmd.beneficiary_id_number or applicant.id_number,
                reason_zh=cmd.reason_zh,
                amount=cmd.amount,
                investigation=cmd.investigation,
                township_signature=Signature(
                    officer=cmd.actor, signed_at=workflow.now(), opinion_zh=cmd.opinion_zh
                ),
                late=late,
            )
            await self.book.meet(JUSTIFICATION)
            await self._record(
                "justification",
                cmd.actor,
                "提交先行救助事后补充说明（乡镇签批）" + ("（逾期）" if late else ""),
                late=late,
                investigators=cmd.investigation.investigators,
            )
            return self.state

    @submit_justification.validator
    def _validate_justification(self, cmd: SubmitJustification) -> None:
        s = self.state
        self._check_actor(cmd.actor, Role.TOWNSHIP_OFFICER)
        self._check_open()
        p = s.prepayment
        if p is None:
            raise refuse(WRONG_STATE, "本案没有先行救助，无需补充说明")
        if p.justification is not None or p.review is not None:
            raise refuse(WRONG_STATE, "补充说明已提交")
        if cmd.amount != p.amount:
            raise invalid(
                Problem(
                    "amount",
                    f"补充说明金额{format_yuan(cmd.amount)}与先行救助金额"
                    f"{format_yuan(p.amount)}不一致",
                )
            )
        if cmd.beneficiary_id_number is not None:
            try:
                number = validate_id_number(cmd.beneficiary_id_number)
            except ValueError as exc:
                raise invalid(Problem("beneficiary_id_number", str(exc))) from None
            if number not in {m.id_number for m in s.members}:
                raise invalid(Problem("beneficiary_id_number", "受助人不是本案家庭成员"))
        if cmd.investigation.investigated_on > _today():
            raise invalid(Problem("investigation.investigated_on", "调查日期晚于今天"))
        if len({i.strip() for i in cmd.investigation.investigators}) < 2:
            raise invalid(Problem("investigation.investigators", "入户调查须有2名以上工作人员"))

    @workflow.update
    async def review_justification(self, cmd: ReviewJustification) -> TemporaryCaseState:
        """The county record: accept the justification, or reject it (also when none came in
        time), which opens recovery of the amount."""
        await self._registered()
        async with self.lock:
            self._validate_review(cmd)
            s = self.state
            p = s.prepayment
            assert p is not None
            now = workflow.now()
            p.review = JustificationReview(
                accepted=cmd.accept,
                reason_zh=cmd.reason_zh,
                county_signature=Signature(
                    officer=cmd.actor, signed_at=now, opinion_zh=cmd.reason_zh
                ),
            )
            if cmd.accept:
                await self._record("justification_accepted", cmd.actor, "县级审核通过补充说明")
            else:
                await self.book.cancel(JUSTIFICATION)
                p.recovery = Recovery(amount_due=p.amount, opened_at=now)
                await workflow.execute_activity_method(
                    TemporaryActivities.open_recovery,
                    RecoveryOpen(
                        case_id=s.case_id,
                        workflow_id=workflow.info().workflow_id,
                        township_code=township_of(s.area_code) or s.area_code,
                        county_code=county_of(s.area_code) or s.area_code,
                        amount=p.amount,
                        reason_zh=cmd.reason_zh,
                        opened_by=cmd.actor,
                        opened_at=now,
                    ),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                )
                await self._record(
                    "justification_rejected",
                    cmd.actor,
                    f"县级审核不予通过：{cmd.reason_zh}；追回{format_yuan(p.amount)}",
                    reason_zh=cmd.reason_zh,
                    unjustified=p.justification is None,
                )
            await self._maybe_close()
            return self.state

    @review_justification.validator
    def _validate_review(self, cmd: ReviewJustification) -> None:
        self._check_actor(cmd.actor, Role.COUNTY_OFFICER)
        self._check_open()
        p = self.state.prepayment
        if p is None:
            raise refuse(WRONG_STATE, "本案没有先行救助")
        if p.review is not None:
            raise refuse(WRONG_STATE, "已审核")
        if p.justification is None:
            if cmd.accept:
                raise refuse(WRONG_STATE, "乡镇尚未提交补充说明，不能审核通过")
            d = self.book.get(JUSTIFICATION)
            if d is None or workflow.now() < d.due_at:
                raise refuse(WRONG_STATE, "补充说明期限未到，尚不能以未补充说明为由不予通过")
        if not cmd.accept and not cmd.reason_zh.strip():
            raise invalid(Problem("reason_zh", "不予通过须写明理由"))

    @workflow.update
    async def record_recovery(self, cmd: RecordRecovery) -> TemporaryCaseState:
        """A recovered amount is credited back to the reserve fund (idempotent per entry)."""
        await self._registered()
        async with self.lock:
            self._validate_recovery(cmd)
            s = self.state
            assert s.prepayment is not None and s.prepayment.recovery is not None
            rec = s.prepayment.recovery
            closes = cmd.amount == rec.outstanding
            n = len(rec.entries) + 1
            result = await workflow.execute_activity_method(
                ReserveFundActivities.credit_recovery,
                RecoveryCredit(
                    case_id=s.case_id,
                    township_code=township_of(s.area_code) or s.area_code,
                    dedupe_key=recovery_key(s.case_id, n),
                    amount=cmd.amount,
                    closes=closes,
                    actor=cmd.actor,
                    note_zh=f"追回先行救助款：{cmd.method_zh}",
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=MONEY_RETRY,
            )
            now = workflow.now()
            rec.entries.append(
                RecoveryEntry(
                    amount=cmd.amount,
                    recovered_on=cmd.recovered_on,
                    method_zh=cmd.method_zh,
                    recorded_by=cmd.actor,
                    recorded_at=now,
                    ledger_entry_id=result.ledger_entry_id,
                )
            )
            if closes:
                rec.closed_at = now
            await self._record(
                "recovery",
                cmd.actor,
                f"追回{format_yuan(cmd.amount)}，已退回备用金" + ("（追回完毕）" if closes else ""),
                amount=str(cmd.amount),
                ledger_entry_id=result.ledger_entry_id,
            )
            await self._maybe_close()
            return self.state

    @record_recovery.validator
    def _validate_recovery(self, cmd: RecordRecovery) -> None:
        self._check_actor(cmd.actor, Role.TOWNSHIP_OFFICER)
        self._check_open()
        p = self.state.prepayment
        if p is None or p.recovery is None or p.recovery.closed_at is not None:
            raise refuse(WRONG_STATE, "本案没有待追回的款项")
        if cmd.amount <= 0 or cmd.amount > p.recovery.outstanding:
            raise invalid(
                Problem(
                    "amount",
                    f"追回金额须大于0且不超过待追回金额{format_yuan(p.recovery.outstanding)}",
                )
            )
        if cmd.recovered_on > _today():
            raise invalid(Problem("recovered_on", "追回日期晚于今天"))

    # --- 一事一议 ----------------------------------------------------------------------------
    @workflow.update
    async def refer_to_county(self, cmd: ReferToCounty) -> TemporaryCaseState:
        """A need above the township's cap goes to the county coordination mechanism."""
        await self._registered()
        async with self.lock:
            self._validate_referral(cmd)
            s = self.state
            assert s.policy is not None
            problem = check_referral_amount(cmd.need_amount, s.policy)
            if problem is not None:
                raise invalid(problem)
            s.referral = Referral(
                need_amount=cmd.need_amount,
                situation_zh=cmd.situation_zh,
                referred_by=cmd.actor,
                referred_at=workflow.now(),
            )
            county = county_of(s.area_code) or s.area_code
            await workflow.execute_activity_method(
                DeadlineActivities.post_outbox,
                OutboxItem(
                    dedupe_key=f"{workflow.info().workflow_id}:referral",
                    kind="notice",
                    recipient_role=Role.COUNTY_OFFICER.value,
                    recipient_area=county,
                    case_id=s.case_id,
                    workflow_id=workflow.info().workflow_id,
                    message_zh=(
                        f"一事一议：案件{s.case_id}所需救助{format_yuan(cmd.need_amount)}"
                        f"超过乡镇先行救助上限，请提交县级困难群众基本生活保障工作协调机制研究。"
                    ),
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
            await self._record(
                "referral",
                cmd.actor,
                f"提请县级一事一议，所需救助{format_yuan(cmd.need_amount)}",
                need_amount=str(cmd.need_amount),
            )
            return self.state

    @refer_to_county.validator
    def _validate_referral(self, cmd: ReferToCounty) -> None:
        s = self.state
        self._check_actor(cmd.actor, Role.TOWNSHIP_OFFICER)
        self._check_open()
        if s.procedure is not TemporaryProcedure.EMERGENCY:
            raise refuse(WRONG_STATE, "支出型临时救助按审核审批程序办理")
        if s.referral is not None:
            raise refuse(WRONG_STATE, "已提请县级一事一议")
        if s.policy is not None:
            problem = check_referral_amount(cmd.need_amount, s.policy)
            if problem is not None:
                raise invalid(problem)

    @workflow.update
    async def decide_special(self, cmd: DecideSpecial) -> TemporaryCaseState:
        """一事一议 decision by the county; approved amounts are paid on their stage dates
        (一次审批、分阶段救助), each stage once (idempotency key: case + stage)."""
        await self._registered()
        async with self.lock:
            self._validate_special(cmd)
            s = self.state
            now = workflow.now()
            signature = Signature(officer=cmd.actor, signed_at=now, opinion_zh=cmd.reason_zh)
            if not cmd.approve:
                s.special_decision = SpecialDecision(
                    approved=False,
                    amount=Decimal("0.00"),
                    meeting_ref=cmd.meeting_ref,
                    reason_zh=cmd.reason_zh,
                    county_signature=signature,
                )
                await self._record(
                    "special_refused", cmd.actor, f"一事一议不予救助：{cmd.reason_zh}"
                )
                await self._maybe_close()
                return self.state
            assert cmd.amount is not None
            try:
                await workflow.execute_activity_method(
                    TemporaryActivities.claim_event,
                    self._claim(cmd.repeat_reason),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=MONEY_RETRY,
                )
            except ActivityError as err:
                raise self._business_refusal(err) from None
            plan = [(p.pay_on, p.amount) for p in cmd.stages] or [(_today(), cmd.amount)]
            s.special_decision = SpecialDecision(
                approved=True,
                amount=cmd.amount,
                stages=[
                    Stage(index=i, pay_on=d, amount=a, payment_key=stage_key(s.case_id, i))
                    for i, (d, a) in enumerate(plan, start=1)
                ],
                meeting_ref=cmd.meeting_ref,
                reason_zh=cmd.reason_zh,
                county_signature=signature,
                repeat_reason=cmd.repeat_reason,
            )
            await self._record(
                "special_decision",
                cmd.actor,
                f"一事一议批准救助{format_yuan(cmd.amount)}，分{len(plan)}次发放",
                amount=str(cmd.amount),
                stages=[{"pay_on": d.isoformat(), "amount": str(a)} for d, a in plan],
                meeting_ref=cmd.meeting_ref,
            )
            return self.state

    @decide_special.validator
    def _validate_special(self, cmd: DecideSpecial) -> None:
        s = self.state
        self._check_actor(cmd.actor, Role.COUNTY_OFFICER)
        self._check_open()
        if s.referral is None:
            raise refuse(WRONG_STATE, "本案未提请一事一议")
        if s.special_decision is not None:
            raise refuse(WRONG_STATE, "一事一议已作出决定")
        if not cmd.approve:
            if not cmd.reason_zh.strip():
                raise invalid(Problem("reason_zh", "不予救助须写明理由"))
            return
        if s.policy is None:
            raise refuse(WRONG_STATE, "案件尚在登记中，请稍后再试")
        problem = check_special_decision(
            cmd.amount, [(p.pay_on, p.amount) for p in cmd.stages], _today(), s.policy
        )
        if problem is not None:
            raise invalid(problem)

    def _next_stage(self) -> Stage | None:
        d = self.state.special_decision
        return d.next_unpaid() if d is not None and d.approved else None

    def _next_key(self) -> str | None:
        stage = self._next_stage()
        return stage.payment_key if stage else None

    @staticmethod
    def _stage_instant(stage: Stage) -> datetime:
        return datetime.combine(stage.pay_on, time(0, 0), tzinfo=SHANGHAI)

    async def _pay_stage(self, stage: Stage) -> None:
        s = self.state
        applicant = s.applicant
        await workflow.execute_activity_method(
            TemporaryActivities.issue_payment,
            PaymentOrder(
                idempotency_key=stage.payment_key,
                kind="staged",
                case_id=s.case_id,
                household_id=s.household_id,
                area_code=s.area_code,
                county_code=county_of(s.area_code) or s.area_code,
                period=stage.pay_on.isoformat(),
                amount=stage.amount,
                payee_name=s.card_account.holder_name or applicant.name,
                payee_id_number=s.card_account.holder_id_number or applicant.id_number,
                card_account=s.card_account.account_number,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        stage.paid_at = workflow.now()
        s.payments.append(
            PaymentRecord(
                idempotency_key=stage.payment_key,
                kind="staged",
                funding_source="county",
                amount=stage.amount,
                period=stage.pay_on.isoformat(),
                issued_at=stage.paid_at,
            )
        )
        total = len(s.special_decision.stages) if s.special_decision else 1
        await self._record(
            "stage_paid",
            None,
            f"分阶段救助第{stage.index}/{total}次发放{format_yuan(stage.amount)}",
            stage=stage.index,
            amount=str(stage.amount),
            payment_key=stage.payment_key,
        )

    # --- closing ---------------------------------------------------------------------------
    @workflow.update
    async def close_case(self, cmd: CloseCase) -> TemporaryCaseState:
        """Close a registered case that needs no aid (nothing paid, nothing pending)."""
        await self._registered()
        async with self.lock:
            self._validate_close(cmd)
            await self._close(TemporaryOutcome.CLOSED_WITHOUT_AID, cmd.reason_zh, cmd.actor)
            return self.state

    @close_case.validator
    def _validate_close(self, cmd: CloseCase) -> None:
        s = self.state
        self._check_actor(cmd.actor, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
        self._check_open()
        if s.procedure is TemporaryProcedure.NORMAL:
            raise refuse(WRONG_STATE, "支出型临时救助通过申请的撤回或决定办结")
        if s.prepayment is not None or s.referral is not None:
            raise refuse(WRONG_STATE, "本案已先行救助或已提请一事一议，不能直接办结")

    async def _maybe_close(self) -> None:
        """Close when every part is settled: the prepayment accepted or recovered, the
        referral decided, every stage paid."""
        s = self.state
        if s.closed_at is not None or s.procedure is not TemporaryProcedure.EMERGENCY:
            return
        p, r, d = s.prepayment, s.referral, s.special_decision
        if p is None and r is None:
            return
        if p is not None and not p.settled:
            return
        if r is not None and (d is None or (d.approved and d.next_unpaid() is not None)):
            return
        aided = (p is not None and p.review is not None and p.review.accepted) or (
            d is not None and d.approved
        )
        if aided:
            outcome, note = TemporaryOutcome.AIDED, "救助完毕，办结"
        elif p is not None:
            outcome, note = TemporaryOutcome.RECOVERED, "先行救助款已追回，办结"
        else:
            outcome, note = TemporaryOutcome.REFUSED, "一事一议不予救助，办结"
        await self._close(outcome, note, None)

    async def _close(self, outcome: TemporaryOutcome, note: str, actor: Actor | None) -> None:
        s = self.state
        s.outcome = outcome
        s.closed_at = workflow.now()
        s.closed_reason_zh = note
        await self.book.cancel_all()
        await self._record("close", actor, note, outcome=outcome.value)

    # --- 支出型: the application workflow as a child -----------------------------------------
    async def _run_application(self) -> None:
        """The normal procedure reuses the application workflow (its steps and deadlines):
        started as a child with Programme.TEMPORARY, the requested amount and this case's id;
        it returns its final ApplicationState; an approved amount is paid here."""
        s = self.state
        try:
            await workflow.execute_activity_method(
                TemporaryActivities.claim_event,
                self._claim(None),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=MONEY_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == EVENT_ALREADY_AIDED:
                async with self.lock:
                    await self._close(TemporaryOutcome.REFUSED, f"不予受理：{cause.message}", None)
                return
            raise
        app_id = application_id_for_case(s.case_id)
        wf_id = application_workflow_id(app_id)
        child_input = ApplicationInput(
            application_id=app_id,
            programme=Programme.TEMPORARY,
            area_code=s.area_code,
            household_id=s.household_id,
            members=s.members,
            submitted_by=s.registered_by,
            submitted_at=s.registered_at,
            requested_amount=s.requested_amount,
            linked_case_id=s.case_id,
        )
        child = await workflow.start_child_workflow(
            ApplicationWorkflow.run,
            child_input,
            id=wf_id,
            search_attributes=initial_search_attributes(child_input, "submitted"),
            parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
        )
        async with self.lock:
            s.application = ChildApplication(
                application_id=app_id, workflow_id=wf_id, started_at=workflow.now()
            )
            await self._record(
                "application_started",
                s.registered_by,
                f"按审核审批程序办理，申请{app_id}",
                application_id=app_id,
            )
        try:
            result: ApplicationState = await child
        except ChildWorkflowError as err:
            raise ApplicationError(
                f"申请{app_id}未正常结束：{err.cause}", type="ApplicationFailed", non_retryable=True
            ) from err
        status = result.status.value
        approved_amount = result.approved_amount
        async with self.lock:
            assert s.application is not None
            s.application.status = status
            s.application.approved_amount = approved_amount
            s.application.completed_at = workflow.now()
            if (
                result.status is ApplicationStatus.APPROVED
                and approved_amount is not None
                and approved_amount > 0
            ):
                await self._pay_award(Decimal(approved_amount))
                await self._close(TemporaryOutcome.AIDED, "审批通过，救助金已发放，办结", None)
            else:
                await workflow.execute_activity_method(
                    TemporaryActivities.release_event,
                    self._claim(None),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                )
                outcome = (
                    TemporaryOutcome.WITHDRAWN
                    if result.status is ApplicationStatus.WITHDRAWN
                    else TemporaryOutcome.REFUSED
                )
                await self._close(outcome, f"申请{app_id}结果：{status}，办结", None)

    async def _pay_award(self, amount: Decimal) -> None:
        s = self.state
        key = award_key(s.case_id)
        applicant = s.applicant
        today = _today()
        await workflow.execute_activity_method(
            TemporaryActivities.issue_payment,
            PaymentOrder(
                idempotency_key=key,
                kind="temporary",
                case_id=s.case_id,
                household_id=s.household_id,
                area_code=s.area_code,
                county_code=county_of(s.area_code) or s.area_code,
                period=today.isoformat(),
                amount=amount,
                payee_name=s.card_account.holder_name or applicant.name,
                payee_id_number=s.card_account.holder_id_number or applicant.id_number,
                card_account=s.card_account.account_number,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        s.payments.append(
            PaymentRecord(
                idempotency_key=key,
                kind="temporary",
                funding_source="county",
                amount=amount,
                period=today.isoformat(),
                issued_at=workflow.now(),
            )
        )
        floor = one_off_floor(s.policy) if s.policy is not None else Decimal("0.00")
        await self._record(
            "award_paid",
            None,
            f"发放临时救助金{format_yuan(amount)}"
            + (f"（低于一次性救助最低标准{format_yuan(floor)}）" if amount < floor else ""),
            amount=str(amount),
            payment_key=key,
            below_floor=amount < floor,
        )

    # --- publishing ------------------------------------------------------------------------
    def _derive_status(self) -> TemporaryStatus:
        s = self.state
        if s.closed_at is not None:
            return TemporaryStatus.CLOSED
        if s.application is not None and s.application.completed_at is None:
            return TemporaryStatus.IN_APPLICATION
        p = s.prepayment
        if p is not None:
            if p.recovery is not None and p.recovery.closed_at is None:
                return TemporaryStatus.RECOVERY
            if p.review is None:
                return (
                    TemporaryStatus.PREPAID
                    if p.justification is None
                    else TemporaryStatus.JUSTIFIED
                )
        if s.referral is not None and s.special_decision is None:
            return TemporaryStatus.REFERRED
        if self._next_stage() is not None:
            return TemporaryStatus.PAYING
        return TemporaryStatus.REGISTERED

    async def _publish(self) -> None:
        """Refresh search attributes and the read model after a deadline changed."""
        await self._write([])

    async def _record(
        self,
        action: str,
        actor: Actor | None,
        note_zh: str = "",
        extra_audit: list[AuditRecord] | None = None,
        **detail: object,
    ) -> None:
        """Append to the timeline; write read model, audit line and register together."""
        now = workflow.now()
        self.state.timeline.append(
            TimelineEntry(at=now, action=action, actor=actor, note_zh=note_zh)
        )
        audit = AuditRecord(
            dedupe_key=f"{workflow.info().workflow_id}:{len(self.state.timeline)}:{action}",
            at=now,
            case_id=self.state.case_id,
            workflow_id=workflow.info().workflow_id,
            action=action,
            actor=actor,
            policy_version_id=self.state.policy_version_id,
            detail={"note_zh": note_zh, **detail},
        )
        await self._write([audit, *(extra_audit or [])])

    async def _write(self, audit: list[AuditRecord]) -> None:
        s = self.state
        s.status = self._derive_status()
        s.revision += 1
        next_due = self.book.next_due()
        workflow.upsert_search_attributes(
            [
                SA_STATUS.value_set(s.status.value),
                SA_NEXT_DEADLINE.value_set(next_due)
                if next_due
                else SA_NEXT_DEADLINE.value_unset(),
                SA_OVERDUE.value_set(self.book.overdue()),
                SA_PROVISIONAL.value_set(self.book.has_provisional()),
            ]
        )
        await workflow.execute_activity_method(
            TemporaryActivities.record_case,
            TemporaryRecord(
                snapshot=self._snapshot(), audit=audit, prepayment=self._prepayment_row()
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    def _justification_overdue(self) -> bool:
        d = self.book.get(JUSTIFICATION)
        return d is not None and d.is_overdue(workflow.now())

    def _prepayment_row(self) -> PrepaymentRow | None:
        s = self.state
        p = s.prepayment
        if p is None:
            return None
        if p.review is None:
            status = "awaiting_justification" if p.justification is None else "awaiting_review"
        elif p.review.accepted:
            status = "accepted"
        else:
            status = "recovered" if p.settled else "recovery"
        d = self.book.get(JUSTIFICATION)
        return PrepaymentRow(
            case_id=s.case_id,
            workflow_id=workflow.info().workflow_id,
            area_code=s.area_code,
            applicant_name=s.applicant.name,
            amount=p.amount,
            granted_at=p.granted_at,
            justification_due=d.due_at if d is not None else None,
            justified_at=p.justification.township_signature.signed_at if p.justification else None,
            status=status,
            overdue=self._justification_overdue(),
            revision=s.revision,
        )

    def _snapshot(self) -> CaseSnapshot:
        s = self.state
        applicant = s.applicant
        d = self.book.get(JUSTIFICATION)
        return CaseSnapshot(
            case_id=s.case_id,
            workflow_id=workflow.info().workflow_id,
            case_kind=CaseKind.TEMPORARY.value,
            programme=Programme.TEMPORARY.value,
            status=s.status.value,
            area_code=s.area_code,
            household_id=s.household_id,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
            household_size=len(s.members),
            policy_version_id=s.policy_version_id,
            next_deadline=self.book.next_due(),
            overdue=self.book.overdue(),
            revision=s.revision,
            linked_case_id=s.linked_case_id,
            detail={
                "procedure": s.procedure.value,
                "event_type": s.event.event_type.value,
                "event_date": s.event.event_date.isoformat(),
                "prepayment_amount": str(s.prepayment.amount) if s.prepayment else None,
                "justification_due": d.due_at.isoformat() if d is not None else None,
                "application_id": s.application.application_id if s.application else None,
                "total_paid": str(s.total_paid),
                "outcome": s.outcome.value if s.outcome else None,
            },
        )
