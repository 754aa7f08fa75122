"""初审 + 公示 + 异议 + 民主评议 (低保办法 Art. 19; 特困办法 Art. 13–15): the township's initial
opinion; a proposed approval is published for the policy's publicity period (7 days) and, with
no objection by the end of its last day, the file goes to the decider; an objection leads to a
re-investigation or a democratic appraisal, a new opinion and a new publicity."""

from datetime import date
from decimal import Decimal

from temporalio import workflow

from workflows.applications.case import StepsOf

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import Deadline
    from jiuzhu.contract import Actor
    from jiuzhu.versions import OPINION_BEFORE_CLOSE, OPINION_BEFORE_CLOSE_FIRST
    from rules.programmes import Programme
    from workflows.applications import notices
    from workflows.applications.contract import ApplicationStatus
    from workflows.applications.models import (
        AppraisalInput,
        AppraisalRecord,
        OpinionInput,
        OpinionRecord,
        PublicityObjectionInput,
        PublicityObjectionRecord,
        PublicityRound,
        Recommendation,
        StepResult,
    )
    from workflows.applications.rules import (
        DECISION,
        INITIAL_OPINION,
        OBJECTION_OPINION,
        PUBLICITY,
        Level,
        measures,
        outcome_for,
    )


class PublicitySteps(StepsOf):
    # --- 民主评议 (on objection; temporary aid as needed) -----------------------------------
    @workflow.update
    async def record_appraisal(self, inp: AppraisalInput) -> StepResult:
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
        return self._result()

    @record_appraisal.validator
    def _validate_appraisal(self, inp: AppraisalInput) -> None:
        self._checks().appraisal(inp)

    # --- 初审 + 公示 ------------------------------------------------------------------------
    @workflow.update
    async def initial_opinion(self, inp: OpinionInput) -> StepResult:
        """The township's initial opinion. A proposed approval is published for the policy's
        publicity period (7 days); a proposed refusal goes to the decider at once."""
        notice_id: str | None = None
        # before any local activity
        opinion_first = self.versions.patched(OPINION_BEFORE_CLOSE_FIRST)
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
            await self.book.meet(INITIAL_OPINION, on=on)
            await self.book.meet(OBJECTION_OPINION, on=on)
            approve = inp.recommendation is Recommendation.APPROVE
            ran_out: Deadline | None = None
            if approve:
                posted_on = self._checks().publicity_posted(inp, on)
                notice_id, ran_out = await self._start_publicity(
                    amount, inp.actor, posted_on, opinion_first
                )
            else:
                await self._to_decider(on)
            await self._record(
                "initial_opinion",
                inp.actor,
                ("初审同意" if approve else "初审不同意")
                + (f"，拟救助金额{amount}元" if approve else "")
                + (f"：{inp.reason_zh}" if inp.reason_zh else ""),
                on=on,
                recommendation=inp.recommendation.value,
                proposed_amount=str(amount),
            )
            if ran_out is not None:
                await self._close_publicity(ran_out)
        return self._result(notice_id)

    @initial_opinion.validator
    def _validate_opinion(self, inp: OpinionInput) -> None:
        self._checks().opinion(inp)

    async def _start_publicity(
        self, amount: Decimal, actor: Actor, start_on: date, opinion_first: bool
    ) -> tuple[str, Deadline | None]:
        """Publish from ``start_on`` (today, or the posting date on paper); the notice's id.
        A publicity posted on paper that has already run to its end closes at once (the file
        goes to the decider, received on its last day): its deadline is returned for the step
        to close it once the opinion is recorded (``opinion_first``: the opinion step asked
        ``OPINION_BEFORE_CLOSE_FIRST``; executions before either patch closed it here)."""
        s = self.state
        policy = self._policy()
        deadline = await self._deadline(
            PUBLICITY,
            "公示期",
            start_on,
            policy.publicity,
            Level.TOWNSHIP,
            f"{measures(s.programme)}第十九条",
        )
        ref = await self._issue(
            notices.publicity_list(s, policy, start_on, deadline.due_date, amount), actor
        )
        s.publicity.append(
            PublicityRound(
                round=len(s.publicity) + 1,
                start_on=start_on,
                end_on=deadline.due_date,
                started_at=workflow.now(),
                notice_id=ref.notice_id,
            )
        )
        s.status = ApplicationStatus.PUBLICITY
        if deadline.due_at <= workflow.now():
            if opinion_first or self.versions.patched(OPINION_BEFORE_CLOSE):
                return ref.notice_id, deadline
            await self._close_publicity(deadline)
        else:
            self._rearm()
        return ref.notice_id, None

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
    async def publicity_objection(self, inp: PublicityObjectionInput) -> StepResult:
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
            self._rearm()
            await self._record(
                "publicity_objection",
                inp.actor,
                f"公示期间{inp.objector_name}提出异议：{inp.content_zh}",
                on=on,
                objector=inp.objector_name,
            )
        return self._result()

    @publicity_objection.validator
    def _validate_publicity_objection(self, inp: PublicityObjectionInput) -> None:
        self._checks().publicity_objection(inp)

    async def _close_publicity(self, deadline: Deadline) -> None:
        """The publicity ran to the end of its last day with no objection: the file goes to the
        decider, received on that day."""
        await self.book.meet(PUBLICITY)  # first, before anything can yield to its watcher
        s = self.state
        publicity = s.publicity[-1]
        publicity.closed_at = workflow.now()
        publicity.outcome = "no_objection"
        self._rearm()
        await self._to_decider(deadline.due_date)
        await self._record(
            "publicity_closed",
            None,
            f"公示期满（{publicity.start_on.isoformat()}至{publicity.end_on.isoformat()}）无异议，"
            "材料报送审核确认",
            on=deadline.due_date,
        )
