"""The monthly spot check (抽查) of a county's decisions: one workflow per county and month.

焦民〔2022〕154号 第五条: the county civil-affairs bureau samples the townships' 审核确认 decisions
— approvals and refusals (含申请未通过), including those the township confirmed under delegated
authority — at no less than 30 %, and at no less than 60 % for near relatives of assistance
staff and village cadres (policy ``spot_check_rate`` / ``spot_check_rate_relatives``; the
relatives flag comes from the relatives registry, 近亲属备案, seed 002 第十二条).

The round reads the month's 低保/特困 decisions from the read model (an activity), draws the
sample with a recorded seed (``sampling.draw``: reproducible and auditable; the draw is also
written to ``spot_check_draw``), and makes each sampled case a task for the county with its own
deadline (policy ``spot_check_completion``) on the deadline book — a reminder to the county
before it, an escalation to the city after it. A county officer records each finding
(``record_spot_check``): confirmed, or reversed — and a reversal re-opens the case on its
statutory path through ``SupervisionActivities.reopen_case`` (an approval: the entitlement's
review decides to stop, with its written notice; a refusal: a new application linked to the old
one, decided again with its notice). The round completes when every sampled case is checked. A
round is bounded by one month's sample, so it never continues as new."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher, CaseSteps
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.policy import PolicyActivities, PolicyRequest
    from activities.supervision.activities import SupervisionActivities
    from activities.supervision.models import (
        DrawRecord,
        PopulationRequest,
        ReopenRequest,
        ReopenResult,
    )
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import workflow_today
    from jiuzhu.console import case_static
    from jiuzhu.contract import CaseKind, Role
    from jiuzhu.records import CaseSnapshot
    from jiuzhu.refusals import conflict, refusal_of
    from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.supervision.checks import check_spot_check
    from workflows.supervision.contract import (
        GET_STATE,
        RECORD_SPOT_CHECK,
        SPOT_CHECK_STATUS_LABELS_ZH,
        SPOT_CHECK_WORKFLOW_TYPE,
        CheckOutcome,
        SampledOutcome,
        SpotCheckStatus,
        TaskStatus,
        spot_check_deadline,
        spot_check_id,
    )
    from workflows.supervision.models import (
        RecordSpotCheck,
        SpotCheckInput,
        SpotCheckState,
        SpotCheckStepResult,
        SpotCheckTask,
    )
    from workflows.supervision.sampling import draw

BASIS = (
    "焦民〔2022〕154号 第五条：县（市、区）民政局对乡镇（街道）审核确认（含申请未通过）的救助对象"
    "按照不低于30%的比例进行抽查，低保经办人员和村干部近亲属享受低保的按照不低于60%比例进行抽查"
)
OUTCOME_ZH = {SampledOutcome.APPROVE: "同意", SampledOutcome.REFUSE: "不予确认"}
REOPEN_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))


@workflow.defn(name=SPOT_CHECK_WORKFLOW_TYPE)
class SpotCheckRoundWorkflow(CaseSteps[SpotCheckState]):
    @workflow.init
    def __init__(self, inp: SpotCheckInput) -> None:
        self.state = SpotCheckState(
            round_id=inp.round_id,
            county_code=inp.county_code,
            area=AreaRef.of(inp.county_code),
            period=inp.period or "",
            started_by=inp.started_by,
        )
        self.alarm = Alarm()
        self.book = DeadlineBook(self.state.deadlines, inp.round_id, self._publish, self.alarm)
        self.publisher = CasePublisher(CaseKind.SPOT_CHECK, SPOT_CHECK_STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.ready = False
        self.quiet = False  # while the tasks' deadlines are opened: one write at the end

    @workflow.run
    async def run(self, inp: SpotCheckInput) -> SpotCheckState:
        s = self.state
        if not inp.period:
            await self._launch(inp)
            return s
        self.publisher.static(programme="spot_check", area=s.area, household_id="")
        async with self.lock:
            await self._draw(inp)
        self.ready = True
        await self.alarm.serve(lambda: not s.pending, self.lock, self.book.on_wake)
        async with self.lock:
            s.status = SpotCheckStatus.COMPLETED
            s.completed_at = workflow.now()
            reversed_ = sum(1 for t in s.tasks if t.status is TaskStatus.REVERSED)
            await self._record(
                "completed",
                None,
                f"本次抽查{len(s.tasks)}件全部办结，其中维持{len(s.tasks) - reversed_}件、"
                f"改正{reversed_}件",
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    async def _launch(self, inp: SpotCheckInput) -> None:
        """The monthly schedule's run: start the previous month's round (its id makes a second
        launch, or a round the county already started by hand, a no-op)."""
        first = workflow_today().replace(day=1)
        last_month = first - timedelta(days=1)
        period = f"{last_month.year:04d}-{last_month.month:02d}"
        round_id = spot_check_id(inp.county_code, period)
        text = case_static(
            CaseKind.SPOT_CHECK, area_code=inp.county_code, subject_zh=f"{period}审核确认抽查"
        )
        try:
            await workflow.start_child_workflow(
                SPOT_CHECK_WORKFLOW_TYPE,
                SpotCheckInput(round_id=round_id, county_code=inp.county_code, period=period),
                id=round_id,
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info("spot check already started", extra={"round_id": round_id})
        workflow.set_current_details(f"**已启动**：{period}审核确认抽查（{round_id}）")
        self.state.round_id, self.state.period = round_id, period

    async def _draw(self, inp: SpotCheckInput) -> None:
        s = self.state
        today = workflow_today()
        policy = await call(
            PolicyActivities.policy_in_force, PolicyRequest(area_code=s.county_code, on=today)
        )
        s.policy_version_id = policy.version_id
        s.seed = inp.seed if inp.seed is not None else workflow.random().randint(1, 2**31 - 1)
        population = await call(
            SupervisionActivities.spot_check_population,
            PopulationRequest(county_code=s.county_code, period=s.period),
            timeout=timedelta(minutes=2),
        )
        s.population = population.decisions
        result = draw(
            s.population, s.seed, policy.spot_check_rate, policy.spot_check_rate_relatives
        )
        s.population_digest = result.population_digest
        s.strata = result.strata
        s.drawn_at = workflow.now()
        await call(
            SupervisionActivities.record_draw,
            DrawRecord(
                round_id=s.round_id,
                county_code=s.county_code,
                period=s.period,
                seed=s.seed,
                population_digest=result.population_digest,
                population=s.population,
                sampled=result.sampled,
                strata=[x.model_dump(mode="json") for x in result.strata],
                policy_version_id=s.policy_version_id,
                drawn_by=s.started_by.officer_id if s.started_by else None,
            ),
        )
        by_id = {d.case_id: d for d in s.population}
        self.quiet = True
        try:
            for case_id in result.sampled:
                d = by_id[case_id]
                task = SpotCheckTask(decision=d, deadline_name=spot_check_deadline(case_id))
                s.tasks.append(task)
                name = PROGRAMME_SHORT_NAMES_ZH.get(Programme(d.programme), d.programme)
                await self.book.start(
                    DeadlineSpec(
                        name=task.deadline_name,
                        label_zh=f"抽查{d.applicant_name}的{name}审核确认（{OUTCOME_ZH[d.outcome]}）",
                        start=today,
                        period=policy.spot_check_completion,
                        reminder_lead=policy.reminder_lead,
                        responsible_role=Role.COUNTY_OFFICER,
                        responsible_area=s.county_code,
                        escalation_role=Role.COUNTY_OFFICER,
                        escalation_area=s.county_code[:4],
                        basis=BASIS,
                    )
                )
        finally:
            self.quiet = False
        strata = "；".join(
            f"{'近亲属备案' if x.name == 'relatives' else '其他'}{x.population}件抽取{x.sampled}件"
            f"（比例不低于{int(x.rate * 100)}%）"
            for x in s.strata
        )
        await self._record(
            "draw",
            inp.started_by,
            f"{s.period}审核确认{len(s.population)}件，随机种子{s.seed}，{strata}",
            seed=s.seed,
            population_digest=s.population_digest,
            population_size=len(s.population),
            sampled=result.sampled,
            strata=[x.model_dump(mode="json") for x in s.strata],
        )

    # --- query, signal, update ---------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> SpotCheckState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded: recompute provisional deadlines."""
        async with self._step():
            await self.book.recompute_provisional()

    @workflow.update(name=RECORD_SPOT_CHECK)
    async def record_spot_check(self, cmd: RecordSpotCheck) -> SpotCheckStepResult:
        """The county's finding on a sampled case: confirmed, or reversed — then the case is
        re-opened on its statutory path before the finding is recorded (a failure to re-open
        records nothing, so the officer may try again)."""
        async with self._step():
            s = self.state
            check_spot_check(s, cmd, workflow_today())
            task = s.task(cmd.case_id)
            assert task is not None
            reopened: ReopenResult | None = None
            if cmd.outcome is CheckOutcome.REVERSED:
                reopened = await self._reopen(task, cmd)
            task.status = TaskStatus.CONFIRMED
            if cmd.outcome is CheckOutcome.REVERSED:
                task.status = TaskStatus.REVERSED
            task.checked_by = cmd.actor
            task.checked_at = workflow.now()
            task.checked_on = cmd.checked_on
            task.findings_zh = cmd.findings_zh
            task.reopened = reopened
            await self.book.meet(task.deadline_name, on=cmd.checked_on)
            d = task.decision
            text = (
                f"抽查{d.applicant_name}（{d.case_id}）的审核确认：维持原决定。{cmd.findings_zh}"
                if reopened is None
                else f"抽查{d.applicant_name}（{d.case_id}）的审核确认：改正原决定。"
                f"{cmd.findings_zh}；{reopened.note_zh}"
            )
            await self._record(
                "spot_check",
                cmd.actor,
                text,
                case_id=d.case_id,
                outcome=cmd.outcome.value,
                checked_on=cmd.checked_on.isoformat(),
                reopen_path=reopened.path if reopened else None,
                reopened_case_id=reopened.reopened_case_id if reopened else None,
            )
            return SpotCheckStepResult(
                round_id=s.round_id,
                case_id=d.case_id,
                status=task.status,
                reopened=reopened,
                pending=s.pending,
            )

    @record_spot_check.validator
    def _validate_spot_check(self, cmd: RecordSpotCheck) -> None:
        check_spot_check(self.state, cmd, workflow_today())

    async def _reopen(self, task: SpotCheckTask, cmd: RecordSpotCheck) -> ReopenResult:
        d = task.decision
        try:
            result: ReopenResult = await workflow.execute_activity_method(
                SupervisionActivities.reopen_case,
                ReopenRequest(
                    round_id=self.state.round_id,
                    case_id=d.case_id,
                    programme=d.programme,
                    outcome=d.outcome,
                    application_workflow_id=d.workflow_id,
                    entitlement_workflow_id=d.entitlement_workflow_id,
                    area_code=d.area_code,
                    household_id=d.household_id,
                    actor=cmd.actor,
                    findings_zh=cmd.findings_zh,
                    transfer_check=cmd.transfer_check,
                ),
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=REOPEN_RETRY,
            )
        except ActivityError as exc:
            refusal = refusal_of(exc)
            reason = refusal.message_zh if refusal else "暂时无法重新启动原案件"
            raise conflict(f"改正原决定未能办理：{reason}，请稍后重试", "case_id") from None
        return result

    # --- publishing ------------------------------------------------------------------------
    async def _publish(self) -> None:
        """Quiet while the draw opens the tasks' deadlines: the draw's record writes once."""
        if not self.quiet:
            await self._write([])

    def _snapshot(self) -> CaseSnapshot:
        s = self.state
        tasks = []
        for t in s.tasks:
            dl = self.book.get(t.deadline_name)
            tasks.append(
                {
                    "case_id": t.decision.case_id,
                    "programme": t.decision.programme,
                    "outcome": t.decision.outcome.value,
                    "decided_by_level": t.decision.decided_by_level,
                    "relatives_flag": t.decision.relatives_flag,
                    "township_code": t.decision.township_code,
                    "status": t.status.value,
                    "due_date": dl.due_date.isoformat() if dl else None,
                    "reopened_case_id": t.reopened.reopened_case_id if t.reopened else None,
                }
            )
        return self._case_snapshot(
            programme="spot_check",
            area_code=s.county_code,
            household_id="",
            applicant_name=f"{s.period}抽查",
            applicant_id_number="",
            household_size=len(s.tasks),
            detail={
                "period": s.period,
                "seed": s.seed,
                "population_digest": s.population_digest,
                "population_size": len(s.population),
                "sample_size": len(s.tasks),
                "strata": [x.model_dump(mode="json") for x in s.strata],
                "pending": s.pending,
                "reversed": sum(1 for t in s.tasks if t.status is TaskStatus.REVERSED),
                "confirmed": sum(1 for t in s.tasks if t.status is TaskStatus.CONFIRMED),
                "tasks": tasks,
            },
        )
