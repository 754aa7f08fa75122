"""不予确认 and how a case otherwise ends (低保办法 Art. 21, 29, 38; DOMAIN §3 step 9, §6): the
refusal with its written notice (reasons, legal basis, appeal rights) due for delivery within 3
working days and, where the household fits, the offer of 低保边缘/刚性支出 recognition; delivery
of notices; withdrawal by the applicant; the end of review for refusal to cooperate."""

from datetime import date

from temporalio import workflow

from jiuzhu.calls import call
from workflows.applications.case import StepsOf
from workflows.applications.steps.decision import decided_by

with workflow.unsafe.imports_passed_through():
    from activities.applications.checks import AssessResult
    from activities.applications.notices import DeliveryRecord, NoticeActivities
    from jiuzhu.contract import Role
    from rules.policy import Policy
    from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
    from rules.reasons import REASON_BASIS
    from workflows.applications import notices
    from workflows.applications.checks import REFUSAL_KINDS
    from workflows.applications.contract import ApplicationStatus
    from workflows.applications.models import (
        ClosingRecord,
        DecisionInput,
        DecisionOutcome,
        DecisionRecord,
        DeliveryInput,
        EdgeOffer,
        EndReviewInput,
        RefusalReason,
        SinglePersonOffer,
        StepResult,
        WithdrawInput,
    )
    from workflows.applications.rules import (
        ADVERSE_CODES,
        DECISION,
        EDGE_RECOGNITION,
        EDGE_REPLY_DAYS,
        OVERALL,
        REFUSAL_NOTICE,
        Level,
        edge_offer_programme,
        measures,
        outcome_for,
    )


# 2026-11 (issue 14 item 6): a refused 低保 household found 低保边缘 with a member who qualifies
# for 单人保 is offered it with the recognition; cases refused before replay without it.
SINGLE_PERSON_OFFER = "single-person-offer"


class ClosingSteps(StepsOf):
    # --- 不予确认 (低保办法 Art. 21) ------------------------------------------------------------
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
            decided_by_level=decided_by(inp.actor),
            file_received_on=s.file_received_on or on,
            reasons=reasons,
            reasons_zh=inp.reasons_zh or [r.text_zh for r in reasons],
            note_zh=inp.note_zh,
        )
        s.decision = decision
        s.status = ApplicationStatus.REFUSED
        for name in (DECISION, OVERALL, EDGE_RECOGNITION):
            await self.book.meet(name, on=on)
        await self._release_household()
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
            singles = self._single_person_offers(offered)
            letter = notices.edge_recognition(s, policy, offered, self._today(), reply_by)
            if singles:
                letter = letter.model_copy(
                    update={
                        "benefits": [
                            *letter.benefits,
                            *(f"{p.name}可按“单人户”纳入最低生活保障（单人保）" for p in singles),
                        ]
                    }
                )
            edge = await self._issue(letter, inp.actor)
            s.edge_offer = EdgeOffer(
                programme=offered,
                notice_id=edge.notice_id,
                reply_by=reply_by,
                single_persons=singles,
            )
        self._rearm()
        await self._record(
            "decision",
            inp.actor,
            "审核确认：不予确认。理由："
            + "；".join(decision.reasons_zh)
            + (
                f"。经核对符合{PROGRAMME_SHORT_NAMES_ZH[offered]}条件，已告知申请人"
                if offered
                else ""
            )
            + "".join(
                f"；{p.name}符合单人保条件（月{p.monthly_amount}元），已一并告知"
                for p in (s.edge_offer.single_persons if s.edge_offer else [])
            ),
            on=on,
            evidence=self._decision_evidence(),
            outcome="refuse",
            reasons=[r.model_dump(mode="json") for r in reasons] or decision.reasons_zh,
            refusal_notice_id=ref.notice_id,
            edge_offer=offered.value if offered else None,
        )

    def _single_person_offers(self, offered: Programme) -> list[SinglePersonOffer]:
        """单人保 (低保办法 Art. 8; seed 002 焦民〔2022〕154号 二; seed 003 晋民发〔2022〕38号
        一.1): a refused 低保 household found 低保边缘 whose severely disabled or seriously ill
        member qualifies for 低保 on their own income (the means test's single-person
        outcome, policy ``single_person_dibao_disabilities`` and
        ``single_person_dibao_serious_illness``) is offered 单人保 for that member with the
        recognition. Cases refused before replay without it (``SINGLE_PERSON_OFFER``)."""
        s = self.state
        if s.programme is not Programme.DIBAO or offered is not Programme.DIBAO_EDGE:
            return []
        if s.assessment is None or s.verified_household is None:
            return []
        eligible = [o for o in s.assessment.single_person_outcomes() if o.eligible]
        if not eligible or not self.versions.patched(SINGLE_PERSON_OFFER):
            return []
        names = {m.id_number: m.name for m in s.verified_household.members}
        return [
            SinglePersonOffer(
                id_number=o.member_id_number,
                name=names.get(o.member_id_number, ""),
                monthly_amount=o.monthly_amount,
            )
            for o in eligible
            if o.member_id_number
        ]

    # --- 送达 -----------------------------------------------------------------------------------
    @workflow.update
    async def deliver_notice(self, inp: DeliveryInput) -> StepResult:
        """Delivery of a notice; the refusal notice's delivery meets its 3-working-day deadline
        (低保办法 Art. 21)."""
        async with self._step():
            on = self._checks().delivery(inp)
            s = self.state
            notice = s.notice(inp.notice_id)
            assert notice is not None
            await call(
                NoticeActivities.record_delivery,
                DeliveryRecord(
                    notice_id=inp.notice_id,
                    delivered_on=on,
                    method=inp.method.value,
                    recipient_name=inp.recipient_name,
                ),
            )
            notice.delivered_on = on
            notice.delivery_method = inp.method.value
            if notice.kind in REFUSAL_KINDS:
                await self.book.meet(REFUSAL_NOTICE, on=on)
            self._rearm()
            await self._record(
                "notice_delivered",
                inp.actor,
                f"送达《{notice.title}》（{inp.recipient_name}签收）",
                on=on,
                notice_id=inp.notice_id,
                method=inp.method.value,
            )
        return self._result()

    @deliver_notice.validator
    def _validate_delivery(self, inp: DeliveryInput) -> None:
        self._checks().delivery(inp)

    # --- 撤回 / 拒不配合 ----------------------------------------------------------------------
    @workflow.update
    async def withdraw(self, inp: WithdrawInput) -> StepResult:
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
        return self._result()

    @withdraw.validator
    def _validate_withdraw(self, inp: WithdrawInput) -> None:
        self._checks().withdraw(inp)

    @workflow.update
    async def end_review(self, inp: EndReviewInput) -> StepResult:
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
        return self._result(ref.notice_id)

    @end_review.validator
    def _validate_end_review(self, inp: EndReviewInput) -> None:
        self._checks().end_review(inp)
