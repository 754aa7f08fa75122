"""The application workflow: one durable workflow per application, walking the statutory steps
of 低保 (低保办法, DOMAIN §3), 特困 (特困办法, §4), 低保边缘/刚性支出困难 recognition (§3 step 9)
and the normal procedure of temporary assistance (§6), with every legal clock inside it.

Each human step is a Workflow Update whose validator rejects a wrong state (409), a wrong role
or area (403) or bad data (422) before anything is recorded; the handler re-checks under the
case lock, records the step (timeline, read model, audit line with the policy version) and
moves the deadlines. Automatic work — data verification, closing a publicity, lapsing an
unanswered notice — runs in the workflow itself. The case runs under the policy in force on its
acceptance date."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    import workflows.application_notices as notices
    from activities.application_checks import (
        ApplicationActivities,
        AssessRequest,
        AssessResult,
        RelativesRequest,
    )
    from activities.notices import DeliveryRecord, IssueNotice, NoticeActivities
    from activities.policy import PolicyActivities, PolicyRequest
    from activities.records import RecordActivities
    from activities.verification import SourceRequest, SourcesRequest, VerificationActivities
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
        entitlement_workflow_id,
    )
    from jiuzhu.deadline_models import Deadline
    from jiuzhu.handoff import ENTITLEMENT_WORKFLOW_TYPE, ApprovedCase
    from jiuzhu.records import AuditRecord, CaseSnapshot, RecordStep
    from rules.areas import county_of, township_of
    from rules.household import Household
    from rules.periods import Period
    from rules.policy import Policy
    from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
    from rules.reasons import REASON_BASIS
    from workflows.application_models import (
        AcceptInput,
        ApplicationInput,
        ApplicationState,
        ApplicationStatus,
        AppraisalInput,
        AppraisalRecord,
        ClosingRecord,
        CountyVisitInput,
        CountyVisitRecord,
        DecisionInput,
        DecisionOutcome,
        DecisionRecord,
        DeliveryInput,
        EdgeConsentInput,
        EdgeOffer,
        EndReviewInput,
        ErrorType,
        FilingInput,
        FilingRecord,
        InvestigationInput,
        InvestigationMethod,
        InvestigationRecord,
        MissingDocumentsInput,
        MissingDocumentsRecord,
        NoticeRef,
        OpinionInput,
        OpinionRecord,
        PriorCase,
        PublicityObjectionInput,
        PublicityObjectionRecord,
        PublicityRound,
        Recommendation,
        RefusalReason,
        SourceResult,
        SourceStatus,
        SpecialDeadlineInput,
        SpecialReasonRecord,
        SupplementInput,
        SupplementRecord,
        TimelineEntry,
        VerificationObjectionInput,
        VerificationObjectionRecord,
        VerificationRecord,
        WithdrawInput,
        error_details,
    )
    from workflows.application_rules import (
        ADVERSE_CODES,
        DECISION,
        DEFAULT_SUBMIT_DAYS,
        EDGE_RECOGNITION,
        EDGE_REPLY_DAYS,
        INITIAL_OPINION,
        INVESTIGATION_START,
        OBJECTION_OPINION,
        OVERALL,
        PUBLICITY,
        REFUSAL_NOTICE,
        VERIFICATION_START,
        Level,
        deadline_spec,
        decider_level,
        edge_offer_programme,
        end_of,
        first_of_next_month,
        invalid,
        measures,
        outcome_for,
        shanghai_date,
        wrong_state,
    )
    from workflows.application_steps import (
        PAYING_PROGRAMMES,
        REFUSAL_KINDS,
        StepChecks,
        case_snapshot,
        members_can_work,
    )
    from workflows.clock import today as clock_today
    from workflows.deadlines import DeadlineBook

ACTIVITY_TIMEOUT = timedelta(seconds=30)
_UNSET = object()
RECORD_TIMEOUT = timedelta(seconds=30)
# A verification source that does not answer is retried with backoff until it does: the case
# waits (and its deadline escalates), it is never lost. Retries add no history events.
SOURCE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
    maximum_attempts=0,
)
# Publicity runs to the end of its last day; the case moves on in that day's last second, so
# the publicity "deadline" is met, never escalated.
PUBLICITY_CLOSE_LEAD = timedelta(seconds=1)


def initial_search_attributes(inp: ApplicationInput, status: str) -> TypedSearchAttributes:
    """Search attributes set at start, so a case is findable in the Web UI from its first
    moment."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.APPLICATION.value),
            SearchAttributePair(SA_PROGRAMME, inp.programme.value),
            SearchAttributePair(SA_STATUS, status),
            SearchAttributePair(SA_AREA, inp.area_code),
            SearchAttributePair(SA_COUNTY, county_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_TOWNSHIP, township_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_HOUSEHOLD, inp.household_id),
            SearchAttributePair(SA_OVERDUE, False),
        ]
    )


@workflow.defn
class ApplicationWorkflow:
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        submitted_on = shanghai_date(inp.submitted_at)
        self.state = ApplicationState(
            application_id=inp.application_id,
            programme=inp.programme,
            area_code=inp.area_code,
            household_id=inp.household_id,
            members=inp.members,
            submitted_by=inp.submitted_by,
            submitted_at=inp.submitted_at,
            applied_on=inp.applied_on or submitted_on,
            requested_amount=inp.requested_amount,
            linked_case_id=inp.linked_case_id,
        )
        self.book = DeadlineBook(self.state.deadlines, inp.application_id, self._deadlines_changed)
        self.policy: Policy | None = None
        self._follow_on = inp.prior is not None
        self._lock = asyncio.Lock()
        self._ready = False
        self._kick = False
        self._in_step = 0
        self._verification: asyncio.Task[None] | None = None
        # Search attributes as last published, from those the case was started with.
        dynamic = {SA_STATUS.name, SA_NEXT_DEADLINE.name, SA_OVERDUE.name, SA_PROVISIONAL.name}
        self._published: dict[str, Any] = {
            pair.key.name: pair.value
            for pair in workflow.info().typed_search_attributes
            if pair.key.name in dynamic
        }

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationState:
        async with self._locked():
            await self._open(inp)
        self._ready = True
        while not self._finished():
            self._kick = False
            wake = self._next_timer()
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
                await self._on_timers()
        await workflow.wait_condition(workflow.all_handlers_finished)
        async with self._locked():
            await self._stop_verification()
            if self.book.open():
                await self.book.cancel_all()
                await self._write([])
        return self.state

    @workflow.query
    def get_state(self) -> ApplicationState:
        return self.state

    @workflow.query
    def get_status(self) -> ApplicationStatus:
        """The status alone: a cheap poll for callers waiting on background work."""
        return self.state.status

    @workflow.signal(name="calendar_changed")
    async def calendar_changed(self, arg: Any = None) -> None:
        """A year's holiday schedule was loaded (the calendar admin signals every case with a
        provisional deadline): recompute those deadlines (DOMAIN §8)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            await self.book.recompute_provisional()

    # ======================================================================================
    # Steps
    # ======================================================================================

    # --- 受理 / 一次性告知 / 补齐材料 (低保办法 Art. 10) ---------------------------------------
    @workflow.update
    async def accept(self, inp: AcceptInput) -> ApplicationState:
        """Acceptance starts the statutory clock (低保办法 Art. 10, 15, 22): investigation within
        3 working days and the overall deadline of 30 working days (20 where delegated); for
        特困 the initial opinion within 15 working days instead (特困办法 Art. 13); for temporary
        aid the decision deadline (DOMAIN §6)."""
        async with self._step():
            on = self._checks().accept(inp)
            policy = await self._fetch_policy(on, "accepted_on")
            s = self.state
            s.accepted_on, s.accepted_by = on, inp.actor
            s.status = ApplicationStatus.ACCEPTED
            await self._deadline(
                INVESTIGATION_START,
                "入户调查启动",
                on,
                policy.investigation_start,
                Level.TOWNSHIP,
                f"{measures(s.programme)}第十五条",
            )
            if s.programme is Programme.TEMPORARY:
                await self._deadline(
                    DECISION,
                    "临时救助审批",
                    on,
                    policy.decision_period(s.programme),
                    decider_level(policy, s.programme, s.requested_amount),
                    measures(s.programme),
                )
            elif s.programme is Programme.TEKUN:
                # 特困 runs on its own periods (特困办法 Art. 13–16), not 低保's overall deadline.
                await self._deadline(
                    INITIAL_OPINION,
                    "特困人员初审意见",
                    on,
                    policy.tekun_initial_opinion,
                    Level.TOWNSHIP,
                    "《特困人员认定办法》第十三条",
                )
            else:
                await self._deadline(
                    OVERALL,
                    "审核确认办理总时限",
                    on,
                    policy.overall_deadline(),
                    self._decider_level(),
                    f"{measures(s.programme)}第二十二条",
                )
            await self._record(
                "accept",
                inp.actor,
                f"受理申请（{policy.name}，政策版本{policy.version_id}）",
                on=on,
                evidence=inp.documents,
            )
        return self.state

    @accept.validator
    def _validate_accept(self, inp: AcceptInput) -> None:
        self._checks().accept(inp)

    @workflow.update
    async def request_documents(self, inp: MissingDocumentsInput) -> ApplicationState:
        """一次性告知: one notice listing everything missing; the clock starts only at acceptance
        (低保办法 Art. 10). Unanswered by ``submit_by``, the application lapses."""
        async with self._step():
            self._checks().request_documents(inp)
            s = self.state
            today = self._today()
            submit_by = inp.submit_by or today + timedelta(days=DEFAULT_SUBMIT_DAYS)
            ref = await self._issue(
                notices.missing_documents(s, today, inp.missing, submit_by, inp.contact),
                inp.actor,
            )
            s.missing_documents = MissingDocumentsRecord(
                at=workflow.now(),
                actor=inp.actor,
                on=today,
                missing=inp.missing,
                submit_by=submit_by,
                notice_id=ref.notice_id,
            )
            s.status = ApplicationStatus.DOCUMENTS_REQUESTED
            self._kick = True
            await self._record(
                "missing_documents_notice",
                inp.actor,
                f"一次性告知需补齐材料{len(inp.missing)}项，限{submit_by.isoformat()}前补齐",
                on=today,
                missing=inp.missing,
                notice_id=ref.notice_id,
            )
        return self.state

    @request_documents.validator
    def _validate_request_documents(self, inp: MissingDocumentsInput) -> None:
        self._checks().request_documents(inp)

    @workflow.update
    async def supplement(self, inp: SupplementInput) -> ApplicationState:
        async with self._step():
            on = self._checks().supplement(inp)
            s = self.state
            s.supplements.append(
                SupplementRecord(at=workflow.now(), actor=inp.actor, on=on, documents=inp.documents)
            )
            s.status = ApplicationStatus.SUBMITTED
            self._kick = True
            await self._record(
                "supplement", inp.actor, "申请人补齐材料", on=on, evidence=inp.documents
            )
        return self.state

    @supplement.validator
    def _validate_supplement(self, inp: SupplementInput) -> None:
        self._checks().supplement(inp)

    # --- 家庭经济状况调查 (低保办法 Art. 15–16) -------------------------------------------------
    @workflow.update
    async def record_investigation(self, inp: InvestigationInput) -> ApplicationState:
        """A home visit by at least two investigators, signed by both sides; a re-investigation
        after an objection. Then data verification is requested (not for temporary aid)."""
        async with self._step():
            on = self._checks().investigation(inp)
            s = self.state
            first = s.status is ApplicationStatus.ACCEPTED
            s.investigations.append(
                InvestigationRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    round=len(s.investigations) + 1,
                    investigators=inp.investigators,
                    method=inp.method,
                    remote_reason_zh=inp.remote_reason_zh,
                    findings_zh=inp.findings_zh,
                    household=inp.household,
                )
            )
            if inp.household is not None:
                s.household = inp.household
            if inp.card_account is not None:
                s.card_account = inp.card_account
            if first:
                await self.book.meet(INVESTIGATION_START)
            if s.programme is Programme.TEMPORARY:
                s.status = ApplicationStatus.AWAITING_OPINION
            else:
                await self._request_verification()
            await self._record(
                "investigation" if first else "reinvestigation",
                inp.actor,
                f"{'入户调查' if inp.method is InvestigationMethod.HOME_VISIT else '电话/视频调查'}"
                f"（调查人员：{'、'.join(inp.investigators)}）：{inp.findings_zh}",
                on=on,
                evidence=[
                    {
                        "kind": "investigation_form",
                        "investigators": inp.investigators,
                        "method": inp.method.value,
                        "signed_by_household": inp.signed_by_household,
                    }
                ],
            )
        return self.state

    @record_investigation.validator
    def _validate_investigation(self, inp: InvestigationInput) -> None:
        self._checks().investigation(inp)

    # --- 信息核对 (低保办法 Art. 17–18) ---------------------------------------------------------
    async def _request_verification(self) -> None:
        """The township requests verification; the county starts it within 3 working days of the
        request (低保办法 Art. 17). Checks run in the background; the step returns at once."""
        s = self.state
        policy = self._policy()
        today = self._today()
        round_no = (s.verification.round + 1) if s.verification else 1
        s.verification = VerificationRecord(
            round=round_no, requested_at=workflow.now(), requested_on=today
        )
        s.status = ApplicationStatus.VERIFICATION
        await self._deadline(
            VERIFICATION_START,
            "信息核对启动",
            today,
            policy.verification_start,
            Level.COUNTY,
            f"{measures(s.programme)}第十七条",
        )
        await self._stop_verification()
        self._verification = asyncio.create_task(self._verify(round_no))

    async def _verify(self, round_no: int) -> None:
        s = self.state
        household = s.household
        if household is None:
            return
        ids = [m.id_number for m in household.members]
        sources = await workflow.execute_activity_method(
            VerificationActivities.verification_sources,
            SourcesRequest(area_code=s.area_code),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        results = await asyncio.gather(*(self._check_source(name, ids) for name in sources))
        async with self._locked():
            v = s.verification
            if v is None or v.round != round_no or s.status is not ApplicationStatus.VERIFICATION:
                return
            assessed = await self._assess(household, list(results), self._today())
            v.sources = list(sources)
            v.results = list(results)
            v.discrepancies = assessed.discrepancies
            v.completed_at = workflow.now()
            s.verified_household = assessed.verified_household
            s.assessment = assessed.assessment
            s.status = ApplicationStatus.AWAITING_OPINION
            failed = [r.source for r in v.results if r.status is not SourceStatus.OK]
            if not failed:
                await self.book.meet(VERIFICATION_START)
            note = f"信息核对完成：{len(v.results)}个数据源，{len(v.discrepancies)}处与申报不一致"
            if failed:
                note = f"信息核对未完成：{'、'.join(failed)}核对失败，需复查"
            await self._record(
                "verification",
                None,
                note,
                on=self._today(),
                evidence=[
                    {"source": r.source, "status": r.status.value, "findings": len(r.findings)}
                    for r in v.results
                ],
                round=round_no,
                failed_sources=failed,
                discrepancies=[d.note_zh for d in v.discrepancies],
                per_capita_income=str(assessed.assessment.per_capita_income),
            )

    async def _check_source(self, source: str, ids: list[str]) -> SourceResult:
        try:
            result: SourceResult = await workflow.execute_activity_method(
                VerificationActivities.check_source,
                SourceRequest(case_id=self.state.application_id, source=source, id_numbers=ids),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=SOURCE_RETRY,
            )
            return result
        except ActivityError:
            return SourceResult(
                source=source,
                status=SourceStatus.FAILED,
                error_zh="数据源核对失败",
                checked_at=workflow.now(),
            )

    async def _stop_verification(self) -> None:
        task, self._verification = self._verification, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _assess(
        self, household: Household, results: list[SourceResult], on: date
    ) -> AssessResult:
        result: AssessResult = await workflow.execute_activity_method(
            ApplicationActivities.assess_household,
            AssessRequest(household=household, results=results, policy=self._policy(), on=on),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        return result

    @workflow.update
    async def object_to_verification(self, inp: VerificationObjectionInput) -> ApplicationState:
        """An applicant's objection to a verification result, with evidence, triggers a
        re-check (复查, 低保办法 Art. 18); the county may also re-run a failed check."""
        async with self._step():
            on = self._checks().verification_objection(inp)
            s = self.state
            s.verification_objections.append(
                VerificationObjectionRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    statement_zh=inp.statement_zh,
                    evidence=inp.evidence,
                    source=inp.source,
                )
            )
            await self._request_verification()
            await self._record(
                "verification_objection",
                inp.actor,
                f"对信息核对结果提出异议并提供证据，启动复查：{inp.statement_zh}",
                on=on,
                evidence=inp.evidence,
                source=inp.source,
            )
        return self.state

    @object_to_verification.validator
    def _validate_verification_objection(self, inp: VerificationObjectionInput) -> None:
        self._checks().verification_objection(inp)

    # --- 民主评议 (on objection; temporary aid as needed) ---------------------------------------
    @workflow.update
    async def record_appraisal(self, inp: AppraisalInput) -> ApplicationState:
        async with self._step():
            on = self._checks().appraisal(inp)
            s = self.state
            s.appraisals.append(
                AppraisalRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    participants=inp.participants,
                    votes_for=inp.votes_for,
                    votes_against=inp.votes_against,
                    conclusion_zh=inp.conclusion_zh,
                )
            )
            s.status = ApplicationStatus.AWAITING_OPINION
            await self._record(
                "appraisal",
                inp.actor,
                f"民主评议（{inp.participants}人参加，同意{inp.votes_for}，"
                f"不同意{inp.votes_against}）：{inp.conclusion_zh}",
                on=on,
            )
        return self.state

    @record_appraisal.validator
    def _validate_appraisal(self, inp: AppraisalInput) -> None:
        self._checks().appraisal(inp)

    # --- 初审 + 公示 (低保办法 Art. 19; 特困办法 Art. 13–15) -----------------------------------
    @workflow.update
    async def initial_opinion(self, inp: OpinionInput) -> ApplicationState:
        """The township's initial opinion. A proposed approval is published for the policy's
        publicity period (7 days); a proposed refusal goes to the decider at once."""
        async with self._step():
            on = self._checks().opinion(inp)
            s = self.state
            outcome = outcome_for(s.assessment, s.programme) if s.assessment else None
            amount = inp.proposed_amount
            if amount is None:
                amount = outcome.monthly_amount if outcome else Decimal("0.00")
            s.opinions.append(
                OpinionRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    round=len(s.opinions) + 1,
                    recommendation=inp.recommendation,
                    proposed_amount=amount,
                    reason_zh=inp.reason_zh,
                    note_zh=inp.note_zh,
                )
            )
            await self.book.meet(INITIAL_OPINION)
            await self.book.meet(OBJECTION_OPINION)
            if inp.recommendation is Recommendation.APPROVE:
                await self._start_publicity(amount, inp.actor)
            else:
                await self._to_decider(on)
            await self._record(
                "initial_opinion",
                inp.actor,
                ("初审同意" if inp.recommendation is Recommendation.APPROVE else "初审不同意")
                + (
                    f"，拟救助金额{amount}元"
                    if inp.recommendation is Recommendation.APPROVE
                    else ""
                )
                + (f"：{inp.reason_zh}" if inp.reason_zh else ""),
                on=on,
                recommendation=inp.recommendation.value,
                proposed_amount=str(amount),
            )
        return self.state

    @initial_opinion.validator
    def _validate_opinion(self, inp: OpinionInput) -> None:
        self._checks().opinion(inp)

    async def _start_publicity(self, amount: Decimal, actor: Actor) -> None:
        s = self.state
        policy = self._policy()
        today = self._today()
        deadline = await self._deadline(
            PUBLICITY,
            "公示期",
            today,
            policy.publicity,
            Level.TOWNSHIP,
            f"{measures(s.programme)}第十九条",
        )
        ref = await self._issue(
            notices.publicity_list(s, policy, today, deadline.due_date, amount), actor
        )
        s.publicity.append(
            PublicityRound(
                round=len(s.publicity) + 1,
                start_on=today,
                end_on=deadline.due_date,
                started_at=workflow.now(),
                notice_id=ref.notice_id,
            )
        )
        s.status = ApplicationStatus.PUBLICITY
        self._kick = True

    async def _to_decider(self, received_on: date) -> None:
        """The file reaches the decider: 10 working days for 低保, 15 for 特困 from receipt
        (低保办法 Art. 20; 特困办法 Art. 16); temporary aid runs on its own decision deadline
        from acceptance."""
        s = self.state
        s.file_received_on = received_on
        s.status = ApplicationStatus.AWAITING_DECISION
        if s.programme is Programme.TEMPORARY:
            return
        policy = self._policy()
        article = "第十六条" if s.programme is Programme.TEKUN else "第二十条"
        await self._deadline(
            DECISION,
            "审核确认",
            received_on,
            policy.decision_period(s.programme),
            self._decider_level(),
            f"{measures(s.programme)}{article}",
        )

    @workflow.update
    async def publicity_objection(self, inp: PublicityObjectionInput) -> ApplicationState:
        """An objection during publicity: re-investigation or democratic appraisal, a new initial
        opinion and a new publicity (低保办法 Art. 19); for 特困 the new opinion within 15
        working days (特困办法 Art. 15)."""
        async with self._step():
            on = self._checks().publicity_objection(inp)
            s = self.state
            publicity = s.publicity[-1]
            s.publicity_objections.append(
                PublicityObjectionRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    round=publicity.round,
                    objector_name=inp.objector_name,
                    content_zh=inp.content_zh,
                )
            )
            publicity.closed_at = workflow.now()
            publicity.outcome = "objection"
            await self.book.cancel(PUBLICITY)
            s.status = ApplicationStatus.OBJECTION
            if s.programme is Programme.TEKUN:
                await self._deadline(
                    OBJECTION_OPINION,
                    "异议后重新初审",
                    on,
                    self._policy().tekun_objection_opinion,
                    Level.TOWNSHIP,
                    "《特困人员认定办法》第十五条",
                )
            self._kick = True
            await self._record(
                "publicity_objection",
                inp.actor,
                f"公示期间{inp.objector_name}提出异议：{inp.content_zh}",
                on=on,
                objector=inp.objector_name,
            )
        return self.state

    @publicity_objection.validator
    def _validate_publicity_objection(self, inp: PublicityObjectionInput) -> None:
        self._checks().publicity_objection(inp)

    async def _close_publicity(self, deadline: Deadline) -> None:
        await self.book.meet(PUBLICITY)  # first, before anything can yield to its watcher
        s = self.state
        publicity = s.publicity[-1]
        publicity.closed_at = workflow.now()
        publicity.outcome = "no_objection"
        await self._to_decider(deadline.due_date)
        await self._record(
            "publicity_closed",
            None,
            f"公示期满（{publicity.start_on.isoformat()}至{publicity.end_on.isoformat()}）无异议，"
            "材料报送审核确认",
            on=deadline.due_date,
        )

    # --- 近亲属备案: county home visit ---------------------------------------------------------
    @workflow.update
    async def county_visit(self, inp: CountyVisitInput) -> ApplicationState:
        """A relative of a case worker or village cadre gets a county home visit before any
        decision (DOMAIN §2, §7; seed 002)."""
        async with self._step():
            on = self._checks().county_visit(inp)
            self.state.county_visits.append(
                CountyVisitRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    visitors=inp.visitors,
                    findings_zh=inp.findings_zh,
                )
            )
            await self._record(
                "county_visit",
                inp.actor,
                f"县级入户核查（{'、'.join(inp.visitors)}）：{inp.findings_zh}",
                on=on,
                visitors=inp.visitors,
            )
        return self.state

    @county_visit.validator
    def _validate_county_visit(self, inp: CountyVisitInput) -> None:
        self._checks().county_visit(inp)

    # --- 办理总时限: special reason (低保办法 Art. 22) -----------------------------------------
    @workflow.update
    async def extend_deadline(self, inp: SpecialDeadlineInput) -> ApplicationState:
        """In special cases the overall deadline is 45 working days from acceptance, with the
        reason recorded (低保办法 Art. 22)."""
        async with self._step():
            self._checks().extend(inp)
            s = self.state
            today = self._today()
            s.special_reason = SpecialReasonRecord(
                at=workflow.now(), actor=inp.actor, on=today, reason=inp.reason, note_zh=inp.note_zh
            )
            await self._deadline(
                OVERALL,
                "审核确认办理总时限（特殊情况）",
                s.accepted_on or today,
                self._policy().overall_deadline(special=True),
                self._decider_level(),
                f"{measures(s.programme)}第二十二条",
            )
            await self._record(
                "special_deadline",
                inp.actor,
                f"特殊情况延长办理时限：{inp.note_zh}",
                on=today,
                reason=inp.reason.value,
            )
        return self.state

    @extend_deadline.validator
    def _validate_extend(self, inp: SpecialDeadlineInput) -> None:
        self._checks().extend(inp)

    # --- 审核确认 (低保办法 Art. 20–21; 特困办法 Art. 16–17) -------------------------------------
    @workflow.update
    async def decide(self, inp: DecisionInput) -> ApplicationState:
        """Approve (amount from the means test on the decision date, payment from the next month,
        the entitlement started) or refuse (written notice with reasons, delivered through the
        township within 3 working days of the decision; an offer of 低保边缘/刚性支出 recognition
        where the household fits)."""
        async with self._step():
            decided_on = self._checks().decide(inp)
            s = self.state
            policy = self._policy()
            assessed: AssessResult | None = None
            if s.programme is not Programme.TEMPORARY and s.household and s.verification:
                assessed = await self._assess(s.household, s.verification.results, decided_on)
            if inp.outcome is DecisionOutcome.APPROVE:
                await self._approve(inp, decided_on, policy, assessed)
            else:
                await self._refuse(inp, decided_on, policy, assessed)
        return self.state

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        self._checks().decide(inp)

    def _decided_by(self, actor: Actor) -> Literal["county", "township"]:
        return "township" if actor.role is Role.TOWNSHIP_OFFICER else "county"

    async def _approve(
        self, inp: DecisionInput, on: date, policy: Policy, assessed: AssessResult | None
    ) -> None:
        s = self.state
        temporary = s.programme is Programme.TEMPORARY
        assessed_amount: Decimal | None = None
        care_tier: str | None = None
        if assessed is not None:
            outcome = outcome_for(assessed.assessment, s.programme)
            if outcome is None or not outcome.eligible:
                raise invalid("outcome", "按审核确认日期重新核算，家庭不符合条件")
            assessed_amount = outcome.monthly_amount
            care_tier = outcome.care_tier.value if outcome.care_tier else None
            s.assessment = assessed.assessment
            s.verified_household = assessed.verified_household
        amount = inp.amount if inp.amount is not None else (assessed_amount or Decimal("0.00"))
        paying = s.programme in PAYING_PROGRAMMES
        decision = DecisionRecord(
            at=workflow.now(),
            actor=inp.actor,
            on=on,
            outcome=DecisionOutcome.APPROVE,
            decided_by_level=self._decided_by(inp.actor),
            file_received_on=s.file_received_on or on,
            amount=amount,
            assessed_amount=assessed_amount,
            amount_reason_zh=inp.amount_reason_zh,
            start_month=first_of_next_month(on) if paying else None,
            care_tier=care_tier if s.programme is Programme.TEKUN else None,
            centralised=inp.centralised,
            institution_name=inp.institution_name,
            note_zh=inp.note_zh,
        )
        s.decision = decision
        s.approved_amount = amount
        s.start_month = decision.start_month
        if inp.card_account is not None:
            s.card_account = inp.card_account
        for name in (DECISION, OVERALL, EDGE_RECOGNITION):
            await self.book.meet(name)
        if temporary and inp.actor.role is Role.TOWNSHIP_OFFICER:
            s.status = ApplicationStatus.AWAITING_FILING
        else:
            s.status = ApplicationStatus.APPROVED
        if paying and s.verified_household is not None:
            size = 1 if s.programme is Programme.TEKUN else len(s.verified_household.members)
            can_work = members_can_work(s.verified_household, on, policy)
            await self._issue(notices.approval(s, policy, decision, can_work, size), inp.actor)
            await self._start_entitlement(decision, policy, can_work)
        text = f"审核确认：同意，月救助金额{amount}元"
        if temporary:
            text = f"审批：同意临时救助{amount}元" + (
                "（乡镇审批，报县级备案）" if s.status is ApplicationStatus.AWAITING_FILING else ""
            )
        elif not paying:
            text = f"审核确认：认定为{PROGRAMME_SHORT_NAMES_ZH[s.programme]}家庭"
        if decision.start_month:
            text += f"，自{decision.start_month.year}年{decision.start_month.month}月起发放"
        await self._record(
            "decision",
            inp.actor,
            text,
            on=on,
            evidence=self._decision_evidence(),
            outcome="approve",
            amount=str(amount),
            assessed_amount=str(assessed_amount) if assessed_amount is not None else None,
            amount_reason=inp.amount_reason_zh,
            start_month=decision.start_month.isoformat() if decision.start_month else None,
            entitlement_workflow_id=s.entitlement_workflow_id,
        )

    async def _start_entitlement(
        self, decision: DecisionRecord, policy: Policy, can_work: bool
    ) -> None:
        """Hand the approved case to its entitlement (jiuzhu.handoff): a child workflow that
        outlives the application (parent-close policy ABANDON)."""
        s = self.state
        card = s.card_account
        household = s.verified_household
        if card is None or household is None or decision.start_month is None:
            return
        approved = ApprovedCase(
            application_id=s.application_id,
            household_id=s.household_id,
            programme=s.programme,
            area_code=s.area_code,
            household=household,
            monthly_amount=decision.amount or Decimal("0.00"),
            start_month=decision.start_month,
            approved_at=workflow.now(),
            approved_by=decision.actor,
            policy_version_id=policy.version_id,
            card_account=card,
            members_can_work=can_work,
            centralised=decision.centralised,
            institution_name=decision.institution_name,
            care_tier=decision.care_tier,
        )
        child_id = entitlement_workflow_id(s.household_id, s.programme.value)
        try:
            await workflow.start_child_workflow(
                ENTITLEMENT_WORKFLOW_TYPE,
                approved,
                id=child_id,
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning(
                "entitlement already running", extra={"entitlement_workflow_id": child_id}
            )
        s.entitlement_workflow_id = child_id

    async def _refuse(
        self, inp: DecisionInput, on: date, policy: Policy, assessed: AssessResult | None
    ) -> None:
        s = self.state
        reasons: list[RefusalReason] = []
        if inp.reasons:
            reasons = [
                RefusalReason(code=r.code, text_zh=r.text_zh, basis=REASON_BASIS[r.code])
                for r in inp.reasons
            ]
        elif assessed is not None:
            outcome = outcome_for(assessed.assessment, s.programme)
            adverse = [r for r in (outcome.reasons if outcome else []) if r.code in ADVERSE_CODES]
            reasons = [
                RefusalReason(code=r.code, text_zh=r.text_zh, basis=r.basis)
                for r in (adverse or (outcome.reasons if outcome else []))
            ]
        if assessed is not None:
            s.assessment = assessed.assessment
            s.verified_household = assessed.verified_household
        decision = DecisionRecord(
            at=workflow.now(),
            actor=inp.actor,
            on=on,
            outcome=DecisionOutcome.REFUSE,
            decided_by_level=self._decided_by(inp.actor),
            file_received_on=s.file_received_on or on,
            reasons=reasons,
            reasons_zh=inp.reasons_zh or [r.text_zh for r in reasons],
            note_zh=inp.note_zh,
        )
        s.decision = decision
        s.status = ApplicationStatus.REFUSED
        for name in (DECISION, OVERALL, EDGE_RECOGNITION):
            await self.book.meet(name)
        ref = await self._issue(notices.refusal(s, policy, decision), inp.actor)
        await self._deadline(
            REFUSAL_NOTICE,
            "不予确认通知书送达",
            on,
            policy.refusal_notice,
            Level.TOWNSHIP,
            f"{measures(s.programme)}第二十一条",
        )
        offered = edge_offer_programme(s.assessment, s.programme) if s.assessment else None
        if offered is not None:
            reply_by = notices.reply_by(max(on, self._today()), EDGE_REPLY_DAYS)
            edge = await self._issue(
                notices.edge_recognition(s, policy, offered, self._today(), reply_by), inp.actor
            )
            s.edge_offer = EdgeOffer(programme=offered, notice_id=edge.notice_id, reply_by=reply_by)
        self._kick = True
        await self._record(
            "decision",
            inp.actor,
            "审核确认：不予确认。理由："
            + "；".join(decision.reasons_zh)
            + (
                f"。经核对符合{PROGRAMME_SHORT_NAMES_ZH[offered]}条件，已告知申请人"
                if offered
                else ""
            ),
            on=on,
            evidence=self._decision_evidence(),
            outcome="refuse",
            reasons=[r.model_dump(mode="json") for r in reasons] or decision.reasons_zh,
            refusal_notice_id=ref.notice_id,
            edge_offer=offered.value if offered else None,
        )

    # --- 临时救助: county record of a township approval (DOMAIN §6) -----------------------------
    @workflow.update
    async def record_filing(self, inp: FilingInput) -> ApplicationState:
        async with self._step():
            on = self._checks().filing(inp)
            s = self.state
            s.filing = FilingRecord(at=workflow.now(), actor=inp.actor, on=on, note_zh=inp.note_zh)
            s.status = ApplicationStatus.APPROVED
            await self._record("filing", inp.actor, "乡镇审批临时救助已报县级备案", on=on)
        return self.state

    @record_filing.validator
    def _validate_filing(self, inp: FilingInput) -> None:
        self._checks().filing(inp)

    # --- 送达 -----------------------------------------------------------------------------------
    @workflow.update
    async def deliver_notice(self, inp: DeliveryInput) -> ApplicationState:
        """Delivery of a notice; the refusal notice's delivery meets its 3-working-day deadline
        (低保办法 Art. 21)."""
        async with self._step():
            on = self._checks().delivery(inp)
            s = self.state
            notice = s.notice(inp.notice_id)
            assert notice is not None
            await workflow.execute_activity_method(
                NoticeActivities.record_delivery,
                DeliveryRecord(
                    notice_id=inp.notice_id,
                    delivered_on=on,
                    method=inp.method.value,
                    recipient_name=inp.recipient_name,
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
            notice.delivered_on = on
            notice.delivery_method = inp.method.value
            if notice.kind in REFUSAL_KINDS:
                await self.book.meet(REFUSAL_NOTICE)
            self._kick = True
            await self._record(
                "notice_delivered",
                inp.actor,
                f"送达《{notice.title}》（{inp.recipient_name}签收）",
                on=on,
                notice_id=inp.notice_id,
                method=inp.method.value,
            )
        return self.state

    @deliver_notice.validator
    def _validate_delivery(self, inp: DeliveryInput) -> None:
        self._checks().delivery(inp)

    # --- 低保边缘 / 刚性支出困难 after a refusal (DOMAIN §3 step 9; seed 000) --------------------
    @workflow.update
    async def edge_consent(self, inp: EdgeConsentInput) -> ApplicationState:
        """With the applicant's consent a follow-on case recognises the household within 3
        working days (its own deadline); the two cases are linked both ways."""
        async with self._step():
            on = self._checks().edge_consent(inp)
            s = self.state
            offer = s.edge_offer
            assert offer is not None
            offer.consent = inp.consent
            offer.answered_on = on
            if inp.consent:
                await self._start_follow_on(offer, on, inp.actor)
            self._kick = True
            name = PROGRAMME_SHORT_NAMES_ZH[offer.programme]
            await self._record(
                "edge_consent",
                inp.actor,
                f"申请人同意认定为{name}家庭，转入认定案件{offer.follow_on_case_id}"
                if inp.consent
                else f"申请人不同意认定为{name}家庭",
                on=on,
                consent=inp.consent,
                follow_on_case_id=offer.follow_on_case_id,
            )
        return self.state

    @edge_consent.validator
    def _validate_edge_consent(self, inp: EdgeConsentInput) -> None:
        self._checks().edge_consent(inp)

    async def _start_follow_on(self, offer: EdgeOffer, on: date, actor: Actor) -> None:
        s = self.state
        assert s.household and s.verified_household and s.assessment and s.verification
        suffix = "E" if offer.programme is Programme.DIBAO_EDGE else "R"
        follow_id = f"{s.application_id}-{suffix}"
        child = ApplicationInput(
            application_id=follow_id,
            programme=offer.programme,
            area_code=s.area_code,
            household_id=s.household_id,
            members=s.members,
            submitted_by=actor,
            submitted_at=workflow.now(),
            applied_on=on,
            linked_case_id=s.application_id,
            prior=PriorCase(
                household=s.household,
                verified_household=s.verified_household,
                assessment=s.assessment,
                verification=s.verification,
                relatives_matches=s.relatives_matches,
                county_visits=s.county_visits,
                card_account=s.card_account,
                consent_on=on,
                consented_by=actor,
            ),
        )
        try:
            await workflow.start_child_workflow(
                ApplicationWorkflow.run,
                child,
                id=application_workflow_id(follow_id),
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=initial_search_attributes(
                    child, ApplicationStatus.AWAITING_DECISION.value
                ),
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning("follow-on case already started", extra={"case": follow_id})
        offer.follow_on_case_id = follow_id
        s.linked_case_id = follow_id

    # --- 撤回 / 拒不配合 ----------------------------------------------------------------------
    @workflow.update
    async def withdraw(self, inp: WithdrawInput) -> ApplicationState:
        """The applicant withdraws (in writing) before the decision."""
        async with self._step():
            on = self._checks().withdraw(inp)
            await self._close(
                ClosingRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    kind="withdrawal",
                    reason_zh=inp.reason_zh,
                ),
                ApplicationStatus.WITHDRAWN,
            )
            await self._record("withdraw", inp.actor, f"申请人撤回申请：{inp.reason_zh}", on=on)
        return self.state

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawInput) -> None:
        self._checks().withdraw(inp)

    @workflow.update
    async def end_review(self, inp: EndReviewInput) -> ApplicationState:
        """Refusal to cooperate with the investigation or verification ends the review, with a
        written notice stating the grounds and appeal rights (低保办法 Art. 29)."""
        async with self._step():
            on = self._checks().end_review(inp)
            s = self.state
            notice = notices.review_terminated(
                s, self._policy(), on, inp.grounds_zh, inp.actor.role is Role.COUNTY_OFFICER
            )
            ref = await self._issue(notice, inp.actor)
            await self._close(
                ClosingRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    kind="non_cooperation",
                    reason_zh=inp.grounds_zh,
                    notice_id=ref.notice_id,
                ),
                ApplicationStatus.TERMINATED,
            )
            await self._record(
                "end_review",
                inp.actor,
                f"申请家庭拒不配合，终止审核确认：{inp.grounds_zh}",
                on=on,
                notice_id=ref.notice_id,
            )
        return self.state

    @end_review.validator
    def _validate_end_review(self, inp: EndReviewInput) -> None:
        self._checks().end_review(inp)

    async def _close(self, closing: ClosingRecord, status: ApplicationStatus) -> None:
        await self._stop_verification()
        self.state.closing = closing
        self.state.status = status
        if self.book.open():
            await self.book.cancel_all()
        self._kick = True

    # ======================================================================================
    # Opening, timers, completion
    # ======================================================================================
    async def _open(self, inp: ApplicationInput) -> None:
        self._upsert_static_search_attributes()
        if inp.prior is not None:
            await self._open_follow_on(inp, inp.prior)
            return
        members = {m.id_number: m.name for m in inp.members}
        matches = await workflow.execute_activity_method(
            ApplicationActivities.check_relatives,
            RelativesRequest(members=members),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        self.state.relatives_matches = matches
        note = "提交申请"
        if matches:
            note += "；申请人或家庭成员属近亲属备案对象，须县级入户核查"
        await self._record(
            "apply",
            inp.submitted_by,
            note,
            on=self.state.applied_on,
            relatives_flag=bool(matches),
            linked_case_id=inp.linked_case_id,
        )

    async def _open_follow_on(self, inp: ApplicationInput, prior: PriorCase) -> None:
        """A follow-on recognition case starts accepted, with the refused case's investigation
        and verification, and must be decided within 3 working days of the consent."""
        s = self.state
        policy = await self._fetch_policy(prior.consent_on, "consent_on")
        s.accepted_on, s.accepted_by = prior.consent_on, prior.consented_by
        s.household = prior.household
        s.verified_household = prior.verified_household
        s.assessment = prior.assessment
        s.verification = prior.verification
        s.relatives_matches = prior.relatives_matches
        s.county_visits = prior.county_visits
        s.card_account = prior.card_account
        s.file_received_on = prior.consent_on
        s.status = ApplicationStatus.AWAITING_DECISION
        name = PROGRAMME_SHORT_NAMES_ZH[s.programme]
        await self._deadline(
            EDGE_RECOGNITION,
            f"{name}家庭认定",
            prior.consent_on,
            policy.edge_recognition,
            self._decider_level(),
            "豫政办〔2022〕103号 二(二)3",
        )
        await self._record(
            "accept",
            prior.consented_by,
            f"经申请人同意，由案件{inp.linked_case_id}转入{name}家庭认定（政策版本{policy.version_id}）",
            on=prior.consent_on,
            linked_case_id=inp.linked_case_id,
        )

    def _finished(self) -> bool:
        s = self.state
        if s.status in (
            ApplicationStatus.APPROVED,
            ApplicationStatus.WITHDRAWN,
            ApplicationStatus.TERMINATED,
            ApplicationStatus.LAPSED,
        ):
            return True
        if s.status is ApplicationStatus.REFUSED:
            delivered = any(n.kind in REFUSAL_KINDS and n.delivered_on for n in s.notices)
            return delivered and (s.edge_offer is None or not s.edge_offer.open)
        return False

    def _next_timer(self) -> datetime | None:
        s = self.state
        instants: list[datetime] = []
        if s.status is ApplicationStatus.PUBLICITY:
            d = self.book.get(PUBLICITY)
            if d is not None and d.is_open:
                instants.append(d.due_at - PUBLICITY_CLOSE_LEAD)
        if s.status is ApplicationStatus.DOCUMENTS_REQUESTED and s.missing_documents:
            instants.append(end_of(s.missing_documents.submit_by))
        if s.edge_offer is not None and s.edge_offer.open:
            instants.append(end_of(s.edge_offer.reply_by))
        return min(instants) if instants else None

    async def _on_timers(self) -> None:
        s = self.state
        now = workflow.now()
        if s.status is ApplicationStatus.PUBLICITY:
            d = self.book.get(PUBLICITY)
            if d is not None and d.is_open and now >= d.due_at - PUBLICITY_CLOSE_LEAD:
                await self._close_publicity(d)
        notice = s.missing_documents
        if (
            s.status is ApplicationStatus.DOCUMENTS_REQUESTED
            and notice is not None
            and now >= end_of(notice.submit_by)
        ):
            await self._close(
                ClosingRecord(
                    at=now,
                    actor=notice.actor,
                    on=notice.submit_by,
                    kind="lapsed",
                    reason_zh="逾期未补齐材料",
                ),
                ApplicationStatus.LAPSED,
            )
            await self._record(
                "lapsed", None, f"至{notice.submit_by.isoformat()}未补齐材料，申请终结", on=None
            )
        offer = s.edge_offer
        if offer is not None and offer.open and now >= end_of(offer.reply_by):
            offer.expired = True
            await self._record(
                "edge_offer_expired",
                None,
                f"申请人至{offer.reply_by.isoformat()}未答复是否同意认定",
                on=None,
            )

    # ======================================================================================
    # Helpers
    # ======================================================================================
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
        await workflow.wait_condition(lambda: self._ready)
        async with self._locked():
            yield

    def _today(self) -> date:
        return clock_today()

    def _policy(self) -> Policy:
        if self.policy is None:
            raise wrong_state("案件尚未受理")
        return self.policy

    def _decider_level(self) -> Level:
        return decider_level(self._policy(), self.state.programme, self.state.requested_amount)

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

    def _checks(self) -> StepChecks:
        """The step checks against the case as it is now (validators and, again, handlers)."""
        return StepChecks(state=self.state, policy=self.policy, today=self._today())

    async def _fetch_policy(self, on: date, field: str) -> Policy:
        """The policy in force on the acceptance date; recorded with every step."""
        try:
            policy: Policy = await workflow.execute_activity_method(
                PolicyActivities.policy_in_force,
                PolicyRequest(area_code=self.state.area_code, on=on),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
        except ActivityError as exc:
            raise ApplicationError(
                f"{on.isoformat()}在{self.state.area_code}没有生效的救助政策",
                error_details(field),
                type=ErrorType.NO_POLICY.value,
                non_retryable=True,
            ) from exc
        self.policy = policy
        self.state.policy_version_id = policy.version_id
        return policy

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
                area_code=self.state.area_code,
                policy=self._policy(),
                basis=basis,
            )
        )

    async def _issue(self, notice: Any, actor: Actor | None) -> NoticeRef:
        s = self.state
        notice_id = f"{s.application_id}-N{len(s.notices) + 1:02d}"
        ref: NoticeRef = await workflow.execute_activity_method(
            NoticeActivities.issue_notice,
            IssueNotice(
                notice_id=notice_id,
                case_id=s.application_id,
                workflow_id=workflow.info().workflow_id,
                kind=notice.kind,
                payload=notice.model_dump(mode="json"),
                issued_by=actor,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        s.notices.append(ref)
        return ref

    # --- publishing ----------------------------------------------------------------------
    async def _deadlines_changed(self) -> None:
        """A deadline was added, met, escalated or moved. Inside a step nothing is done here:
        the step ends by writing the search attributes and the read model once. Otherwise (a
        watcher's escalation, a calendar recompute) they are written now."""
        if not self._in_step:
            await self._write([])

    def _upsert_static_search_attributes(self) -> None:
        """Kind, programme and areas, unless the starter already set them (the API and the
        temporary case do): each search attribute is a payload the worker converts."""
        s = self.state
        present = {pair.key.name for pair in workflow.info().typed_search_attributes}
        updates = [
            update
            for update in (
                SA_CASE_KIND.value_set(CaseKind.APPLICATION.value),
                SA_PROGRAMME.value_set(s.programme.value),
                SA_AREA.value_set(s.area_code),
                SA_COUNTY.value_set(county_of(s.area_code) or s.area_code),
                SA_TOWNSHIP.value_set(township_of(s.area_code) or s.area_code),
                SA_HOUSEHOLD.value_set(s.household_id),
            )
            if update.key.name not in present
        ]
        if updates:
            workflow.upsert_search_attributes(updates)

    def _upsert_search_attributes(self) -> None:
        """Status, next deadline, overdue and provisional flags: only those that changed (each
        upsert is a history event and a visibility write)."""
        next_due = self.book.next_due()
        wanted: dict[str, Any] = {
            SA_STATUS.name: self.state.status.value,
            SA_NEXT_DEADLINE.name: next_due,
            SA_OVERDUE.name: self.book.overdue(),
            SA_PROVISIONAL.name: self.book.has_provisional(),
        }
        changed = [k for k, v in wanted.items() if self._published.get(k, _UNSET) != v]
        if not changed:
            return
        updates: list[Any] = []
        for name in changed:
            value = wanted[name]
            if name == SA_STATUS.name:
                updates.append(SA_STATUS.value_set(value))
            elif name == SA_NEXT_DEADLINE.name:
                updates.append(
                    SA_NEXT_DEADLINE.value_set(value) if value else SA_NEXT_DEADLINE.value_unset()
                )
            elif name == SA_OVERDUE.name:
                updates.append(SA_OVERDUE.value_set(value))
            else:
                updates.append(SA_PROVISIONAL.value_set(value))
            self._published[name] = value
        workflow.upsert_search_attributes(updates)

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
        now = workflow.now()
        self.state.timeline.append(
            TimelineEntry(at=now, action=action, actor=actor, note_zh=note_zh, on=on)
        )
        audit = AuditRecord(
            dedupe_key=f"{workflow.info().workflow_id}:{len(self.state.timeline)}:{action}",
            at=now,
            case_id=self.state.application_id,
            workflow_id=workflow.info().workflow_id,
            action=action,
            actor=actor,
            policy_version_id=self.state.policy_version_id,
            evidence=list(evidence or []),
            detail={
                "note_zh": note_zh,
                "on": on.isoformat() if on else None,
                "status": self.state.status.value,
                **detail,
            },
        )
        await self._write([audit])

    async def _write(self, audit: list[AuditRecord]) -> None:
        self.state.revision += 1
        self._upsert_search_attributes()
        await workflow.execute_activity_method(
            RecordActivities.record_step,
            RecordStep(snapshot=self._snapshot(), audit=audit),
            start_to_close_timeout=RECORD_TIMEOUT,
        )

    def _snapshot(self) -> CaseSnapshot:
        return case_snapshot(
            self.state,
            self.policy,
            workflow.info().workflow_id,
            self.book.next_due(),
            self.book.overdue(),
        )
