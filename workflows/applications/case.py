"""The machinery every step of an application shares (workflow code): the case lock, the checks
against the case as it is now, the policy the case runs under, deadlines, notices, the wake-ups
of the case's one ``Alarm``, and publishing (search attributes, read model and audit through
``jiuzhu.publishing.CasePublisher``). The step mixins in ``steps/`` build on it and
``workflow.py`` combines them.

Two paths (``Versions.light_history``, ``jiuzhu/versions.py``): cases started before the
redesign replay exactly the commands they were recorded with (regular activities, a loop woken
by ``_kick``); new cases run short work as local activities and wake on the alarm."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from jiuzhu.calls import call
from jiuzhu.clock import end_of_day, workflow_today
from jiuzhu.publishing import CasePublisher
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.applications.checks import ApplicationActivities, AssessRequest, AssessResult
    from activities.applications.membership import (
        MembershipActivities,
        ReleaseMembers,
        SettleMembers,
        TransferMembers,
    )
    from activities.applications.notices import IssueNotice, NoticeActivities, NoticeRef
    from activities.applications.verification import SourceResult
    from activities.deadlines import Deadline
    from activities.policy import PolicyActivities, PolicyRequest
    from jiuzhu.contract import Actor
    from jiuzhu.membership import HOUSEHOLD_PROGRAMMES, MemberClaim
    from jiuzhu.records import AuditRecord, TimelineEntry
    from jiuzhu.refusals import RefusalKind, conflict, refuse, wrong_state
    from jiuzhu.versions import (
        ONE_HOUSEHOLD_CLAIM,
        ONE_HOUSEHOLD_RELEASE,
        ONE_HOUSEHOLD_TRANSFER,
        Versions,
    )
    from rules.household import Household
    from rules.periods import Period
    from rules.policy import Policy
    from workflows.applications.checks import StepChecks
    from workflows.applications.contract import OUTCOMES, ApplicationStatus
    from workflows.applications.models import (
        ApplicationState,
        ClosingRecord,
        DecisionInput,
        StepResult,
    )
    from workflows.applications.rules import (
        PUBLICITY,
        Level,
        deadline_spec,
        decider_level,
        outcome_for,
    )
    from workflows.applications.snapshot import case_snapshot

# The case's own wake-ups in its alarm (the deadline book keeps ``deadline:*``).
PUBLICITY_CLOSE = "publicity:close"  # the end of the publicity's last day
DOCUMENTS_LAPSE = "documents:lapse"  # the end of the day the missing documents were due
EDGE_EXPIRY = "edge:expiry"  # the end of the day to answer the 低保边缘/刚性支出 offer


class ApplicationCase:
    """State and shared helpers of one application; the workflow class sets every attribute
    in its ``@workflow.init``."""

    state: ApplicationState
    book: DeadlineBook
    versions: Versions
    alarm: Alarm
    publisher: CasePublisher
    policy: Policy | None
    _lock: asyncio.Lock
    _ready: bool
    _kick: bool
    _in_step: int
    _light: bool
    _verification: "asyncio.Task[None] | None"

    # --- locking ---------------------------------------------------------------------------
    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """The case lock: one step at a time. Deadline changes inside a step only refresh search
        attributes; the step's own record writes the read model once."""
        async with self._lock:
            self._in_step += 1
            try:
                yield
            finally:
                self._in_step -= 1

    @asynccontextmanager
    async def _step(self) -> AsyncIterator[None]:
        """An Update handler's turn: first, before any ``await``, the alarm drops the timers no
        wake-up needs (``Alarm.drop_stale``); then wait until the case has opened and hold the
        case lock."""
        self.alarm.drop_stale()
        await workflow.wait_condition(lambda: self._ready)
        async with self._locked():
            yield

    def _result(self, notice_id: str | None = None) -> StepResult:
        s = self.state
        follow = s.edge_offer.follow_on_case_id if s.edge_offer else None
        return StepResult(
            application_id=s.application_id,
            status=s.status,
            revision=s.revision,
            notice_id=notice_id,
            follow_on_case_id=follow,
        )

    # --- the case as it is now -------------------------------------------------------------
    def _today(self) -> date:
        return workflow_today()

    def _policy(self) -> Policy:
        if self.policy is None:
            raise wrong_state("案件尚未受理")
        return self.policy

    def _decider_level(self) -> Level:
        return decider_level(self._policy(), self.state.programme, self.state.requested_amount)

    def _checks(self) -> StepChecks:
        """The step checks against the case as it is now (validators and, again, handlers)."""
        return StepChecks(state=self.state, policy=self.policy, today=self._today())

    def _decision_evidence(self) -> list[Any]:
        """What a decision rests on: the investigations, the verification, the means test."""
        s = self.state
        evidence: list[Any] = [
            {"kind": "investigation", "round": i.round, "on": i.on.isoformat()}
            for i in s.investigations
        ]
        if s.verification is not None:
            evidence.append(
                {
                    "kind": "verification",
                    "round": s.verification.round,
                    "sources": s.verification.sources,
                    "discrepancies": len(s.verification.discrepancies),
                }
            )
        outcome = outcome_for(s.assessment, s.programme) if s.assessment else None
        if outcome is not None:
            evidence.append(
                {
                    "kind": "means_test",
                    "eligible": outcome.eligible,
                    "per_capita_income": str(outcome.per_capita_income),
                    "standard": str(outcome.standard),
                    "monthly_amount": str(outcome.monthly_amount),
                }
            )
        evidence += [{"kind": "appraisal", "on": a.on.isoformat()} for a in s.appraisals]
        evidence += [{"kind": "county_visit", "on": c.on.isoformat()} for c in s.county_visits]
        return evidence

    # --- short activities ------------------------------------------------------------------
    async def _fetch_policy(self, on: date, field: str) -> Policy:
        """The policy in force on the acceptance date; recorded with every step (422
        ``NoPolicyInForce`` naming ``field`` when there is none)."""
        try:
            policy: Policy = await call(
                PolicyActivities.policy_in_force,
                PolicyRequest(area_code=self.state.area_code, on=on),
            )
        except ActivityError as exc:
            raise refuse(
                RefusalKind.NO_POLICY,
                f"{on.isoformat()}在{self.state.area_code}没有生效的救助政策",
                field,
            ) from exc
        self.policy = policy
        self.state.policy_version_id = policy.version_id
        return policy

    async def _assess(
        self, household: Household, results: list[SourceResult], on: date
    ) -> AssessResult:
        """The means test on the household as verified (activity: its result is history)."""
        result: AssessResult = await call(
            ApplicationActivities.assess_household,
            AssessRequest(household=household, results=results, policy=self._policy(), on=on),
        )
        return result

    async def _deadline(
        self, name: str, label_zh: str, start: date, period: Period, level: Level, basis: str
    ) -> Deadline:
        return await self.book.start(
            deadline_spec(
                name=name,
                label_zh=label_zh,
                start=start,
                period=period,
                level=level,
                area=self.state.area,
                policy=self._policy(),
                basis=basis,
            )
        )

    async def _issue(self, notice: Any, actor: Actor | None) -> NoticeRef:
        s = self.state
        notice_id = f"{s.application_id}-N{len(s.notices) + 1:02d}"
        ref: NoticeRef = await call(
            NoticeActivities.issue_notice,
            IssueNotice(
                notice_id=notice_id,
                case_id=s.application_id,
                workflow_id=workflow.info().workflow_id,
                kind=notice.kind,
                payload=notice.model_dump(mode="json"),
                issued_by=actor,
            ),
        )
        s.notices.append(ref)
        return ref

    # --- one person, one active household per programme (jiuzhu.membership) ---------------
    def _keeps_members(self, patch: str) -> bool:
        """Household programmes, where the step runs with the ``one-household-*`` change
        (``patch`` names the call site)."""
        return self.state.programme in HOUSEHOLD_PROGRAMMES and self.versions.patched(patch)

    async def _claim_household(self, household: Household) -> None:
        """An investigated household: claim every member for this case and release the ones it
        no longer lists. A member held by another case refuses the step (409 naming that case
        and ``household.members[i].id_number``) before anything is recorded."""
        if not self._keeps_members(ONE_HOUSEHOLD_CLAIM):
            return
        s = self.state
        settled = await call(
            MembershipActivities.settle_members,
            SettleMembers(
                case_id=s.application_id,
                programme=s.programme.value,
                household_id=s.household_id,
                members=[
                    MemberClaim(
                        id_number=m.id_number,
                        name=m.name,
                        field=f"household.members[{i}].id_number",
                    )
                    for i, m in enumerate(household.members)
                ],
            ),
        )
        if settled.clash is not None:
            c = settled.clash
            raise conflict(
                c.message_zh(),
                c.field,
                other_case_id=c.other_case_id,
                other_case_kind=c.other_case_kind,
            )

    async def _release_household(self) -> None:
        """The case ended without approval: its members may apply again."""
        if not self._keeps_members(ONE_HOUSEHOLD_RELEASE):
            return
        s = self.state
        await call(
            MembershipActivities.release_members,
            ReleaseMembers(case_id=s.application_id, programme=s.programme.value),
        )

    async def _hand_household_to(self, entitlement_id: str | None) -> None:
        """Approved: the entitlement holds the members from now on (released when nothing is
        paid, i.e. no entitlement)."""
        if not self._keeps_members(ONE_HOUSEHOLD_TRANSFER):
            return
        s = self.state
        await call(
            MembershipActivities.transfer_members,
            TransferMembers(
                case_id=s.application_id,
                programme=s.programme.value,
                entitlement_id=entitlement_id,
                household_id=s.household_id,
            ),
        )

    async def _stop_verification(self) -> None:
        task, self._verification = self._verification, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, ActivityError):
                pass  # a source check cancelled mid-flight ends as an ActivityError

    # --- wake-ups --------------------------------------------------------------------------
    def _rearm(self) -> None:
        """The case's timed steps changed (publicity started or ended, a notice awaits an
        answer …). Legacy path: kick the main loop to recompute its timer. Light path: aim the
        alarm's keys at what the state now waits for; the alarm restarts its one timer only if
        the earliest instant moved."""
        self._kick = True
        if not self._light:
            return
        s = self.state
        publicity = self.book.get(PUBLICITY)
        wanted = {
            PUBLICITY_CLOSE: publicity.due_at
            if s.status is ApplicationStatus.PUBLICITY and publicity and publicity.is_open
            else None,
            DOCUMENTS_LAPSE: end_of_day(s.missing_documents.submit_by)
            if s.status is ApplicationStatus.DOCUMENTS_REQUESTED and s.missing_documents
            else None,
            EDGE_EXPIRY: end_of_day(s.edge_offer.reply_by)
            if s.edge_offer is not None and s.edge_offer.open
            else None,
        }
        for key, at in wanted.items():
            if at is None:
                self.alarm.clear(key)
            elif self.alarm.get(key) != at:
                self.alarm.set(key, at)

    # --- publishing ------------------------------------------------------------------------
    async def _deadlines_changed(self) -> None:
        """A deadline was added, met, escalated or moved. Inside a step nothing is done here:
        the step ends by writing the search attributes and the read model once. Otherwise (an
        escalation, a calendar recompute) they are written now."""
        if not self._in_step:
            await self._write([])

    async def _record(
        self,
        action: str,
        actor: Actor | None,
        note_zh: str = "",
        *,
        on: date | None = None,
        evidence: list[Any] | None = None,
        **detail: object,
    ) -> None:
        """Append to the timeline; write the read model and the audit line (who, what, when, on
        which evidence, under which policy version) together."""
        s = self.state
        s.timeline.append(
            TimelineEntry(at=workflow.now(), action=action, actor=actor, note_zh=note_zh, on=on)
        )
        audit = self.publisher.audit(
            case_id=s.application_id,
            seq=len(s.timeline),
            action=action,
            actor=actor,
            policy_version_id=s.policy_version_id,
            evidence=evidence,
            detail={
                "note_zh": note_zh,
                "on": on.isoformat() if on else None,
                "status": s.status.value,
                **detail,
            },
        )
        await self._write([audit])

    async def _write(self, audit: list[AuditRecord]) -> None:
        """Search attributes first (only those that changed), then the read model and audit."""
        self.state.revision += 1
        self.publisher.dynamic(
            status=self.state.status.value,
            book=self.book,
            outcome=OUTCOMES.get(self.state.status),
        )
        snapshot = case_snapshot(
            self.state,
            self.policy,
            workflow.info().workflow_id,
            self.book.next_due(),
            self.book.overdue(),
        )
        await self.publisher.write(snapshot, audit)

    async def _close(self, closing: ClosingRecord, status: ApplicationStatus) -> None:
        """The case ends without a decision (withdrawal, non-cooperation, lapse): background
        verification stops and every open deadline is cancelled."""
        await self._stop_verification()
        self.state.closing = closing
        self.state.status = status
        if self.book.open():
            await self.book.cancel_all()
        await self._release_household()
        self._rearm()

    # --- hooks one step module offers another -----------------------------------------------
    async def _request_verification(self) -> None:
        raise NotImplementedError

    async def _refuse(
        self, inp: DecisionInput, on: date, policy: Policy, assessed: AssessResult | None
    ) -> None:
        raise NotImplementedError

    async def _to_decider(self, received_on: date) -> None:
        raise NotImplementedError


# The base of the step mixins: the case for the type checker, nothing at run time (the workflow
# class lists ``ApplicationCase`` itself, last). The SDK's ``@workflow.defn`` walks every class
# of the workflow's MRO member by member, in every new sandbox; mixins that inherited the case
# made it walk the case's members seven times.
if TYPE_CHECKING:
    StepsOf = ApplicationCase
else:
    StepsOf = object
