"""受理 / 一次性告知 / 补齐材料 (低保办法 Art. 10, 15, 22; 特困办法 Art. 13; DOMAIN §6): acceptance
starts the statutory clock; a missing-documents notice lists everything missing at once, and an
application whose documents never come lapses at the end of the day they were due."""

from datetime import timedelta

from temporalio import workflow

from jiuzhu.clock import end_of_day
from workflows.applications.case import StepsOf

with workflow.unsafe.imports_passed_through():
    from rules.programmes import Programme
    from workflows.applications import notices
    from workflows.applications.contract import ApplicationStatus
    from workflows.applications.models import (
        AcceptInput,
        ClosingRecord,
        MissingDocumentsInput,
        MissingDocumentsRecord,
        StepResult,
        SupplementInput,
        SupplementRecord,
    )
    from workflows.applications.rules import (
        DECISION,
        DEFAULT_SUBMIT_DAYS,
        INITIAL_OPINION,
        INVESTIGATION_START,
        OVERALL,
        Level,
        decider_level,
        measures,
    )


class IntakeSteps(StepsOf):
    @workflow.update
    async def accept(self, inp: AcceptInput) -> StepResult:
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
        return self._result()

    @accept.validator
    def _validate_accept(self, inp: AcceptInput) -> None:
        self._checks().accept(inp)

    @workflow.update
    async def request_documents(self, inp: MissingDocumentsInput) -> StepResult:
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
            self._rearm()
            await self._record(
                "missing_documents_notice",
                inp.actor,
                f"一次性告知需补齐材料{len(inp.missing)}项，限{submit_by.isoformat()}前补齐",
                on=today,
                missing=inp.missing,
                notice_id=ref.notice_id,
            )
        return self._result(ref.notice_id)

    @request_documents.validator
    def _validate_request_documents(self, inp: MissingDocumentsInput) -> None:
        self._checks().request_documents(inp)

    @workflow.update
    async def supplement(self, inp: SupplementInput) -> StepResult:
        async with self._step():
            on = self._checks().supplement(inp)
            s = self.state
            s.supplements.append(
                SupplementRecord(at=workflow.now(), actor=inp.actor, on=on, documents=inp.documents)
            )
            s.status = ApplicationStatus.SUBMITTED
            self._rearm()
            await self._record(
                "supplement", inp.actor, "申请人补齐材料", on=on, evidence=inp.documents
            )
        return self._result()

    @supplement.validator
    def _validate_supplement(self, inp: SupplementInput) -> None:
        self._checks().supplement(inp)

    async def _lapse_if_due(self) -> None:
        """Nothing came by the end of ``submit_by``: the application lapses."""
        s = self.state
        notice = s.missing_documents
        if (
            s.status is not ApplicationStatus.DOCUMENTS_REQUESTED
            or notice is None
            or workflow.now() < end_of_day(notice.submit_by)
        ):
            return
        await self._close(
            ClosingRecord(
                at=workflow.now(),
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
