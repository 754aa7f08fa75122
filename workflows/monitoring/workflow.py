"""The warning workflow (动态监测预警): one warning raised by a data-comparison load for one
person of the low-income monitoring population, handled as the township's home-visit task.

豫政办〔2022〕103号 三(三) (seed 000): 触发预警的，由乡镇（街道）组织工作人员上门核查情况，
告知其相关社会救助政策；如有需要，可协助其提出社会救助申请 … 发现低收入人口可能不再符合社会救助
条件的，核实后依法终止相应救助. 辽宁 2024 意见 二.(四) (seed 001): 县级民政部门依托基层力量及时
核实预警信息并分类处置.

The visit has one deadline, the policy's ``warning_home_visit`` (default 10 working days from
the warning): the township officer is reminded before it and the county told when it passes
(the deadline book). The township records the visit (date, visitors, finding) and its outcome,
which starts the right path:

- ``application_offered``: the household is told of the programme and helped to apply — a
  notice to the township (outbox) names the household and the programme;
- ``change_investigation``: the household's 低保/特困 entitlement opens a change investigation
  through its own ``report_change`` Update (kind ``data_flag``), an activity with the client;
- ``temporary_aid``: a notice to the township to handle temporary assistance;
- ``closed``: nothing needed, with the reason.

Nobody's payment changes on a warning alone (焦民〔2022〕154号, seed 002): this workflow issues
no payment and no entitlement step but the investigation the visit asks for. Each step is
published to the read model (``case_record``, kind ``warning``) with its audit line."""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher, CaseSteps
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineActivities, DeadlineSpec
    from activities.monitoring.models import ChangeInvestigationRequest
    from activities.monitoring.warnings import WarningActivities
    from activities.policy import PolicyActivities, PolicyRequest
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import workflow_today
    from jiuzhu.contract import CaseKind, Role
    from jiuzhu.records import CaseSnapshot, OutboxItem
    from jiuzhu.refusals import wrong_state
    from rules.programmes import PROGRAMME_NAMES_ZH
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.monitoring.checks import check_visit
    from workflows.monitoring.contract import (
        CATEGORY_NAMES_ZH,
        DATA_NAMES_ZH,
        GET_STATE,
        HOME_VISIT_DEADLINE,
        OUTCOME_NAMES_ZH,
        RECORD_VISIT,
        STATUS_LABELS_ZH,
        WARNING_WORKFLOW_TYPE,
        VisitOutcome,
        WarningStatus,
    )
    from workflows.monitoring.models import (
        RecordVisit,
        VisitRecord,
        WarningInput,
        WarningState,
        WarningStepResult,
    )
    from workflows.monitoring.rules import BASIS


@workflow.defn(name=WARNING_WORKFLOW_TYPE)
class MonitoringWarningWorkflow(CaseSteps[WarningState]):
    @workflow.init
    def __init__(self, inp: WarningInput) -> None:
        self.state = WarningState(
            warning_id=inp.warning_id,
            import_id=inp.import_id,
            kind=inp.kind,
            rule_zh=inp.rule_zh,
            amount=inp.amount,
            observed_on=inp.observed_on,
            note=inp.note,
            person_id_number=inp.person_id_number,
            person_name=inp.person_name,
            household_id=inp.household_id,
            household_size=inp.household_size,
            area=AreaRef.of(inp.area_code),
            category=inp.category,
            programme=inp.programme,
            source_case_id=inp.source_case_id,
            entitlement_workflow_id=inp.entitlement_workflow_id,
            raised_by=inp.raised_by,
        )
        self.alarm = Alarm()
        self.book = DeadlineBook(self.state.deadlines, inp.warning_id, self._publish, self.alarm)
        self.publisher = CasePublisher(CaseKind.WARNING, STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.ready = False

    @workflow.run
    async def run(self, inp: WarningInput) -> WarningState:
        s = self.state
        self.publisher.static(programme=s.programme, area=s.area, household_id=s.household_id)
        policy = await call(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.area.code, on=workflow_today()),
        )
        s.policy_version_id = policy.version_id
        s.raised_on = workflow_today()
        async with self.lock:
            await self.book.start(
                DeadlineSpec.owed_by_township(
                    name=HOME_VISIT_DEADLINE,
                    label_zh=f"上门核查{s.person_name}家的{DATA_NAMES_ZH[s.kind]}预警",
                    start=s.raised_on,
                    period=policy.warning_home_visit,
                    reminder_lead=policy.reminder_lead,
                    area=s.area,
                    basis=BASIS,
                )
            )
            await self._record(
                "raised",
                s.raised_by,
                f"{CATEGORY_NAMES_ZH[s.category]}{s.person_name}：{DATA_NAMES_ZH[s.kind]}比对"
                f"（{s.observed_on:%Y-%m-%d}）{s.rule_zh}",
                import_id=s.import_id,
                kind=s.kind.value,
                amount=str(s.amount) if s.amount is not None else None,
            )
        self.ready = True
        await self.alarm.serve(lambda: s.closed, self.lock, self.book.on_wake)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    # --- query, signal, update -------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> WarningState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded: recompute a provisional deadline."""
        async with self.lock:
            await self.book.recompute_provisional()

    @workflow.update(name=RECORD_VISIT)
    async def record_visit(self, cmd: RecordVisit) -> WarningStepResult:
        """The township's home visit and its outcome; the outcome starts its path and the
        warning closes (the deadline is met)."""
        async with self._step():
            s = self.state
            check_visit(s, cmd, workflow_today())
            investigation_id: str | None = None
            if cmd.outcome is VisitOutcome.CHANGE_INVESTIGATION:
                assert s.entitlement_workflow_id is not None
                try:
                    receipt = await workflow.execute_activity_method(
                        WarningActivities.open_change_investigation,
                        ChangeInvestigationRequest(
                            entitlement_workflow_id=s.entitlement_workflow_id,
                            update_id=f"{workflow.info().workflow_id}:change-investigation",
                            actor=cmd.actor,
                            member_id_number=None,
                            description_zh=f"动态监测预警{s.warning_id}"
                            f"（{DATA_NAMES_ZH[s.kind]}）：{s.rule_zh}；"
                            f"上门核查：{cmd.finding_zh}"[:500],
                        ),
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=RetryPolicy(maximum_attempts=5),
                    )
                except ActivityError as exc:
                    message = getattr(exc.cause, "message", None) or "待遇变更调查未能发起"
                    raise wrong_state(str(message)) from None
                investigation_id = receipt.investigation_id
            elif cmd.outcome is VisitOutcome.APPLICATION_OFFERED:
                assert cmd.programme is not None
                await self._notify(
                    cmd.outcome,
                    f"预警{s.warning_id}：已告知{s.person_name}家{PROGRAMME_NAMES_ZH[cmd.programme]}"
                    "政策，请协助其提出申请并依法受理。",
                )
            elif cmd.outcome is VisitOutcome.TEMPORARY_AID:
                await self._notify(
                    cmd.outcome,
                    f"预警{s.warning_id}：{s.person_name}家遭遇生活困难，请按临时救助程序办理。",
                )
            s.visit = VisitRecord(
                visited_on=cmd.visited_on,
                visitors=cmd.visitors,
                finding_zh=cmd.finding_zh,
                outcome=cmd.outcome,
                programme=cmd.programme,
                reason_zh=cmd.reason_zh,
                investigation_id=investigation_id,
                recorded_by=cmd.actor,
                recorded_at=workflow.now(),
            )
            s.status = WarningStatus(cmd.outcome.value)
            s.closed_at = workflow.now()
            await self.book.meet(HOME_VISIT_DEADLINE, on=cmd.visited_on)
            note = (
                f"{cmd.visited_on:%Y-%m-%d}上门核查（{'、'.join(cmd.visitors)}）：{cmd.finding_zh}；"
                f"处置：{OUTCOME_NAMES_ZH[cmd.outcome]}"
            )
            if cmd.programme is not None and cmd.outcome is VisitOutcome.APPLICATION_OFFERED:
                note += f"（{PROGRAMME_NAMES_ZH[cmd.programme]}）"
            if cmd.reason_zh:
                note += f"；理由：{cmd.reason_zh}"
            await self._record(
                "visit",
                cmd.actor,
                note,
                outcome=cmd.outcome.value,
                visited_on=cmd.visited_on.isoformat(),
                investigation_id=investigation_id,
                programme=cmd.programme.value if cmd.programme else None,
            )
            return WarningStepResult(
                warning_id=s.warning_id, status=s.status, investigation_id=investigation_id
            )

    @record_visit.validator
    def _validate_visit(self, cmd: RecordVisit) -> None:
        check_visit(self.state, cmd, workflow_today())

    # --- notices and publishing --------------------------------------------------------------
    async def _notify(self, outcome: VisitOutcome, message_zh: str) -> None:
        s = self.state
        info = workflow.info()
        await call(
            DeadlineActivities.post_outbox,
            OutboxItem(
                dedupe_key=f"{info.workflow_id}:{outcome.value}",
                kind="notice",
                recipient_role=Role.TOWNSHIP_OFFICER.value,
                recipient_area=s.area.township,
                case_id=s.warning_id,
                workflow_id=info.workflow_id,
                message_zh=message_zh,
            ),
        )

    def _evidence(self) -> list[Any]:
        """Every audit line names the data-comparison load and the kind of data compared."""
        return [{"import_id": self.state.import_id, "kind": self.state.kind.value}]

    def _snapshot(self) -> CaseSnapshot:
        s = self.state
        d = self.book.get(HOME_VISIT_DEADLINE)
        return self._case_snapshot(
            programme=s.programme,
            area_code=s.area.code,
            household_id=s.household_id,
            applicant_name=s.person_name,
            applicant_id_number=s.person_id_number,
            household_size=s.household_size,
            linked_case_id=s.source_case_id,
            detail={
                "kind": s.kind.value,
                "category": s.category.value,
                "rule_zh": s.rule_zh,
                "import_id": s.import_id,
                "observed_on": s.observed_on.isoformat(),
                "due_date": d.due_date.isoformat() if d else None,
                "outcome": s.visit.outcome.value if s.visit else None,
                "investigation_id": s.visit.investigation_id if s.visit else None,
            },
        )
