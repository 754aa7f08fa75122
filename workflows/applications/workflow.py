"""The application workflow: one durable workflow per application, walking the statutory steps
of 低保 (低保办法, DOMAIN §3), 特困 (特困办法, §4), 低保边缘/刚性支出困难 recognition (§3 step 9)
and the normal procedure of temporary assistance (§6), with every legal clock inside it.

Each human step is a Workflow Update (in ``steps/``, one module per step group) whose validator
rejects a wrong state (409), a wrong role or area (403) or bad data (422) before anything is
recorded; the handler re-checks under the case lock, records the step (timeline, read model,
audit line with the policy version), moves the deadlines and returns a small ``StepResult``
(the full case is the ``get_state`` query). Automatic work — data verification, closing a
publicity, lapsing an unanswered notice — runs in the workflow itself. The case runs under the
policy in force on its acceptance date.

Cases started before ``light-history`` replay on the legacy path (regular activities, a loop
kicked by every step and waking one second before a publicity ends); new cases wake on the
case's ``Alarm``: the publicity closes at the end of its last day, before a deadline escalation
due at the same instant. A case whose history grows past ``history_bound`` events (or whose
server suggests it) continues as new, carrying its state and policy (``Resumption``)."""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

from jiuzhu.clock import beijing_date, end_of_day
from jiuzhu.publishing import CasePublisher
from jiuzhu.timers import Alarm
from jiuzhu.versions import (
    APPLICATION_BASELINE,
    KERNEL_PATCHES,
    ONE_HOUSEHOLD_CLAIM,
    ONE_HOUSEHOLD_RELEASE,
    ONE_HOUSEHOLD_TRANSFER,
    OPINION_BEFORE_CLOSE,
    OPINION_BEFORE_CLOSE_FIRST,
    Versions,
)
from workflows.applications.case import (
    DOCUMENTS_LAPSE,
    EDGE_EXPIRY,
    PUBLICITY_CLOSE,
    ApplicationCase,
)
from workflows.applications.steps.closing import SINGLE_PERSON_OFFER, ClosingSteps
from workflows.applications.steps.decision import RECOGNITION_REVIEW, DecisionSteps
from workflows.applications.steps.follow_on import KEYED_HOUSEHOLD_ID, FollowOnSteps
from workflows.applications.steps.intake import IntakeSteps
from workflows.applications.steps.investigation import InvestigationSteps
from workflows.applications.steps.publicity import PublicitySteps
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import Deadline
    from jiuzhu.areas import AreaRef
    from jiuzhu.contract import CaseKind
    from workflows.applications.checks import REFUSAL_KINDS
    from workflows.applications.contract import (
        GET_STATE,
        GET_STATUS,
        STATUS_LABELS_ZH,
        WORKFLOW_TYPE,
        ApplicationStatus,
    )
    from workflows.applications.models import ApplicationInput, ApplicationState, Resumption
    from workflows.applications.rules import PUBLICITY
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged

# Legacy path only: publicity runs to the end of its last day and the legacy loop moved the case
# on in that day's last second, so the publicity "deadline" was met, never escalated.
PUBLICITY_CLOSE_LEAD = timedelta(seconds=1)

# Every patch an application case started today takes (``Versions``): one baseline marker.
BASELINE_INCLUDES = KERNEL_PATCHES | {
    ONE_HOUSEHOLD_CLAIM,
    ONE_HOUSEHOLD_RELEASE,
    ONE_HOUSEHOLD_TRANSFER,
    OPINION_BEFORE_CLOSE,
    OPINION_BEFORE_CLOSE_FIRST,
    SINGLE_PERSON_OFFER,
    RECOGNITION_REVIEW,
    KEYED_HOUSEHOLD_ID,
}

FINAL_STATUSES = frozenset(
    {
        ApplicationStatus.APPROVED,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.TERMINATED,
        ApplicationStatus.LAPSED,
    }
)


@workflow.defn(name=WORKFLOW_TYPE)
class ApplicationWorkflow(
    IntakeSteps,
    InvestigationSteps,
    PublicitySteps,
    DecisionSteps,
    ClosingSteps,
    FollowOnSteps,
    ApplicationCase,
):
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        self.inp = inp
        self.state = (
            inp.resume.state
            if inp.resume
            else ApplicationState(
                application_id=inp.application_id,
                programme=inp.programme,
                area_code=inp.area_code,
                area=AreaRef.of(inp.area_code),
                household_id=inp.household_id,
                members=inp.members,
                submitted_by=inp.submitted_by,
                submitted_at=inp.submitted_at,
                applied_on=inp.applied_on or beijing_date(inp.submitted_at),
                requested_amount=inp.requested_amount,
                linked_case_id=inp.linked_case_id,
            )
        )
        # first: the baseline is asked before any other version of the run
        self.versions = Versions(APPLICATION_BASELINE, BASELINE_INCLUDES)
        self.alarm = Alarm(self.versions)
        self.book = DeadlineBook(
            self.state.deadlines, inp.application_id, self._deadlines_changed, self.alarm
        )
        self.publisher = CasePublisher(CaseKind.APPLICATION, STATUS_LABELS_ZH, self.versions)
        self.policy = inp.resume.policy if inp.resume else None
        self._lock = asyncio.Lock()
        self._ready = False
        self._kick = False
        self._in_step = 0
        self._light = False
        self._verification = None

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationState:
        self._light = self.versions.light_history()
        if inp.resume is not None:
            self._resume()
        else:
            async with self._locked():
                await self._open(inp)
        self._ready = True
        if self._light:
            await self._wake_on_alarm()
        else:
            await self._legacy_loop()
        await workflow.wait_condition(workflow.all_handlers_finished)
        async with self._locked():
            await self._stop_verification()
            if self.book.open():
                await self.book.cancel_all()
                await self._write([])
        return self.state

    @workflow.query(name=GET_STATE)
    def get_state(self) -> ApplicationState:
        return self.state

    @workflow.query(name=GET_STATUS)
    def get_status(self) -> ApplicationStatus:
        """The status alone: a cheap poll for callers waiting on background work."""
        return self.state.status

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, change: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded (the calendar admin signals every case with a
        provisional deadline): recompute those deadlines (DOMAIN §8)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            await self.book.recompute_provisional()

    # --- opening ---------------------------------------------------------------------------
    async def _open(self, inp: ApplicationInput) -> None:
        s = self.state
        self.publisher.static(programme=s.programme.value, area=s.area, household_id=s.household_id)
        if inp.prior is not None:
            await self._open_follow_on(inp, inp.prior)
            return
        matches = await self._check_relatives()
        s.relatives_matches = matches
        note = "提交申请"
        if matches:
            note += "；申请人或家庭成员属近亲属备案对象，须县级入户核查"
        await self._record(
            "apply",
            inp.submitted_by,
            note,
            on=s.applied_on,
            relatives_flag=bool(matches),
            linked_case_id=inp.linked_case_id,
        )

    def _resume(self) -> None:
        """The next run after continue-as-new: the deadlines, the case's own wake-ups and an
        unfinished verification pick up where the last run left them."""
        s = self.state
        self.publisher.static(programme=s.programme.value, area=s.area, household_id=s.household_id)
        self.book.resume()
        self._rearm()
        v = s.verification
        if s.status is ApplicationStatus.VERIFICATION and v is not None and v.completed_at is None:
            self._verification = asyncio.create_task(self._verify(v.round))

    def _history_long(self) -> bool:
        """Time to continue as new: the server suggests it or the history passed the bound."""
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self.inp.history_bound
        )

    def _should_stop(self) -> bool:
        return self._finished() or self._history_long()

    async def _continue_as_new(self) -> None:
        """Carry the case into a new run once no step is running. An unfinished verification is
        stopped here and asked again by the next run (its result is recorded only at the end)."""
        await workflow.wait_condition(lambda: not self._lock.locked())
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._finished():
            return
        await self._stop_verification()
        workflow.continue_as_new(
            self.inp.model_copy(
                update={"resume": Resumption(state=self.state, policy=self.policy), "prior": None}
            )
        )

    def _finished(self) -> bool:
        s = self.state
        if s.status in FINAL_STATUSES:
            return True
        if s.status is ApplicationStatus.REFUSED:
            delivered = any(n.kind in REFUSAL_KINDS and n.delivered_on for n in s.notices)
            return delivered and (s.edge_offer is None or not s.edge_offer.open)
        return False

    # --- waking (light path) ---------------------------------------------------------------
    async def _wake_on_alarm(self) -> None:
        """One durable timer aimed at the earliest wake-up (the case's own keys and the deadline
        book's); steps set or clear keys, nothing kicks the loop."""
        while not self._finished():
            await self.alarm.sleep(self._should_stop)
            due = self.alarm.pop_due()
            if due:
                async with self._lock:
                    await self._on_wake(due)
            if not self._finished() and self._history_long():
                await self._continue_as_new()

    async def _on_wake(self, due: list[str]) -> None:
        """The case's own wake-ups first (the close of a publicity is a step, so it meets the
        publicity deadline before the book could escalate it), then the book's reminders and
        escalations, which publish themselves."""
        self._in_step += 1
        try:
            if PUBLICITY_CLOSE in due:
                await self._close_publicity_if_open()
            if DOCUMENTS_LAPSE in due:
                await self._lapse_if_due()
            if EDGE_EXPIRY in due:
                await self._expire_edge_offer_if_due()
        finally:
            self._in_step -= 1
        await self.book.on_wake(due)

    async def _close_publicity_if_open(self) -> None:
        d = self.book.get(PUBLICITY)
        if self.state.status is ApplicationStatus.PUBLICITY and d is not None and d.is_open:
            await self._close_publicity(d)

    # --- waking (legacy path: executions recorded before light-history) ----------------------
    async def _legacy_loop(self) -> None:
        while not self._finished():
            self._kick = False
            wake = self._legacy_next_timer()
            if wake is None:
                await workflow.wait_condition(lambda: self._kick or self._finished())
            else:
                delay = (wake - workflow.now()).total_seconds()
                if delay > 0:
                    try:
                        await workflow.wait_condition(
                            lambda: self._kick or self._finished(), timeout=delay
                        )
                    except TimeoutError:
                        pass
            async with self._locked():
                await self._legacy_on_timers()

    def _legacy_publicity(self) -> Deadline | None:
        if self.state.status is not ApplicationStatus.PUBLICITY:
            return None
        d = self.book.get(PUBLICITY)
        return d if d is not None and d.is_open else None

    def _legacy_next_timer(self) -> datetime | None:
        s = self.state
        instants: list[datetime] = []
        publicity = self._legacy_publicity()
        if publicity is not None:
            instants.append(publicity.due_at - PUBLICITY_CLOSE_LEAD)
        if s.status is ApplicationStatus.DOCUMENTS_REQUESTED and s.missing_documents:
            instants.append(end_of_day(s.missing_documents.submit_by))
        if s.edge_offer is not None and s.edge_offer.open:
            instants.append(end_of_day(s.edge_offer.reply_by))
        return min(instants) if instants else None

    async def _legacy_on_timers(self) -> None:
        publicity = self._legacy_publicity()
        if publicity is not None and workflow.now() >= publicity.due_at - PUBLICITY_CLOSE_LEAD:
            await self._close_publicity(publicity)
        await self._lapse_if_due()
        await self._expire_edge_offer_if_due()
