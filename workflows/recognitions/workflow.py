"""The recognition review workflow (低保边缘 / 刚性支出困难 认定后的年度复核): one per household
and programme, started by the application that recognised the household (a recognition pays
nothing, so no entitlement holds it).

Seed 000 (豫政办〔2022〕103号 二(二)): 对最低生活保障边缘人口和支出型困难人口，应当自认定之日起
进行年度复核和定期核查，视家庭困难状况变化情况予以动态调整. The review year runs from the
recognition date (policy ``edge_review`` for 低保边缘, ``rigid_expense_validity`` for 刚性支出
困难 — both 12 months by default). On the review date the workflow opens the yearly review with
its completion deadline on the deadline book (the township, to which recognition is delegated
by seed 000 二(二), is reminded; the county is told when it passes). The township or county
records the finding: still fits → recognised for another year (continue-as-new, a new cycle);
no longer fits → the recognition ends and the workflow completes.

Deterministic: the policy enters through an activity; one ``Alarm`` holds the review date and
the book's wake-ups; every step goes through the case publisher (search attributes, read model
``case_record`` of kind ``recognition``, audit)."""

import asyncio
from datetime import datetime

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.policy import PolicyActivities, PolicyRequest
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import start_of_day, workflow_today
    from jiuzhu.contract import Actor, CaseKind
    from jiuzhu.records import AuditRecord, CaseSnapshot, TimelineEntry
    from rules.calendar import add_months
    from rules.periods import Period, PeriodUnit
    from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.recognitions.checks import check_review
    from workflows.recognitions.contract import (
        BASIS,
        DECISION_NAMES_ZH,
        GET_STATE,
        RECOGNITION_WORKFLOW_TYPE,
        RECORD_REVIEW,
        REVIEW_DEADLINE,
        STATUS_LABELS_ZH,
        RecognitionStatus,
        ReviewDecisionKind,
    )
    from workflows.recognitions.models import (
        REVIEW_COMPLETION,
        TIMELINE_KEEP,
        RecognitionInput,
        RecognitionState,
        RecognitionStepResult,
        ReviewDecision,
        ReviewRecord,
    )

WAKE_REVIEW = "recognition:review"  # the yearly review is due


def in_months(period: Period) -> int:
    """A period in whole months (a period in days counts 30 to the month, at least 1)."""
    return period.value if period.unit is PeriodUnit.MONTHS else max(1, period.value // 30)


@workflow.defn(name=RECOGNITION_WORKFLOW_TYPE)
class RecognitionReviewWorkflow:
    @workflow.init
    def __init__(self, inp: RecognitionInput) -> None:
        if inp.carried is not None:
            self.state = inp.carried
        else:
            self.state = RecognitionState(
                recognition_id=f"{inp.household_id}-{inp.programme.value}",
                application_id=inp.application_id,
                household_id=inp.household_id,
                programme=inp.programme.value,
                area=AreaRef.of(inp.area_code),
                recognised_on=inp.recognised_on,
                recognised_by=inp.recognised_by,
                applicant_name=inp.applicant_name,
                applicant_id_number=inp.applicant_id_number,
                household_size=inp.household_size,
                policy_version_id=inp.policy_version_id,
                next_review=add_months(inp.recognised_on, 12),  # replaced by the policy's
            )
        self.inp = inp
        self.alarm = Alarm()
        self.book = DeadlineBook(
            self.state.deadlines, self.state.recognition_id, self._publish, self.alarm
        )
        self.publisher = CasePublisher(CaseKind.RECOGNITION, STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.ready = False
        self.new_cycle = False

    @workflow.run
    async def run(self, inp: RecognitionInput) -> RecognitionState:
        s = self.state
        self.publisher.static(programme=s.programme, area=s.area, household_id=s.household_id)
        name = PROGRAMME_SHORT_NAMES_ZH[Programme(s.programme)]
        async with self.lock:
            if inp.carried is not None:
                self.book.resume()
                await self._record(
                    "continued", None, f"第{s.cycle}次续接，下次年度复核{s.next_review:%Y-%m-%d}"
                )
            else:
                policy = await call(
                    PolicyActivities.policy_in_force,
                    PolicyRequest(area_code=s.area.code, on=s.recognised_on),
                )
                s.review_every = (
                    policy.edge_review
                    if s.programme == Programme.DIBAO_EDGE.value
                    else policy.rigid_expense_validity
                )
                s.reminder_lead = policy.reminder_lead
                s.next_review = add_months(s.recognised_on, in_months(s.review_every))
                await self._record(
                    "recognise",
                    s.recognised_by,
                    f"认定为{name}家庭（{s.recognised_on:%Y-%m-%d}），"
                    f"自认定之日起年度复核，首次复核{s.next_review:%Y-%m-%d}",
                    application_id=s.application_id,
                )
            self._arm()
        self.ready = True
        while not self._stop():
            await self.alarm.sleep(self._stop)
            due = self.alarm.pop_due()
            if due:
                async with self.lock:
                    if WAKE_REVIEW in due and s.status is RecognitionStatus.RECOGNISED:
                        await self._open_review()
                    await self.book.on_wake([k for k in due if self.book.owns(k)])
                    self._arm()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if s.status is RecognitionStatus.ENDED:
            return s
        s.cycle += 1
        s.timeline = s.timeline[-TIMELINE_KEEP:]
        s.deadlines[:] = [d for d in s.deadlines if d.is_open][-TIMELINE_KEEP:]
        workflow.continue_as_new(self.inp.model_copy(update={"carried": s}))

    def _stop(self) -> bool:
        if self.state.status is RecognitionStatus.ENDED or self.new_cycle:
            return True
        return workflow.info().is_continue_as_new_suggested()

    def _arm(self) -> None:
        s = self.state
        if s.status is RecognitionStatus.RECOGNISED:
            at = start_of_day(s.next_review)
            if self.alarm.get(WAKE_REVIEW) != at:
                self.alarm.set(WAKE_REVIEW, at)
        else:
            self.alarm.clear(WAKE_REVIEW)

    async def _open_review(self) -> None:
        """The review date: the yearly review opens with its completion deadline (township
        responsible, county told when it passes)."""
        s = self.state
        today = workflow_today()
        s.status = RecognitionStatus.UNDER_REVIEW
        s.reviews.append(ReviewRecord(year=len(s.reviews) + 1, opened_on=today))
        name = PROGRAMME_SHORT_NAMES_ZH[Programme(s.programme)]
        await self.book.start(
            DeadlineSpec.owed_by_township(
                name=REVIEW_DEADLINE,
                label_zh=f"{name}家庭年度复核",
                start=today,
                period=REVIEW_COMPLETION,
                reminder_lead=s.reminder_lead,
                area=s.area,
                basis=BASIS,
            )
        )
        await self._record(
            "review_opened",
            None,
            f"自认定之日（{s.recognised_on:%Y-%m-%d}）起满一年，开展第{len(s.reviews)}次年度复核",
        )

    # --- query, signal, update -------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> RecognitionState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        async with self.lock:
            await self.book.recompute_provisional()

    @workflow.update(name=RECORD_REVIEW)
    async def record_review(self, cmd: ReviewDecision) -> RecognitionStepResult:
        """The yearly review's finding: continue (another year from the last review date) or
        end the recognition; meets the review deadline on the finding's paper date."""
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            s = self.state
            on = check_review(s, cmd, workflow_today())
            review = s.reviews[-1]
            review.decided_on = on
            review.decided_by = cmd.actor
            review.outcome = cmd.outcome
            review.findings_zh = cmd.findings_zh
            await self.book.meet(REVIEW_DEADLINE, on=on)
            if cmd.outcome is ReviewDecisionKind.CONTINUE:
                s.status = RecognitionStatus.RECOGNISED
                s.next_review = add_months(s.next_review, in_months(s.review_every))
                self.new_cycle = True
                note = f"，下次年度复核{s.next_review:%Y-%m-%d}"
            else:
                s.status = RecognitionStatus.ENDED
                s.ended_on = on
                note = ""
            await self._record(
                "review_decided",
                cmd.actor,
                f"年度复核：{DECISION_NAMES_ZH[cmd.outcome]}（{cmd.findings_zh}）{note}",
                outcome=cmd.outcome.value,
                on=on.isoformat(),
            )
            self._arm()
            return RecognitionStepResult(
                recognition_id=s.recognition_id,
                status=s.status,
                next_review=s.next_review if s.status is RecognitionStatus.RECOGNISED else None,
                reviewed_at=workflow.now(),
            )

    @record_review.validator
    def _validate_review(self, cmd: ReviewDecision) -> None:
        check_review(self.state, cmd, workflow_today())

    # --- publishing ------------------------------------------------------------------------
    async def _publish(self) -> None:
        await self._write([])

    async def _record(
        self, action: str, actor: Actor | None, note_zh: str, **detail: object
    ) -> None:
        s = self.state
        s.timeline.append(
            TimelineEntry(at=workflow.now(), action=action, actor=actor, note_zh=note_zh)
        )
        audit = self.publisher.audit(
            case_id=s.recognition_id,
            seq=f"{s.cycle}:{len(s.timeline)}",
            action=action,
            actor=actor,
            policy_version_id=s.policy_version_id,
            detail={"note_zh": note_zh, **detail},
        )
        await self._write([audit])

    async def _write(self, audit: list[AuditRecord]) -> None:
        s = self.state
        s.revision += 1
        also = start_of_day(s.next_review) if s.status is RecognitionStatus.RECOGNISED else None
        self.publisher.dynamic(
            status=s.status.value,
            book=self.book,
            also_due=also,
            outcome="ended" if s.status is RecognitionStatus.ENDED else None,
        )
        dues = [d for d in (self.book.next_due(), also) if d is not None]
        await self.publisher.write(self._snapshot(min(dues) if dues else None), audit)

    def _snapshot(self, next_due: datetime | None) -> CaseSnapshot:
        s = self.state
        return CaseSnapshot(
            case_id=s.recognition_id,
            workflow_id=workflow.info().workflow_id,
            case_kind=CaseKind.RECOGNITION.value,
            programme=s.programme,
            status=s.status.value,
            area_code=s.area.code,
            household_id=s.household_id,
            applicant_name=s.applicant_name,
            applicant_id_number=s.applicant_id_number,
            household_size=s.household_size,
            policy_version_id=s.policy_version_id,
            next_deadline=next_due,
            overdue=self.book.overdue(),
            revision=s.revision,
            linked_case_id=s.application_id,
            detail={
                "recognised_on": s.recognised_on.isoformat(),
                "next_review": s.next_review.isoformat(),
                "reviews": len(s.reviews),
                "ended_on": s.ended_on.isoformat() if s.ended_on else None,
            },
        )
