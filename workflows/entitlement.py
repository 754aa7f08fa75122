"""The entitlement workflow: one per household and programme (stable id), from the first payment
to the last (DOMAIN §4 termination, §5).

It holds the amount, the members' shares, the card account and the schedule, and keeps the
read model the payroll reads current (``entitlement_account``) through an activity at every
change — the payroll never queries workflows. It continues-as-new at each review (and when the
history grows), carrying its state. Its own clock drives reviews (低保办法 Art. 31: every 12
months, 6 where members can work), the end of a gradual withdrawal (渐退期) and the end of a
特困 termination publicity; human steps are Updates with validators."""

import asyncio
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.entitlements import EntitlementActivities
    from activities.policy import PolicyActivities, PolicyRequest
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
    )
    from jiuzhu.deadline_models import DeadlineSpec
    from jiuzhu.handoff import ENTITLEMENT_WORKFLOW_TYPE
    from jiuzhu.records import AuditRecord, CaseSnapshot, RecordStep
    from rules.areas import county_of, township_of
    from rules.calendar import add_months
    from rules.periods import Period, PeriodUnit, months
    from rules.programmes import Programme
    from rules.reasons import ReasonCode
    from workflows import clock
    from workflows.clock import SHANGHAI
    from workflows.deadlines import DeadlineBook
    from workflows.entitlement_models import (
        CHANGE_INVESTIGATION,
        CHANGE_NAMES_ZH,
        REVIEW_COMPLETION,
        TEKUN_TERMINATION_PUBLICITY,
        TIMELINE_KEEP,
        AccountSnapshot,
        CardAccountChange,
        ChangeKind,
        ChangeReceipt,
        ChangeReport,
        DeathNotification,
        DeathResult,
        EntitlementInput,
        EntitlementPublish,
        EntitlementState,
        EntitlementStatus,
        Investigation,
        InvestigationClose,
        MemberShare,
        NoticeReason,
        NoticeRequest,
        ReviewKind,
        ReviewOutcome,
        ReviewOutcomeKind,
        ReviewResult,
        ReviewTask,
        ShareStatus,
        SummaryRequest,
        TimelineEntry,
        WorkRefusal,
        WorkRefusalResult,
        month_index,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
CENT = Decimal("0.01")
DIBAO_BASIS = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
TEKUN_BASIS = "《特困人员认定办法》（民发〔2021〕43号）"


def _months(period: Period) -> int:
    return period.value if period.unit is PeriodUnit.MONTHS else max(1, period.value // 30)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=SHANGHAI)


def _first_of_month(d: date) -> date:
    return d.replace(day=1)


def _reject(message: str, kind: str = "InvalidState", field: str | None = None) -> ApplicationError:
    """A refusal the API maps: Forbidden → 403, NotFound → 404, InvalidInput → 422 (naming
    ``field``), InvalidState → 409."""
    return ApplicationError(message, {"field": field}, type=kind, non_retryable=True)


def initial_search_attributes(inp: EntitlementInput) -> TypedSearchAttributes:
    """Search attributes for a caller that starts the entitlement (the application does, as a
    child); the workflow also upserts them on its first step."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.ENTITLEMENT.value),
            SearchAttributePair(SA_PROGRAMME, inp.programme.value),
            SearchAttributePair(SA_STATUS, EntitlementStatus.ACTIVE.value),
            SearchAttributePair(SA_AREA, inp.area_code),
            SearchAttributePair(SA_COUNTY, county_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_TOWNSHIP, township_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_HOUSEHOLD, inp.household_id),
            SearchAttributePair(SA_OVERDUE, False),
        ]
    )


@workflow.defn(name=ENTITLEMENT_WORKFLOW_TYPE)
class EntitlementWorkflow:
    @workflow.init
    def __init__(self, inp: EntitlementInput) -> None:
        self.inp = inp
        if inp.carried is not None:
            self.state = inp.carried
            self.ready = True
        else:
            members = [
                MemberShare(id_number=m.id_number, name=m.name, relation=m.relation.value)
                for m in inp.household.members
            ]
            self.state = EntitlementState(
                entitlement_id=f"{inp.household_id}-{inp.programme.value}",
                application_id=inp.application_id,
                household_id=inp.household_id,
                programme=inp.programme,
                single_person=inp.single_person,
                area_code=inp.area_code,
                members=members,
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
                start_month=_first_of_month(inp.start_month),
                # Terms below are replaced by the policy in force as soon as run() starts.
                review_every=months(12),
                next_review=add_months(_first_of_month(inp.start_month), 12),
                withdrawal_period=months(6),
                death_review=months(3),
                work_refusal_limit=3,
                reminder_lead=Period(value=1, unit=PeriodUnit.WORKING_DAYS),
            )
            self.ready = False
        self.book = DeadlineBook(self.state.deadlines, self.state.entitlement_id, self._publish)
        self.lock = asyncio.Lock()
        self.poke = False
        self.continue_requested = False

    # --- main loop -----------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: EntitlementInput) -> EntitlementState:
        if inp.carried is not None:
            self.book.resume()
            await self._record("continued", None, f"第{self.state.cycle}次续接（核查周期）")
        else:
            await self._load_terms()
            self.ready = True
            await self._record(
                "enrol",
                self.state.approved_by,
                f"纳入保障，自{self.state.start_month:%Y年%m月}起每月发放"
                f"{self.state.payable_amount}元",
                application_id=self.state.application_id,
                monthly_amount=str(self.state.monthly_amount),
            )
        while True:
            today = clock.today()
            s = self.state
            if s.status is EntitlementStatus.ENDED:
                break
            if s.end_month is not None and today >= add_months(s.end_month, 1):
                await self._end()
                break
            if (
                s.status is EntitlementStatus.TERMINATING
                and s.termination_publicity_until is not None
                and s.end_month is None
                and today > s.termination_publicity_until
            ):
                async with self.lock:
                    await self._after_termination_publicity()
                continue
            if s.next_amount_from is not None and today >= s.next_amount_from:
                async with self.lock:
                    self._fold_next_amount()
                    await self._record("amount_changed", None, f"本月起发放{s.payable_amount}元")
                continue
            if (
                s.review is None
                and s.status in (EntitlementStatus.ACTIVE, EntitlementStatus.SUSPENDED)
                and today >= s.next_review
            ):
                async with self.lock:
                    await self._open_review(ReviewKind.PERIODIC, "定期核查（低保办法第三十一条）")
                continue
            if self.continue_requested or workflow.info().is_continue_as_new_suggested():
                break
            self.poke = False
            wake = self._next_wake()
            timeout = (wake - workflow.now()).total_seconds() if wake else None
            if timeout is not None and timeout <= 0:
                continue
            try:
                await workflow.wait_condition(lambda: self.poke, timeout=timeout)
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.state.status is EntitlementStatus.ENDED:
            return self.state
        await self._refresh_payments()
        self.state.cycle += 1
        self.state.timeline = self.state.timeline[-TIMELINE_KEEP:]
        self.state.deadlines[:] = [d for d in self.state.deadlines if d.is_open][-TIMELINE_KEEP:]
        workflow.continue_as_new(self.inp.model_copy(update={"carried": self.state}))

    def _next_wake(self) -> datetime | None:
        s = self.state
        instants: list[datetime] = []
        if s.end_month is not None:
            instants.append(_midnight(add_months(s.end_month, 1)))
        if (
            s.status is EntitlementStatus.TERMINATING
            and s.termination_publicity_until
            and s.end_month is None
        ):
            instants.append(_midnight(s.termination_publicity_until + timedelta(days=1)))
        if s.next_amount_from is not None:
            instants.append(_midnight(s.next_amount_from))
        if s.review is None and s.status in (EntitlementStatus.ACTIVE, EntitlementStatus.SUSPENDED):
            instants.append(_midnight(s.next_review))
        return min(instants) if instants else None

    async def _load_terms(self) -> None:
        """The policy in force on the approval date (a case runs under the policy of its
        acceptance; the application recorded which version)."""
        s = self.state
        policy = await workflow.execute_activity_method(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.area_code, on=s.approved_at.astimezone(SHANGHAI).date()),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        s.review_every = policy.review_period(can_work=s.members_can_work)
        s.next_review = add_months(s.start_month, _months(s.review_every))
        s.withdrawal_period = policy.withdrawal_period
        s.death_review = policy.death_review
        s.work_refusal_limit = policy.work_refusal_limit
        s.reminder_lead = policy.reminder_lead
        if s.programme is Programme.TEKUN and not s.centralised:
            s.frequency = policy.tekun_dispersed_payment_frequency.value
        if s.programme is Programme.DIBAO_EDGE:
            s.review_every = policy.edge_review  # 边缘家庭: reviewed yearly (seed 000)
            s.next_review = add_months(s.start_month, _months(s.review_every))
        elif s.programme is Programme.RIGID_EXPENSE:
            # 刚性支出困难: recognition valid ≤ 12 months, then re-apply (no review).
            s.end_month = add_months(s.start_month, _months(policy.rigid_expense_validity) - 1)

    # --- queries and signals -------------------------------------------------------------
    @workflow.query
    def get_state(self) -> EntitlementState:
        return self.state

    @workflow.signal(name="calendar_changed")
    async def calendar_changed(self) -> None:
        """A year's holiday schedule was loaded: recompute provisional deadlines."""
        async with self.lock:
            await self.book.recompute_provisional()

    # --- validators shared ---------------------------------------------------------------
    def _check_actor(self, actor: Actor, roles: tuple[Role, ...]) -> None:
        if actor.role not in roles:
            raise _reject(f"role {actor.role.value} may not do this", "Forbidden")
        if not actor.covers(self.state.area_code):
            raise _reject(f"area {self.state.area_code} is outside {actor.area_code}", "Forbidden")

    def _check_open(self) -> None:
        if self.state.status is EntitlementStatus.ENDED:
            raise _reject("entitlement has ended")

    # --- updates: changes and investigations -------------------------------------------------
    @workflow.update
    async def report_change(self, inp: ChangeReport) -> ChangeReceipt:
        """A reported change or data-comparison flag opens an investigation with a deadline;
        nobody is stopped on a flag alone (seed 002). A reported death also suspends that
        member's share and opens the household review (due within 3 months)."""
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            s = self.state
            inv_id = self._mint("I")
            deadline_name = f"investigation:{inv_id}"
            inv = Investigation(
                investigation_id=inv_id,
                kind=inp.kind,
                member_id_number=inp.member_id_number,
                description_zh=inp.description_zh,
                reported_by=inp.actor,
                opened_at=workflow.now(),
                deadline_name=deadline_name,
            )
            s.investigations.append(inv)
            await self.book.start(
                self._spec(
                    deadline_name, f"{CHANGE_NAMES_ZH[inp.kind]}调查核实", CHANGE_INVESTIGATION
                )
            )
            await self._record(
                "change_reported",
                inp.actor,
                f"{CHANGE_NAMES_ZH[inp.kind]}：{inp.description_zh}",
                investigation_id=inv_id,
                kind=inp.kind.value,
            )
            review_id = None
            if inp.kind is ChangeKind.DEATH and inp.member_id_number:
                review_id = await self._apply_death(
                    DeathNotification(
                        id_number=inp.member_id_number,
                        date_of_death=inp.occurred_on or clock.today(),
                        source="reported",
                        record_ref=inv_id,
                    ),
                    inp.actor,
                )
            self.poke = True
            return ChangeReceipt(investigation_id=inv_id, review_id=review_id)

    @report_change.validator
    def _validate_report_change(self, inp: ChangeReport) -> None:
        self._check_actor(
            inp.actor, (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
        )
        self._check_open()
        if inp.member_id_number is not None and self.state.member(inp.member_id_number) is None:
            raise _reject(
                "member_id_number is not a member of this household",
                "InvalidInput",
                "member_id_number",
            )
        if inp.kind is ChangeKind.DEATH and inp.member_id_number is None:
            raise _reject("a death report names the member", "InvalidInput", "member_id_number")

    @workflow.update
    async def close_investigation(self, inp: InvestigationClose) -> ChangeReceipt:
        """The township records its finding; if circumstances changed it opens a review (the
        county decides any change of amount in the review)."""
        async with self.lock:
            inv = self._investigation(inp.investigation_id)
            assert inv is not None
            inv.closed_at = workflow.now()
            inv.closed_by = inp.actor
            inv.finding_zh = inp.finding_zh
            await self.book.meet(inv.deadline_name)
            review_id = None
            if inp.open_review:
                inv.review_opened = True
                if self.state.review is None:
                    review_id = await self._open_review(
                        ReviewKind.CHANGE, f"情况变化调查结论：{inp.finding_zh}"
                    )
                else:
                    review_id = self.state.review.review_id
            await self._record(
                "investigation_closed",
                inp.actor,
                inp.finding_zh,
                investigation_id=inv.investigation_id,
                review_opened=inp.open_review,
            )
            self.poke = True
            return ChangeReceipt(investigation_id=inv.investigation_id, review_id=review_id)

    @close_investigation.validator
    def _validate_close_investigation(self, inp: InvestigationClose) -> None:
        self._check_actor(inp.actor, (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER))
        inv = self._investigation(inp.investigation_id)
        if inv is None:
            raise _reject(f"no investigation {inp.investigation_id}", "NotFound")
        if inv.closed_at is not None:
            raise _reject("investigation already closed")

    def _investigation(self, inv_id: str) -> Investigation | None:
        return next((i for i in self.state.investigations if i.investigation_id == inv_id), None)

    # --- updates: death, work refusal, card account ------------------------------------------
    @workflow.update
    async def record_death(self, inp: DeathNotification) -> DeathResult:
        """Monthly death check (seed 002): suspend the person's share at once and open the
        household review, due within ``death_review`` (3 months). Idempotent per person."""
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            m = self.state.member(inp.id_number)
            if m is None or m.status is not ShareStatus.ACTIVE:
                return DeathResult(applied=False)
            review_id = await self._apply_death(inp, None)
            self.poke = True
            return DeathResult(applied=True, review_id=review_id)

    @record_death.validator
    def _validate_record_death(self, inp: DeathNotification) -> None:
        if self.state.member(inp.id_number) is None:
            raise _reject("not a member of this household", "NotFound")

    async def _apply_death(self, inp: DeathNotification, actor: Actor | None) -> str | None:
        s = self.state
        m = s.member(inp.id_number)
        if m is None or m.status is not ShareStatus.ACTIVE:
            return s.review.review_id if s.review else None
        m.status = ShareStatus.SUSPENDED
        m.note_zh = f"{inp.date_of_death:%Y-%m-%d}死亡（{inp.source}），暂停其份额"
        s.seen_deaths.append(inp.record_ref)
        self._recompute_payable()
        await self._record(
            "share_suspended",
            actor,
            f"{m.name}死亡，自即日起暂停其救助份额，本户每月发放{s.payable_amount}元",
            id_number=m.id_number,
            date_of_death=inp.date_of_death.isoformat(),
            source=inp.source,
        )
        reason = f"成员{m.name}死亡，家庭情况复核（3个月内）"
        await self.book.start(self._spec("death_review", "成员死亡家庭复核", s.death_review))
        if s.review is None:
            return await self._open_review(ReviewKind.DEATH, reason, deadline=False)
        s.review.reason_zh += f"；{reason}"
        return s.review.review_id

    @workflow.update
    async def record_work_refusal(self, inp: WorkRefusal) -> WorkRefusalResult:
        """低保办法 Art. 34: the ``work_refusal_limit``-th (3rd) unjustified refusal of suitable
        work cuts that person's share, from next month, with a written notice."""
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            s = self.state
            m = s.member(inp.member_id_number)
            assert m is not None
            if inp.justified:
                m.justified_refusals += 1
            else:
                m.unjustified_refusals += 1
            await self._record(
                "work_refusal",
                inp.actor,
                f"{m.name}拒绝就业（{'有正当理由' if inp.justified else '无正当理由'}）："
                f"{inp.description_zh}",
                id_number=m.id_number,
                unjustified=m.unjustified_refusals,
            )
            notice_id = None
            cut = False
            if not inp.justified and m.unjustified_refusals >= s.work_refusal_limit:
                cut = True
                previous = s.payable_amount
                m.status = ShareStatus.CUT
                m.note_zh = f"累计{m.unjustified_refusals}次无正当理由拒绝就业，减发其份额"
                effective = add_months(_first_of_month(clock.today()), 1)
                s.next_amount = self._share_amount(s.monthly_amount)
                s.next_amount_from = effective
                ref = await self._notice(
                    "reduction",
                    effective,
                    [
                        NoticeReason(
                            text_zh=f"家庭成员{m.name}有劳动能力，累计{m.unjustified_refusals}次"
                            "无正当理由拒绝接受介绍的与其健康状况、劳动能力等相适应的工作",
                            basis=f"{DIBAO_BASIS}第三十四条",
                        )
                    ],
                    previous_amount=previous,
                    new_amount=s.next_amount,
                )
                notice_id = ref
                await self._record(
                    "share_cut",
                    inp.actor,
                    f"自{effective:%Y年%m月}起减发{m.name}的份额，本户每月发放{s.next_amount}元",
                    id_number=m.id_number,
                    notice_id=notice_id,
                )
            self.poke = True
            return WorkRefusalResult(
                unjustified_refusals=m.unjustified_refusals, share_cut=cut, notice_id=notice_id
            )

    @record_work_refusal.validator
    def _validate_work_refusal(self, inp: WorkRefusal) -> None:
        self._check_actor(inp.actor, (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER))
        self._check_open()
        m = self.state.member(inp.member_id_number)
        if m is None:
            raise _reject(
                "member_id_number is not a member of this household",
                "InvalidInput",
                "member_id_number",
            )
        if m.status is not ShareStatus.ACTIVE:
            raise _reject(f"the member's share is {m.status.value}")

    @workflow.update
    async def change_card_account(self, inp: CardAccountChange) -> None:
        """The county records a new card account (e.g. after a failed payment to a closed
        account); failed lines are retried on it by the next payroll."""
        async with self.lock:
            old = self.state.card_account.account_number
            self.state.card_account = inp.card_account
            await self._record(
                "card_account_changed",
                inp.actor,
                "变更社保卡账户",
                old_account=old[-4:],
                new_account=inp.card_account.account_number[-4:],
            )

    @change_card_account.validator
    def _validate_card(self, inp: CardAccountChange) -> None:
        self._check_actor(inp.actor, (Role.COUNTY_OFFICER,))
        self._check_open()

    # --- updates: review outcome -----------------------------------------------------------
    @workflow.update
    async def record_review_outcome(self, inp: ReviewOutcome) -> ReviewResult:
        """The county's decision on the open review: continue; adjust the amount from next
        month; stop with a written notice (低保办法 Art. 32; 特困: 7-day publicity first, 特困办法
        Art. 24–27); or, income risen above the standard through work, gradual withdrawal
        (渐退期, 低保办法 Art. 33 and the 2022 notice: paid for ``withdrawal_period`` more
        months, then ended)."""
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            s = self.state
            review = s.review
            assert review is not None
            today = clock.today()
            next_month = add_months(_first_of_month(today), 1)
            if inp.confirm_deaths:
                for m in s.members:
                    if m.status is ShareStatus.SUSPENDED and "死亡" in m.note_zh:
                        m.status = ShareStatus.DECEASED
            notice_id: str | None = None
            if inp.outcome is ReviewOutcomeKind.CONTINUE:
                self._recompute_payable()
                if s.status is EntitlementStatus.SUSPENDED and s.payable_amount > 0:
                    s.status = EntitlementStatus.ACTIVE
            elif inp.outcome is ReviewOutcomeKind.ADJUST:
                assert inp.new_amount is not None
                previous = s.payable_amount
                s.next_monthly_amount = inp.new_amount
                s.next_amount = self._share_amount(inp.new_amount)
                s.next_amount_from = next_month
                if s.next_amount < previous:
                    notice_id = await self._notice(
                        "reduction",
                        next_month,
                        [self._reason(inp, ReasonCode.INCOME_BELOW_STANDARD)],
                        previous_amount=previous,
                        new_amount=s.next_amount,
                    )
            elif inp.outcome is ReviewOutcomeKind.WITHDRAW:
                s.status = EntitlementStatus.WITHDRAWAL
                s.end_month = add_months(_first_of_month(today), _months(s.withdrawal_period))
                notice_id = await self._notice(
                    "termination",
                    add_months(s.end_month, 1),
                    [self._reason(inp, ReasonCode.INCOME_NOT_BELOW_STANDARD)],
                    withdrawal_until=s.end_month,
                )
            elif s.programme is Programme.TEKUN:
                s.status = EntitlementStatus.TERMINATING
                s.termination_publicity_until = today + timedelta(
                    days=TEKUN_TERMINATION_PUBLICITY.value
                )
                s.termination_reason_zh = inp.reasons_zh
                s.transfer_check = inp.transfer_check
            else:
                s.end_month = _first_of_month(today)
                notice_id = await self._notice(
                    "termination", next_month, [self._reason(inp, inp.reason_code)]
                )
            review.closed_at = workflow.now()
            review.outcome = inp.outcome
            review.decided_by = inp.actor
            s.past_reviews += 1
            await self.book.meet(review.deadline_name)
            await self.book.meet("death_review")
            if review.kind is ReviewKind.PERIODIC:
                s.next_review = add_months(s.next_review, _months(s.review_every))
            s.review = None
            await self._record(
                "review_decided",
                inp.actor,
                f"核查结论：{inp.outcome.value}；{inp.reasons_zh}",
                review_id=review.review_id,
                outcome=inp.outcome.value,
                new_amount=str(inp.new_amount) if inp.new_amount is not None else None,
                per_capita_income=str(inp.per_capita_income)
                if inp.per_capita_income is not None
                else None,
                transfer_check=inp.transfer_check.value if inp.transfer_check else None,
                notice_id=notice_id,
            )
            if s.status in (EntitlementStatus.ACTIVE, EntitlementStatus.SUSPENDED):
                self.continue_requested = True  # a new review cycle: continue-as-new
            self.poke = True
            return ReviewResult(
                status=s.status,
                payable_amount=s.payable_amount,
                end_month=s.end_month,
                next_review=s.next_review if s.status is EntitlementStatus.ACTIVE else None,
                notice_id=notice_id,
            )

    @record_review_outcome.validator
    def _validate_review(self, inp: ReviewOutcome) -> None:
        self._check_actor(inp.actor, (Role.COUNTY_OFFICER,))
        self._check_open()
        s = self.state
        if s.review is None:
            raise _reject("no review is open")
        if s.status in (EntitlementStatus.WITHDRAWAL, EntitlementStatus.TERMINATING):
            raise _reject(f"entitlement is already {s.status.value}")
        if inp.outcome is ReviewOutcomeKind.ADJUST and inp.new_amount is None:
            raise _reject("an adjustment states new_amount", "InvalidInput", "new_amount")
        if inp.outcome is not ReviewOutcomeKind.ADJUST and inp.new_amount is not None:
            raise _reject("new_amount is only for an adjustment", "InvalidInput", "new_amount")
        if inp.outcome is ReviewOutcomeKind.WITHDRAW and s.programme is not Programme.DIBAO:
            raise _reject("gradual withdrawal applies to 低保 only", "InvalidInput", "outcome")
        if (
            inp.outcome is ReviewOutcomeKind.STOP
            and s.programme is Programme.TEKUN
            and inp.transfer_check is None
        ):
            raise _reject(
                "特困 termination records the transfer check", "InvalidInput", "transfer_check"
            )
        if inp.outcome is ReviewOutcomeKind.CONTINUE:
            alive = [m for m in s.members if m.status is ShareStatus.ACTIVE]
            if not alive:
                raise _reject("no active share is left: stop or adjust", "InvalidInput", "outcome")

    # --- steps -----------------------------------------------------------------------------
    def _mint(self, prefix: str) -> str:
        self.state.counter += 1
        return f"{prefix}{self.state.cycle}-{self.state.counter}"

    def _spec(self, name: str, label_zh: str, period: Period) -> DeadlineSpec:
        area = self.state.area_code
        return DeadlineSpec(
            name=name,
            label_zh=label_zh,
            start=clock.today(),
            period=period,
            reminder_lead=self.state.reminder_lead,
            responsible_role=Role.TOWNSHIP_OFFICER,
            responsible_area=township_of(area) or area,
            escalation_role=Role.COUNTY_OFFICER,
            escalation_area=county_of(area) or area,
            basis="低保办法 Art. 31",
        )

    async def _open_review(self, kind: ReviewKind, reason_zh: str, deadline: bool = True) -> str:
        review_id = self._mint("R")
        name = "death_review" if not deadline else f"review:{review_id}"
        self.state.review = ReviewTask(
            review_id=review_id,
            kind=kind,
            opened_at=workflow.now(),
            reason_zh=reason_zh,
            deadline_name=name,
        )
        if deadline:
            await self.book.start(
                self._spec(
                    name, "定期核查" if kind is ReviewKind.PERIODIC else "复核", REVIEW_COMPLETION
                )
            )
        await self._record("review_opened", None, reason_zh, review_id=review_id, kind=kind.value)
        return review_id

    async def _after_termination_publicity(self) -> None:
        """特困办法 Art. 26–27: after 7 days of publicity, support stops from next month with a
        written notice; the transfer check to 低保/temporary assistance is recorded."""
        s = self.state
        today = clock.today()
        s.end_month = _first_of_month(today)
        referral = {
            "dibao": "经核查，你（家）符合最低生活保障条件，将转入最低生活保障。",
            "temporary": "经核查，你（家）可申请临时救助，已告知乡镇（街道）办理。",
            "none_eligible": "经核查，暂不符合最低生活保障或临时救助条件。",
        }[s.transfer_check.value if s.transfer_check else "none_eligible"]
        notice_id = await self._notice(
            "termination",
            add_months(s.end_month, 1),
            [
                NoticeReason(
                    text_zh=s.termination_reason_zh or "不再符合特困人员救助供养条件",
                    basis=f"{TEKUN_BASIS}第二十四条至第二十七条",
                )
            ],
            referral=referral,
        )
        await self._record(
            "termination_confirmed",
            None,
            f"终止公示期满无异议，自{add_months(s.end_month, 1):%Y年%m月}起停止供养",
            notice_id=notice_id,
            transfer_check=s.transfer_check.value if s.transfer_check else None,
        )

    async def _end(self) -> None:
        async with self.lock:
            s = self.state
            s.status = EntitlementStatus.ENDED
            await self.book.cancel_all()
            await self._refresh_payments()
            await self._record(
                "ended",
                None,
                f"救助于{s.end_month:%Y年%m月}发放完毕后终止" if s.end_month else "救助终止",
            )

    async def _refresh_payments(self) -> None:
        summary = await workflow.execute_activity_method(
            EntitlementActivities.payment_summary,
            SummaryRequest(case_id=self.state.entitlement_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        summary.as_of = workflow.now()
        self.state.payments = summary

    def _share_amount(self, household_amount: Decimal) -> Decimal:
        """Each covered member carries an equal share of the household amount; shares that are
        not active are not paid."""
        s = self.state
        total = len(s.members)
        active = sum(1 for m in s.members if m.status is ShareStatus.ACTIVE)
        if total == 0 or active == 0:
            return Decimal("0.00")
        return (household_amount * active / total).quantize(CENT, rounding=ROUND_HALF_UP)

    def _recompute_payable(self) -> None:
        s = self.state
        s.payable_amount = self._share_amount(s.monthly_amount)
        if s.next_amount is not None:
            s.next_amount = self._share_amount(s.next_monthly_amount or s.monthly_amount)
        if s.payable_amount == 0 and s.status is EntitlementStatus.ACTIVE:
            s.status = EntitlementStatus.SUSPENDED

    def _fold_next_amount(self) -> None:
        s = self.state
        if s.next_monthly_amount is not None:
            s.monthly_amount = s.next_monthly_amount
        s.payable_amount = s.next_amount if s.next_amount is not None else s.payable_amount
        s.next_amount = None
        s.next_monthly_amount = None
        s.next_amount_from = None

    def _reason(self, inp: ReviewOutcome, default: ReasonCode | None) -> NoticeReason:
        code = inp.reason_code or default
        return NoticeReason(text_zh=inp.reasons_zh, code=code)

    async def _notice(
        self,
        kind: str,
        effective: date,
        reasons: list[NoticeReason],
        previous_amount: Decimal | None = None,
        new_amount: Decimal | None = None,
        withdrawal_until: date | None = None,
        referral: str | None = None,
    ) -> str:
        s = self.state
        applicant = next((m for m in s.members if m.relation == "applicant"), s.members[0])
        ref = await workflow.execute_activity_method(
            EntitlementActivities.issue_notice,
            NoticeRequest(
                notice_id=f"{s.entitlement_id}-{self._mint('N')}",
                case_id=s.entitlement_id,
                kind=kind,
                area_code=s.area_code,
                applicant_name=applicant.name,
                programme=s.programme,
                issued_on=clock.today(),
                effective_month=effective,
                reasons=reasons,
                previous_amount=previous_amount,
                new_amount=new_amount,
                withdrawal_until=withdrawal_until,
                referral=referral,
                deliver_to_area=township_of(s.area_code) or s.area_code,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        s.notices.append(ref)
        return ref.notice_id

    # --- publishing ------------------------------------------------------------------------
    async def _publish(self) -> None:
        await self._write([])

    async def _record(
        self, action: str, actor: Actor | None, note_zh: str = "", **detail: object
    ) -> None:
        now = workflow.now()
        s = self.state
        s.timeline.append(TimelineEntry(at=now, action=action, actor=actor, note_zh=note_zh))
        audit = AuditRecord(
            dedupe_key=f"{workflow.info().workflow_id}:{s.cycle}:{s.revision + 1}:{action}",
            at=now,
            case_id=s.entitlement_id,
            workflow_id=workflow.info().workflow_id,
            action=action,
            actor=actor,
            policy_version_id=s.policy_version_id,
            detail={"note_zh": note_zh, **detail},
        )
        await self._write([audit])

    def _next_deadline(self) -> datetime | None:
        s = self.state
        candidates = [d for d in [self.book.next_due()] if d is not None]
        if s.review is None and s.status in (EntitlementStatus.ACTIVE, EntitlementStatus.SUSPENDED):
            candidates.append(_midnight(s.next_review))
        return min(candidates) if candidates else None

    async def _write(self, audit: list[AuditRecord]) -> None:
        s = self.state
        s.revision += 1
        next_due = self._next_deadline()
        area = s.area_code
        workflow.upsert_search_attributes(
            [
                SA_CASE_KIND.value_set(CaseKind.ENTITLEMENT.value),
                SA_PROGRAMME.value_set(s.programme.value),
                SA_STATUS.value_set(s.status.value),
                SA_AREA.value_set(area),
                SA_COUNTY.value_set(county_of(area) or area),
                SA_TOWNSHIP.value_set(township_of(area) or area),
                SA_HOUSEHOLD.value_set(s.household_id),
                SA_NEXT_DEADLINE.value_set(next_due)
                if next_due
                else SA_NEXT_DEADLINE.value_unset(),
                SA_OVERDUE.value_set(self.book.overdue()),
                SA_PROVISIONAL.value_set(self.book.has_provisional()),
            ]
        )
        await workflow.execute_activity_method(
            EntitlementActivities.publish_entitlement,
            EntitlementPublish(
                account=self._account(),
                step=RecordStep(snapshot=self._snapshot(next_due), audit=audit),
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    def _account(self) -> AccountSnapshot:
        s = self.state
        card = s.card_account
        payee = s.institution_name if s.centralised and s.institution_name else card.holder_name
        return AccountSnapshot(
            case_id=s.entitlement_id,
            workflow_id=workflow.info().workflow_id,
            household_id=s.household_id,
            programme=s.programme.value,
            area_code=s.area_code,
            status=s.status.value,
            centralised=s.centralised,
            monthly_amount=s.monthly_amount,
            payable_amount=s.payable_amount,
            next_amount=s.next_amount,
            next_amount_from=month_index(s.next_amount_from) if s.next_amount_from else None,
            members_total=len(s.members),
            members_paid=sum(1 for m in s.members if m.status is ShareStatus.ACTIVE),
            start_month=month_index(s.start_month),
            end_month=month_index(s.end_month) if s.end_month else None,
            payee_name=payee,
            payee_id_number=card.holder_id_number,
            card_account=card.account_number,
            bank_code=card.bank_code,
            next_review=s.next_review,
            policy_version_id=s.policy_version_id,
            revision=s.revision,
            members=s.members,
        )

    def _snapshot(self, next_due: datetime | None) -> CaseSnapshot:
        s = self.state
        applicant = next((m for m in s.members if m.relation == "applicant"), s.members[0])
        return CaseSnapshot(
            case_id=s.entitlement_id,
            workflow_id=workflow.info().workflow_id,
            case_kind=CaseKind.ENTITLEMENT.value,
            programme=s.programme.value,
            status=s.status.value,
            area_code=s.area_code,
            household_id=s.household_id,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
            household_size=len(s.members),
            policy_version_id=s.policy_version_id,
            next_deadline=next_due,
            overdue=self.book.overdue(),
            revision=s.revision,
            linked_case_id=s.application_id,
            detail={
                "monthly_amount": str(s.monthly_amount),
                "payable_amount": str(s.payable_amount),
                "next_review": s.next_review.isoformat(),
                "end_month": s.end_month.isoformat() if s.end_month else None,
                "review_open": s.review is not None,
            },
        )
