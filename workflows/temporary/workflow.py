"""The temporary-assistance workflow (临时救助, DOMAIN §6): one durable workflow per case.

- 急难型 (``procedures/emergency.py``): a township officer grants a small prepayment at once from
  the township reserve fund, skipping verification, appraisal and publicity; a justification
  deadline runs until the township justifies it; the county accepts or rejects (recovery).
- 一事一议 (``procedures/special.py``): a need above the township's cap goes to the county,
  which decides the amount and may approve staged payments paid on their dates.
- 支出型 (``procedures/normal.py``): the application workflow runs as a child; an approved
  amount is paid here.

Human steps are Updates (names unchanged) with validators that delegate to the pure
``checks``; nothing is recorded for a refused step. Each Update returns a small ``StepResult``;
the API queries ``get_state``. Every wake-up (deadline reminders and escalations, payment
stages) is a key of the case's one ``Alarm``. Sources: 国发〔2014〕47号, 民发〔2018〕23号."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import workflow_today
    from rules.programmes import Programme
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.temporary import checks
    from workflows.temporary.contract import (
        CLOSE_CASE,
        DECIDE_SPECIAL,
        GET_STATE,
        GRANT_PREPAYMENT,
        JUSTIFICATION_DEADLINE,
        RECORD_RECOVERY,
        REFER_TO_COUNTY,
        REVIEW_JUSTIFICATION,
        SUBMIT_JUSTIFICATION,
        WORKFLOW_TYPE,
        TemporaryOutcome,
        TemporaryProcedure,
    )
    from workflows.temporary.models import (
        CloseCase,
        DecideSpecial,
        GrantPrepayment,
        RecordRecovery,
        ReferToCounty,
        ReviewJustification,
        StepResult,
        SubmitJustification,
        TemporaryCaseInput,
        TemporaryCaseState,
    )

# Workflow code stays sandboxed (workflows/sandbox.py); its contracts and payloads pass through.
from workflows.temporary.case import TemporaryCase
from workflows.temporary.procedures import emergency, normal, registration, special

# A case that lives long (a staged plan over many months, many calendar reloads) continues as
# new well before the server's limits; its state travels in the input.
HISTORY_BOUND = 5_000


@workflow.defn(name=WORKFLOW_TYPE)
class TemporaryCaseWorkflow:
    @workflow.init
    def __init__(self, inp: TemporaryCaseInput) -> None:
        if inp.resume is not None:
            state = inp.resume
        else:
            state = TemporaryCaseState(
                case_id=inp.case_id,
                procedure=inp.procedure,
                area_code=inp.area_code,
                area=AreaRef.of(inp.area_code),
                household_id=inp.household_id,
                members=inp.members,
                event=inp.event,
                card_account=inp.card_account,
                requested_amount=inp.requested_amount,
                repeat_reason=inp.repeat_reason,
                registered_by=inp.registered_by,
                registered_at=inp.registered_at,
            )
        self.case = TemporaryCase(state)

    @property
    def state(self) -> TemporaryCaseState:
        return self.case.state

    # --- run ----------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: TemporaryCaseInput) -> TemporaryCaseState:
        case = self.case
        case.publisher.static(
            programme=Programme.TEMPORARY.value, area=self.state.area, household_id=inp.household_id
        )
        if inp.resume is None:
            async with case.lock:
                await registration.register(case)
        else:
            case.book.resume()
            special.arm_stages(case)
        if self.state.procedure is TemporaryProcedure.NORMAL and not self._closed():
            await normal.run_application(case)
        while not self._closed():
            await case.alarm.sleep(self._should_stop)
            due = case.alarm.pop_due()
            if due:
                async with case.lock:
                    await self._on_wake(due)
            if not self._closed() and self._history_long():
                await workflow.wait_condition(lambda: not case.lock.locked())
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp.model_copy(update={"resume": self.state}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    def _closed(self) -> bool:
        return self.state.closed_at is not None

    def _should_stop(self) -> bool:
        return self._closed() or self._history_long()

    @staticmethod
    def _history_long() -> bool:
        """Time to continue as new: the server suggests it, or the history passed the bound."""
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested() or info.get_current_history_length() > HISTORY_BOUND
        )

    async def _on_wake(self, due: list[str]) -> None:
        """Payment stages first, then the deadline book's reminders and escalations."""
        await special.pay_due_stages(self.case, due)
        await self.case.book.on_wake(due)
        await self.case.settle()

    async def _registered(self) -> None:
        """An Update handler's first call. Before any ``await``, the alarm drops the timers no
        wake-up needs (``Alarm.drop_stale``). Updates may arrive before ``run`` has loaded the
        policy (handlers run first in the first activation): wait for registration before
        taking the lock."""
        self.case.alarm.drop_stale()
        await workflow.wait_condition(lambda: self.state.policy is not None)

    # --- query and signal ---------------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> TemporaryCaseState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, change: CalendarChanged | None = None) -> None:
        """A year's working-day schedule was loaded: provisional deadlines are recomputed."""
        async with self.case.lock:
            await self.case.book.recompute_provisional()

    # --- 急难型 -------------------------------------------------------------------------------
    @workflow.update(name=GRANT_PREPAYMENT)
    async def grant_prepayment(self, cmd: GrantPrepayment) -> StepResult:
        """小金额先行救助 from the township reserve fund."""
        await self._registered()
        async with self.case.lock:
            self._validate_grant(cmd)
            await emergency.grant_prepayment(self.case, cmd)
            return self.case.result()

    @grant_prepayment.validator
    def _validate_grant(self, cmd: GrantPrepayment) -> None:
        checks.check_grant(self.state, cmd)

    @workflow.update(name=SUBMIT_JUSTIFICATION)
    async def submit_justification(self, cmd: SubmitJustification) -> StepResult:
        """事后补充说明 with the township's signature."""
        await self._registered()
        async with self.case.lock:
            self._validate_justification(cmd)
            await emergency.submit_justification(self.case, cmd)
            return self.case.result()

    @submit_justification.validator
    def _validate_justification(self, cmd: SubmitJustification) -> None:
        checks.check_justification(self.state, cmd, workflow_today())

    @workflow.update(name=REVIEW_JUSTIFICATION)
    async def review_justification(self, cmd: ReviewJustification) -> StepResult:
        """The county accepts the justification, or rejects it (recovery opens)."""
        await self._registered()
        async with self.case.lock:
            self._validate_review(cmd)
            await emergency.review_justification(self.case, cmd)
            return self.case.result()

    @review_justification.validator
    def _validate_review(self, cmd: ReviewJustification) -> None:
        d = self.case.book.get(JUSTIFICATION_DEADLINE)
        checks.check_review(self.state, cmd, d.due_at if d else None, workflow.now())

    @workflow.update(name=RECORD_RECOVERY)
    async def record_recovery(self, cmd: RecordRecovery) -> StepResult:
        """A recovered amount, credited back to the reserve fund."""
        await self._registered()
        async with self.case.lock:
            self._validate_recovery(cmd)
            await emergency.record_recovery(self.case, cmd)
            return self.case.result()

    @record_recovery.validator
    def _validate_recovery(self, cmd: RecordRecovery) -> None:
        checks.check_recovery(self.state, cmd, workflow_today())

    # --- 一事一议 -----------------------------------------------------------------------------
    @workflow.update(name=REFER_TO_COUNTY)
    async def refer_to_county(self, cmd: ReferToCounty) -> StepResult:
        """A need above the township's cap goes to the county coordination mechanism."""
        await self._registered()
        async with self.case.lock:
            self._validate_referral(cmd)
            await special.refer_to_county(self.case, cmd)
            return self.case.result()

    @refer_to_county.validator
    def _validate_referral(self, cmd: ReferToCounty) -> None:
        checks.check_referral(self.state, cmd)

    @workflow.update(name=DECIDE_SPECIAL)
    async def decide_special(self, cmd: DecideSpecial) -> StepResult:
        """一事一议 decision by the county, optionally in stages."""
        await self._registered()
        async with self.case.lock:
            self._validate_special(cmd)
            await special.decide_special(self.case, cmd)
            return self.case.result()

    @decide_special.validator
    def _validate_special(self, cmd: DecideSpecial) -> None:
        checks.check_special(self.state, cmd, workflow_today())

    # --- closing ------------------------------------------------------------------------------
    @workflow.update(name=CLOSE_CASE)
    async def close_case(self, cmd: CloseCase) -> StepResult:
        """Close a registered case that needs no aid (nothing paid, nothing pending)."""
        await self._registered()
        async with self.case.lock:
            self._validate_close(cmd)
            await self.case.close(TemporaryOutcome.CLOSED_WITHOUT_AID, cmd.reason_zh, cmd.actor)
            return self.case.result()

    @close_case.validator
    def _validate_close(self, cmd: CloseCase) -> None:
        checks.check_close(self.state, cmd)
