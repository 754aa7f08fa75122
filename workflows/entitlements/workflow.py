"""The entitlement workflow: one per household and programme (stable id), from the first payment
to the last (DOMAIN §4 termination, §5).

It holds the amount, the members' shares, the card account and the schedule, and keeps the
read model the payroll reads current (``entitlement_account``) through an activity at every
change — the payroll never queries workflows. Its one ``Alarm`` drives reviews (低保办法 Art. 31:
every 12 months, 6 where members can work), an adjusted amount's first month, the end of a
特困 termination publicity, the end after the last payable month, and the deadline book's
reminders and escalations. Human steps are Updates whose validators call the pure checks
(``checks``) and whose work lives in the statutory steps (``steps/``).

It continues-as-new when a decided review starts a new cycle, and when its history grows past
``HISTORY_BOUND`` events or the server suggests it, carrying its state."""

import asyncio
from datetime import date, datetime, timedelta
from decimal import Decimal

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook
from workflows.entitlements.steps import changes, review, settlement, termination

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.entitlements.activities import EntitlementActivities
    from activities.entitlements.models import AccountSnapshot
    from activities.policy import PolicyActivities, PolicyRequest
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import beijing_date, start_of_day, workflow_today
    from jiuzhu.contract import Actor, CaseKind
    from jiuzhu.records import AuditRecord, TimelineEntry
    from jiuzhu.versions import (
        DEATH_RECOVERY_AFTER_SETTLEMENT,
        ENTITLEMENT_BASELINE,
        KERNEL_PATCHES,
        RECOVERY_AFTER_SETTLEMENT,
        RECOVERY_ON_END,
        TEKUN_MINOR_COVERAGE,
        TEKUN_SELF_CARE,
        Versions,
    )
    from rules.calendar import add_months
    from rules.household import age_on
    from rules.periods import Period, PeriodUnit, months
    from rules.programmes import Programme
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.entitlements import checks
    from workflows.entitlements.amounts import fold_next_amount
    from workflows.entitlements.contract import (
        ENTITLEMENT_WORKFLOW_TYPE,
        GET_STATE,
        STATUS_LABELS_ZH,
        EntitlementStatus,
        initial_search_attributes,
    )
    from workflows.entitlements.models import (
        TIMELINE_KEEP,
        CardAccountChange,
        ChangeReceipt,
        ChangeReport,
        DeathNotification,
        DeathResult,
        EntitlementInput,
        EntitlementState,
        InvestigationClose,
        MemberShare,
        MoveOut,
        MoveOutResult,
        NoticeReason,
        NoticeRequest,
        ReviewKind,
        ReviewOutcome,
        ReviewResult,
        SelfCareReassessment,
        SelfCareResult,
        SummaryRequest,
        WorkRefusal,
        WorkRefusalResult,
    )
    from workflows.entitlements.snapshots import account_snapshot, applicant, case_snapshot

__all__ = ["EntitlementWorkflow", "initial_search_attributes"]

HISTORY_BOUND = 10_000  # events: continue-as-new well before the server's limits

# The entitlement's own wake-ups in its Alarm (the deadline book's are ``deadline:<name>``).
WAKE_END = "entitlement:end"  # the first day after the last payable month
WAKE_PUBLICITY = "entitlement:publicity"  # the day after a 特困 termination publicity
WAKE_AMOUNT = "entitlement:amount"  # the first month of an adjusted amount
WAKE_REVIEW = "entitlement:review"  # the periodic review is due
WAKE_COVERAGE = "entitlement:coverage"  # a 特困 minor reaches the coverage age (18)


# Every patch an entitlement run started today takes (``Versions``): one baseline marker per run
# (a continued run asks it again, as a new execution).
BASELINE_INCLUDES = KERNEL_PATCHES | {
    RECOVERY_ON_END,
    RECOVERY_AFTER_SETTLEMENT,
    changes.RECOVERY_ON_DEATH,
    DEATH_RECOVERY_AFTER_SETTLEMENT,
    TEKUN_SELF_CARE,
    TEKUN_MINOR_COVERAGE,
}


@workflow.defn(name=ENTITLEMENT_WORKFLOW_TYPE)
class EntitlementWorkflow:
    @workflow.init
    def __init__(self, inp: EntitlementInput) -> None:
        self.inp = inp
        if inp.carried is not None:
            self.state = inp.carried
            self.ready = True
        else:
            start = inp.start_month.replace(day=1)
            self.state = EntitlementState(
                entitlement_id=f"{inp.household_id}-{inp.programme.value}",
                application_id=inp.application_id,
                household_id=inp.household_id,
                programme=inp.programme,
                single_person=inp.single_person,
                area_code=inp.area_code,
                area=AreaRef.of(inp.area_code),  # resolved once, carried in state
                members=[
                    MemberShare(id_number=m.id_number, name=m.name, relation=m.relation.value)
                    for m in inp.household.members
                ],
                members_can_work=inp.members_can_work,
                centralised=inp.centralised,
                institution_name=inp.institution_name,
                care_tier=inp.care_tier,
                card_account=inp.card_account,
                policy_version_id=inp.policy_version_id,
                approved_at=inp.approved_at,
                approved_by=inp.approved_by,
                monthly_amount=inp.monthly_amount,
                payable_amount=inp.monthly_amount,
                start_month=start,
                # Terms below are replaced by the policy in force as soon as run() starts.
                review_every=months(12),
                next_review=add_months(start, 12),
                withdrawal_period=months(6),
                death_review=months(3),
                work_refusal_limit=3,
                reminder_lead=Period(value=1, unit=PeriodUnit.WORKING_DAYS),
            )
            self.ready = False
        # first: the baseline is asked before any other version of the run
        self.versions = Versions(ENTITLEMENT_BASELINE, BASELINE_INCLUDES)
        self.alarm = Alarm(self.versions)
        # Asked before any command of the run (a patch asked after a local activity can read
        # otherwise on replay): an entitlement started or continued after the change recovers
        # what was paid beyond its end (steps/termination.py: ``end``).
        self.recovers_on_end = self.versions.patched(RECOVERY_ON_END)
        self.book = DeadlineBook(
            self.state.deadlines, self.state.entitlement_id, self._publish, self.alarm
        )
        self.publisher = CasePublisher(CaseKind.ENTITLEMENT, STATUS_LABELS_ZH, self.versions)
        self.lock = asyncio.Lock()
        self.continue_requested = False
        self.recovery_pending = False  # ended; its receivable waits for the bank's answers
        self._account: AccountSnapshot | None = None

    # --- main loop -----------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: EntitlementInput) -> EntitlementState:
        s = self.state
        self.publisher.static(programme=s.programme.value, area=s.area, household_id=s.household_id)
        if inp.carried is not None:
            self.book.resume()
            await self.record("continued", None, f"第{s.cycle}次续接（核查周期）")
        else:
            await self._load_terms()
            self.ready = True
            await self.record(
                "enrol",
                s.approved_by,
                f"纳入保障，自{s.start_month:%Y年%m月}起每月发放{s.payable_amount}元",
                application_id=s.application_id,
                monthly_amount=str(s.monthly_amount),
            )
        self._arm()
        while not self._stop():
            await self.alarm.sleep(self._stop)
            due = self.alarm.pop_due()
            if due:
                async with self.lock:
                    await self._on_wake(due)
                    self._arm()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if s.status is EntitlementStatus.ENDED:
            if self.recovery_pending or s.recoveries_waiting:
                await termination.recover_when_settled(self)
            return s
        await self.refresh_payments()
        s.cycle += 1
        s.timeline = s.timeline[-TIMELINE_KEEP:]
        s.deadlines[:] = [d for d in s.deadlines if d.is_open][-TIMELINE_KEEP:]
        workflow.continue_as_new(self.inp.model_copy(update={"carried": s}))

    def _stop(self) -> bool:
        """Ended, a new review cycle, or a history grown past its bound."""
        if self.state.status is EntitlementStatus.ENDED or self.continue_requested:
            return True
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested() or info.get_current_history_length() > HISTORY_BOUND
        )

    def _arm(self) -> None:
        """Aim the entitlement's own wake-ups at what its state says comes next."""
        s = self.state
        paying = s.status is not EntitlementStatus.ENDED
        self._wake(WAKE_END, add_months(s.end_month, 1) if s.end_month and paying else None)
        publicity = (
            s.status is EntitlementStatus.TERMINATING
            and s.termination_publicity_until is not None
            and s.end_month is None
        )
        self._wake(
            WAKE_PUBLICITY,
            s.termination_publicity_until + timedelta(days=1)
            if publicity and s.termination_publicity_until
            else None,
        )
        self._wake(WAKE_AMOUNT, s.next_amount_from)
        # Only deaths recorded after ``DEATH_RECOVERY_AFTER_SETTLEMENT`` ever set it.
        if s.settle_at is not None and s.recoveries_waiting:
            self.alarm.set(settlement.WAKE_SETTLED, s.settle_at)
        else:
            self.alarm.clear(settlement.WAKE_SETTLED)
        self._wake(WAKE_REVIEW, s.next_review if self._review_due_pending() else None)
        if s.coverage_until is not None or self.alarm.get(WAKE_COVERAGE) is not None:
            # Only 特困 minors enrolled after ``TEKUN_MINOR_COVERAGE`` ever set it.
            coverage = s.coverage_until if self._review_due_pending() else None
            self._wake(WAKE_COVERAGE, coverage)

    def _wake(self, key: str, day: date | None) -> None:
        if day is None:
            self.alarm.clear(key)
            return
        at = start_of_day(day)
        if self.alarm.get(key) != at:
            self.alarm.set(key, at)

    def _review_due_pending(self) -> bool:
        s = self.state
        return s.review is None and s.status in (
            EntitlementStatus.ACTIVE,
            EntitlementStatus.SUSPENDED,
        )

    async def _on_wake(self, due: list[str]) -> None:
        """What came due, in statutory order: the end, the close of a publicity, an adjusted
        amount's month, the periodic review; then the deadline book's reminders/escalations."""
        s = self.state
        today = workflow_today()
        if s.end_month is not None and today >= add_months(s.end_month, 1):
            await termination.end(self)
            return
        if settlement.WAKE_SETTLED in due and s.recoveries_waiting:
            await changes.recheck_settlement(self)
        if WAKE_PUBLICITY in due and termination.publicity_over(self):
            await termination.after_tekun_publicity(self)
        if s.next_amount_from is not None and today >= s.next_amount_from:
            fold_next_amount(s)
            await self.record("amount_changed", None, f"本月起发放{s.payable_amount}元")
        if (
            s.coverage_until is not None
            and today >= s.coverage_until
            and self._review_due_pending()
        ):
            await review.open_coverage_review(self)
        if self._review_due_pending() and today >= s.next_review:
            await review.open_review(self, ReviewKind.PERIODIC, "定期核查（低保办法第三十一条）")
        await self.book.on_wake([k for k in due if self.book.owns(k)])

    async def _load_terms(self) -> None:
        """The policy in force on the approval date (a case runs under the policy of its
        acceptance; the application recorded which version)."""
        s = self.state
        policy = await call(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.area.code, on=beijing_date(s.approved_at)),
        )
        s.review_every = policy.review_period(can_work=s.members_can_work)
        s.next_review = add_months(s.start_month, self.review_months())
        s.withdrawal_period = policy.withdrawal_period
        s.death_review = policy.death_review
        s.work_refusal_limit = policy.work_refusal_limit
        s.reminder_lead = policy.reminder_lead
        if s.programme is Programme.TEKUN and not s.centralised:
            s.frequency = policy.tekun_dispersed_payment_frequency.value
        if s.programme is Programme.DIBAO_EDGE:
            s.review_every = policy.edge_review  # 边缘家庭: reviewed yearly (seed 000)
            s.next_review = add_months(s.start_month, self.review_months())
        if s.programme is Programme.TEKUN:
            self._load_tekun_terms(policy.self_care_reassessment, policy.tekun_minor_coverage_age)
        if s.programme is Programme.RIGID_EXPENSE:
            # 刚性支出困难: recognition valid ≤ 12 months, then re-apply (no review).
            validity = termination.in_months(policy.rigid_expense_validity)
            s.end_month = add_months(s.start_month, validity - 1)

    def _load_tekun_terms(self, reassessment: Period, coverage_age: int) -> None:
        """特困 (issue 14 item 6, patched): the self-care re-assessment period (特困办法
        Art. 23) and, for a person under the coverage age, the day they reach it — covered to
        18, longer while in school (特困办法, DOMAIN §4): that day opens the in-school review."""
        s = self.state
        if self.versions.patched(TEKUN_SELF_CARE):
            s.self_care_reassessment = reassessment
        person = self.inp.household.applicant
        if age_on(person.birth_date, s.start_month) < coverage_age and self.versions.patched(
            TEKUN_MINOR_COVERAGE
        ):
            born = person.birth_date
            year = born.year + coverage_age
            # Born on 29 February: the birthday is 1 March in a common year.
            s.coverage_until = (
                date(year, born.month, born.day)
                if not (born.month == 2 and born.day == 29)
                else date(year, 3, 1)
            )

    # --- queries and signals -------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> EntitlementState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded: recompute provisional deadlines."""
        async with self.lock:
            await self.book.recompute_provisional()

    # --- updates (validators: pure checks; work: steps/) ----------------------------------
    @workflow.update
    async def report_change(self, inp: ChangeReport) -> ChangeReceipt:
        """A reported change or data-comparison flag opens an investigation with a deadline;
        a reported death also suspends that share and opens the household review."""
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            result = await changes.report_change(self, inp)
            self._arm()
            return result

    @report_change.validator
    def _validate_report_change(self, inp: ChangeReport) -> None:
        checks.check_report_change(self.state, inp)

    @workflow.update
    async def close_investigation(self, inp: InvestigationClose) -> ChangeReceipt:
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        async with self.lock:
            result = await changes.close_investigation(self, inp)
            self._arm()
            return result

    @close_investigation.validator
    def _validate_close_investigation(self, inp: InvestigationClose) -> None:
        checks.check_close_investigation(self.state, inp)

    @workflow.update
    async def record_death(self, inp: DeathNotification) -> DeathResult:
        """Monthly death check: suspend the share at once, open the household review."""
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            result = await changes.record_death(self, inp)
            self._arm()
            return result

    @record_death.validator
    def _validate_record_death(self, inp: DeathNotification) -> None:
        checks.check_record_death(self.state, inp)

    @workflow.update
    async def record_work_refusal(self, inp: WorkRefusal) -> WorkRefusalResult:
        """低保办法 Art. 34: the 3rd unjustified refusal of suitable work cuts the share."""
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            result = await changes.record_work_refusal(self, inp)
            self._arm()
            return result

    @record_work_refusal.validator
    def _validate_work_refusal(self, inp: WorkRefusal) -> None:
        checks.check_work_refusal(self.state, inp)

    @workflow.update
    async def record_move_out(self, inp: MoveOut) -> MoveOutResult:
        """成员迁出 (分户): the member's share ends and their household membership is released."""
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            result = await changes.record_move_out(self, inp)
            self._arm()
            return result

    @record_move_out.validator
    def _validate_move_out(self, inp: MoveOut) -> None:
        checks.check_move_out(self.state, inp)

    @workflow.update
    async def record_self_care_assessment(self, inp: SelfCareReassessment) -> SelfCareResult:
        """特困办法 Art. 20–23: the re-assessment of a reported self-care change; a new care
        tier changes the care standard from the next month."""
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            result = await changes.record_self_care_assessment(self, inp)
            self._arm()
            return result

    @record_self_care_assessment.validator
    def _validate_self_care(self, inp: SelfCareReassessment) -> None:
        checks.check_self_care_assessment(self.state, inp)

    @workflow.update
    async def change_card_account(self, inp: CardAccountChange) -> None:
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        async with self.lock:
            await changes.change_card_account(self, inp)

    @change_card_account.validator
    def _validate_card(self, inp: CardAccountChange) -> None:
        checks.check_card_change(self.state, inp)

    @workflow.update
    async def record_review_outcome(self, inp: ReviewOutcome) -> ReviewResult:
        """The county's decision on the open review: continue, adjust, stop (特困: 7-day
        publicity first) or gradual withdrawal (渐退期)."""
        self.alarm.drop_stale()  # first, before any await (Alarm.drop_stale)
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            result = await review.decide(self, inp)
            self._arm()
            return result

    @record_review_outcome.validator
    def _validate_review(self, inp: ReviewOutcome) -> None:
        checks.check_review_outcome(self.state, inp)

    # --- shared by the steps ---------------------------------------------------------------
    def mint(self, prefix: str) -> str:
        """An id unique within the entitlement (cycle and counter survive continue-as-new)."""
        self.state.counter += 1
        return f"{prefix}{self.state.cycle}-{self.state.counter}"

    def review_months(self) -> int:
        return termination.in_months(self.state.review_every)

    def spec(self, name: str, label_zh: str, period: Period) -> DeadlineSpec:
        """A deadline owed by the township, escalated to the county."""
        area = self.state.area
        return DeadlineSpec.owed_by_township(
            name=name,
            label_zh=label_zh,
            start=workflow_today(),
            period=period,
            reminder_lead=self.state.reminder_lead,
            area=area,
            basis="低保办法 Art. 31",
        )

    async def notice(
        self,
        kind: str,
        effective: date,
        reasons: list[NoticeReason],
        previous_amount: Decimal | None = None,
        new_amount: Decimal | None = None,
        withdrawal_until: date | None = None,
        referral: str | None = None,
    ) -> str:
        """Issue a written notice (rendered, kept, delivery asked of the township)."""
        s = self.state
        ref = await call(
            EntitlementActivities.issue_notice,
            NoticeRequest(
                notice_id=f"{s.entitlement_id}-{self.mint('N')}",
                case_id=s.entitlement_id,
                kind=kind,
                area_code=s.area.code,
                applicant_name=applicant(s).name,
                programme=s.programme,
                issued_on=workflow_today(),
                effective_month=effective,
                reasons=reasons,
                previous_amount=previous_amount,
                new_amount=new_amount,
                withdrawal_until=withdrawal_until,
                referral=referral,
                deliver_to_area=s.area.township,
            ),
        )
        s.notices.append(ref)
        return ref.notice_id

    async def refresh_payments(self) -> None:
        summary = await call(
            EntitlementActivities.payment_summary,
            SummaryRequest(case_id=self.state.entitlement_id),
        )
        summary.as_of = workflow.now()
        self.state.payments = summary

    # --- publishing ------------------------------------------------------------------------
    async def _publish(self) -> None:
        await self._write([])

    async def record(
        self, action: str, actor: Actor | None, note_zh: str = "", **detail: object
    ) -> None:
        """A step on the timeline, with its audit line, published."""
        s = self.state
        s.timeline.append(
            TimelineEntry(at=workflow.now(), action=action, actor=actor, note_zh=note_zh)
        )
        audit = self.publisher.audit(
            case_id=s.entitlement_id,
            seq=f"{s.cycle}:{s.revision + 1}",
            action=action,
            actor=actor,
            policy_version_id=s.policy_version_id,
            detail={"note_zh": note_zh, **detail},
        )
        await self._write([audit])

    def _next_review_at(self) -> datetime | None:
        return start_of_day(self.state.next_review) if self._review_due_pending() else None

    async def _write(self, audit: list[AuditRecord]) -> None:
        """Search attributes (changed ones only), the payroll's row (when it changed) and the
        case-list row with the audit lines."""
        s = self.state
        s.revision += 1
        also = self._next_review_at()
        self.publisher.dynamic(
            status=s.status.value,
            book=self.book,
            also_due=also,
            outcome="ended" if s.status is EntitlementStatus.ENDED else None,
        )
        wf_id = workflow.info().workflow_id
        account = account_snapshot(s, wf_id)
        if self._account is None or self._account.model_dump(
            exclude={"revision"}
        ) != account.model_dump(exclude={"revision"}):
            await call(EntitlementActivities.publish_account, account)
            self._account = account
        dues = [d for d in (self.book.next_due(), also) if d is not None]
        next_due = min(dues) if dues else None
        await self.publisher.write(case_snapshot(s, wf_id, next_due, self.book.overdue()), audit)
