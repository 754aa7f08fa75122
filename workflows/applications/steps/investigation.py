"""家庭经济状况调查 + 信息核对 + the means test (低保办法 Art. 13–18; 特困办法 Art. 5–8, 20): a home
visit by at least two investigators, then data verification by every source in the background
(one regular activity asks every source once; a source that is down is then retried as its own
regular activity until it answers), the findings folded into the
household and the means test run on it; an objection with evidence triggers a re-check."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from jiuzhu.calls import call
from workflows.applications.case import StepsOf

with workflow.unsafe.imports_passed_through():
    from activities.applications.checks import ApplicationActivities, RelativesRequest
    from activities.applications.verification import (
        SourceRequest,
        SourceResult,
        SourcesCheck,
        SourcesChecked,
        SourcesRequest,
        SourceStatus,
        VerificationActivities,
    )
    from rules.programmes import Programme
    from workflows.applications.contract import ApplicationStatus
    from workflows.applications.models import (
        InvestigationInput,
        InvestigationMethod,
        InvestigationRecord,
        RelativeMatch,
        StepResult,
        VerificationObjectionInput,
        VerificationObjectionRecord,
        VerificationRecord,
    )
    from workflows.applications.rules import (
        INVESTIGATION_START,
        VERIFICATION_START,
        Level,
        measures,
    )

# A verification source that does not answer is retried with backoff until it does: the case
# waits (and its deadline escalates), it is never lost. Retries add no history events.
SOURCE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
    maximum_attempts=0,
)
SOURCE_TIMEOUT = timedelta(seconds=60)


class InvestigationSteps(StepsOf):
    async def _check_relatives(self) -> list[RelativeMatch]:
        """近亲属备案: members related to case workers or village cadres (DOMAIN §2, §7)."""
        members = {m.id_number: m.name for m in self.state.members}
        matches: list[RelativeMatch] = await call(
            ApplicationActivities.check_relatives, RelativesRequest(members=members)
        )
        return matches

    @workflow.update
    async def record_investigation(self, inp: InvestigationInput) -> StepResult:
        """A home visit by at least two investigators, signed by both sides; a re-investigation
        after an objection. Then data verification is requested (not for temporary aid)."""
        async with self._step():
            on = self._checks().investigation(inp)
            s = self.state
            if inp.household is not None:
                await self._claim_household(inp.household)
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
                await self.book.meet(INVESTIGATION_START, on=on)
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
        return self._result()

    @record_investigation.validator
    def _validate_investigation(self, inp: InvestigationInput) -> None:
        self._checks().investigation(inp)

    # --- 信息核对 (低保办法 Art. 17–18) -----------------------------------------------------
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
        if self._light:
            sources, results = await self._ask_sources(ids)
        else:  # recorded before light-history: the source list, then one activity per source
            sources = await call(
                VerificationActivities.verification_sources, SourcesRequest(area_code=s.area_code)
            )
            results = list(
                await asyncio.gather(*(self._check_source(name, ids) for name in sources))
            )
        async with self._locked():
            v = s.verification
            if v is None or v.round != round_no or s.status is not ApplicationStatus.VERIFICATION:
                return
            assessed = await self._assess(household, list(results), self._today())
            v.sources = list(sources)
            v.results = results
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

    async def _ask_sources(self, ids: list[str]) -> tuple[list[str], list[SourceResult]]:
        """One pass over every source in one (regular) activity; a source that was unavailable
        is then retried on its own until it answers. Results in the order of the sources."""
        s = self.state
        checked: SourcesChecked = await workflow.execute_activity_method(
            VerificationActivities.check_sources,
            SourcesCheck(case_id=s.application_id, area_code=s.area_code, id_numbers=ids),
            start_to_close_timeout=SOURCE_TIMEOUT,
            retry_policy=SOURCE_RETRY,
        )
        retried = await asyncio.gather(
            *(self._check_source(name, ids, tries_before=1) for name in checked.unavailable)
        )
        by_source = {r.source: r for r in [*checked.results, *retried]}
        return checked.sources, [by_source[name] for name in checked.sources]

    async def _check_source(
        self, source: str, ids: list[str], tries_before: int = 0
    ) -> SourceResult:
        """One source (a regular activity: it may be retried for hours)."""
        try:
            result: SourceResult = await workflow.execute_activity_method(
                VerificationActivities.check_source,
                SourceRequest(
                    case_id=self.state.application_id,
                    source=source,
                    id_numbers=ids,
                    tries_before=tries_before,
                ),
                start_to_close_timeout=SOURCE_TIMEOUT,
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

    @workflow.update
    async def object_to_verification(self, inp: VerificationObjectionInput) -> StepResult:
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
        return self._result()

    @object_to_verification.validator
    def _validate_verification_objection(self, inp: VerificationObjectionInput) -> None:
        self._checks().verification_objection(inp)
