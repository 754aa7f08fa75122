"""A complaint or report (投诉举报): one workflow per complaint, from intake to the complainant's
follow-up.

焦民〔2022〕154号 第十二条 三: the bureau publishes the complaints telephone, keeps a register of
the leads people report (群众举报问题线索台账) and handles every complaint. Intake is by any
officer (channel, category, the subject case or household; the complainant optional — their
identity is kept in ``complaint_party``, never in this history, the read model or a list). The
complaint is routed to the responsible level (``checks.route``: conduct of staff and payment to
the county, a missed household and the rest to the township) with a reply deadline from policy
(``complaint_reply``, 《信访工作条例》: 60 days) — reminder to the responsible officer, escalation
to the supervising level on the deadline book. The responsible officer records the findings and
then the reply and its delivery (an anonymous complaint is answered on the record). A named
complainant may follow up within ``complaint_follow_up`` (《信访工作条例》: 30 days after the
written reply): satisfied closes the complaint; not satisfied sends it to the county for
re-examination with a new reply deadline; silence until the window ends closes it. Bounded by
its rounds, it never continues as new."""

import asyncio
from datetime import date

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher, CaseSteps
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import Deadline, DeadlineActivities, DeadlineSpec
    from activities.policy import PolicyActivities, PolicyRequest
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import end_of_day, workflow_today
    from jiuzhu.contract import Actor, CaseKind, Role
    from jiuzhu.records import CaseSnapshot
    from rules.policy import Policy
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.supervision.checks import check_findings, check_follow_up, check_reply, route
    from workflows.supervision.contract import (
        CATEGORY_NAMES_ZH,
        COMPLAINT_REPLY_DEADLINE,
        COMPLAINT_STATUS_LABELS_ZH,
        COMPLAINT_WORKFLOW_TYPE,
        FOLLOW_UP_WINDOW,
        GET_STATE,
        RECORD_FINDINGS,
        RECORD_FOLLOW_UP,
        RECORD_REPLY,
        ComplaintStatus,
        ResponsibleLevel,
    )
    from workflows.supervision.models import (
        ComplaintFindings,
        ComplaintFollowUp,
        ComplaintInput,
        ComplaintReply,
        ComplaintState,
        ComplaintStepResult,
        FindingsRecord,
        FollowUpRecord,
        ReplyRecord,
    )

BASIS = (
    "焦民〔2022〕154号 第十二条：面向社会公布社会救助投诉举报电话，建立群众举报问题线索台账，"
    "受理群众投诉举报；《信访工作条例》（办理时限：地方政策 complaint_reply）"
)
LEVEL_ZH = {ResponsibleLevel.TOWNSHIP: "乡镇（街道）", ResponsibleLevel.COUNTY: "县级民政部门"}


@workflow.defn(name=COMPLAINT_WORKFLOW_TYPE)
class ComplaintWorkflow(CaseSteps[ComplaintState]):
    @workflow.init
    def __init__(self, inp: ComplaintInput) -> None:
        area = AreaRef.of(inp.area_code)
        level, responsible = route(inp.category, area)
        self.state = ComplaintState(
            complaint_id=inp.complaint_id,
            channel=inp.channel,
            category=inp.category,
            summary_zh=inp.summary_zh,
            area=area,
            subject_case_id=inp.subject_case_id,
            subject_household_id=inp.subject_household_id,
            programme=inp.programme,
            anonymous=inp.anonymous,
            received_on=inp.received_on,
            received_by=inp.received_by,
            level=level,
            responsible_area=responsible,
        )
        self.alarm = Alarm()
        self.book = DeadlineBook(self.state.deadlines, inp.complaint_id, self._publish, self.alarm)
        self.publisher = CasePublisher(CaseKind.COMPLAINT, COMPLAINT_STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.ready = False
        self.policy: Policy | None = None

    @workflow.run
    async def run(self, inp: ComplaintInput) -> ComplaintState:
        s = self.state
        self.publisher.static(
            programme=s.programme or "complaint",
            area=s.area,
            household_id=s.subject_household_id or "",
        )
        async with self.lock:
            self.policy = await call(
                PolicyActivities.policy_in_force,
                PolicyRequest(area_code=s.area.code, on=s.received_on),
            )
            s.policy_version_id = self.policy.version_id
            await self._start_reply_deadline(s.received_on)
            await self._record(
                "intake",
                s.received_by,
                f"受理{'匿名' if s.anonymous else '实名'}投诉举报"
                f"（{CATEGORY_NAMES_ZH[s.category]}），转{LEVEL_ZH[s.level]}（{s.responsible_area}）办理",
                channel=s.channel.value,
                category=s.category.value,
                level=s.level.value,
                responsible_area=s.responsible_area,
            )
        self.ready = True
        await self.alarm.serve(lambda: s.status is ComplaintStatus.CLOSED, self.lock, self._wake)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    async def _wake(self, due: list[str]) -> None:
        """The follow-up window ended with no follow-up: the complaint closes; then the
        deadline book's wake-ups."""
        if FOLLOW_UP_WINDOW in due and self.state.status is ComplaintStatus.REPLIED:
            await self._close(None, "回访期满投诉人未提出异议，办结", "follow_up_lapsed")
        await self.book.on_wake(due)

    def _policy(self) -> Policy:
        assert self.policy is not None
        return self.policy

    async def _start_reply_deadline(self, start: date) -> None:
        s = self.state
        county = s.level is ResponsibleLevel.COUNTY
        await self.book.start(
            DeadlineSpec(
                name=COMPLAINT_REPLY_DEADLINE,
                label_zh=f"调查核实并答复投诉举报（{CATEGORY_NAMES_ZH[s.category]}）",
                start=start,
                period=self._policy().complaint_reply,
                reminder_lead=self._policy().reminder_lead,
                responsible_role=Role.COUNTY_OFFICER if county else Role.TOWNSHIP_OFFICER,
                responsible_area=s.responsible_area,
                escalation_role=Role.COUNTY_OFFICER,
                escalation_area=s.area.county[:4] if county else s.area.county,
                basis=BASIS,
            )
        )

    # --- query, signal, updates ------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> ComplaintState:
        return self.state

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        async with self._step():
            await self.book.recompute_provisional()

    @workflow.update(name=RECORD_FINDINGS)
    async def record_findings(self, cmd: ComplaintFindings) -> ComplaintStepResult:
        """The responsible level's investigation (调查核实): findings, substantiated or not."""
        async with self._step():
            s = self.state
            check_findings(s, cmd, workflow_today())
            s.findings.append(
                FindingsRecord(
                    round=s.round,
                    level=s.level,
                    findings_zh=cmd.findings_zh,
                    substantiated=cmd.substantiated,
                    investigated_on=cmd.investigated_on,
                    recorded_by=cmd.actor,
                    recorded_at=workflow.now(),
                )
            )
            await self._record(
                "findings",
                cmd.actor,
                f"调查核实（{'属实' if cmd.substantiated else '不属实'}）：{cmd.findings_zh}",
                substantiated=cmd.substantiated,
                investigated_on=cmd.investigated_on.isoformat(),
            )
            return self._result()

    @record_findings.validator
    def _validate_findings(self, cmd: ComplaintFindings) -> None:
        check_findings(self.state, cmd, workflow_today())

    @workflow.update(name=RECORD_REPLY)
    async def record_reply(self, cmd: ComplaintReply) -> ComplaintStepResult:
        """The reply and its delivery: meets the reply deadline; a named complainant's
        follow-up window opens, an anonymous complaint closes on the record."""
        async with self._step():
            s = self.state
            check_reply(s, cmd, workflow_today())
            d = self.book.get(COMPLAINT_REPLY_DEADLINE)
            # On time: delivered by the due date and recorded before the deadline ran out (a
            # reply entered after its escalation does not count as on time).
            on_time = d is None or (cmd.delivered_on <= d.due_date and d.escalated_at is None)
            s.replies.append(
                ReplyRecord(
                    round=s.round,
                    reply_zh=cmd.reply_zh,
                    channel=cmd.channel,
                    delivered_on=cmd.delivered_on,
                    recorded_by=cmd.actor,
                    recorded_at=workflow.now(),
                    on_time=on_time,
                )
            )
            await self.book.meet(COMPLAINT_REPLY_DEADLINE, on=cmd.delivered_on)
            s.status = ComplaintStatus.REPLIED
            await self._record(
                "reply",
                cmd.actor,
                f"{cmd.delivered_on:%Y-%m-%d}答复（{cmd.channel.value}）："
                f"{cmd.reply_zh}{'' if on_time else '（逾期答复）'}",
                channel=cmd.channel.value,
                delivered_on=cmd.delivered_on.isoformat(),
                on_time=on_time,
            )
            if s.anonymous:
                await self._close(cmd.actor, "匿名投诉举报已答复存档，办结", "replied_on_record")
            else:
                window: Deadline = await call(
                    DeadlineActivities.compute_deadline,
                    DeadlineSpec(
                        name=FOLLOW_UP_WINDOW,
                        label_zh="投诉人回访期",
                        start=cmd.delivered_on,
                        period=self._policy().complaint_follow_up,
                        reminder_lead=self._policy().reminder_lead,
                        responsible_role=Role.COUNTY_OFFICER,
                        responsible_area=s.area.county,
                        escalation_role=Role.COUNTY_OFFICER,
                        escalation_area=s.area.county,
                    ),
                )
                s.follow_up_until = window.due_date
                self.alarm.set(FOLLOW_UP_WINDOW, end_of_day(window.due_date))
                await self._publish()
            return self._result()

    @record_reply.validator
    def _validate_reply(self, cmd: ComplaintReply) -> None:
        check_reply(self.state, cmd, workflow_today())

    @workflow.update(name=RECORD_FOLLOW_UP)
    async def record_follow_up(self, cmd: ComplaintFollowUp) -> ComplaintStepResult:
        """The complainant's follow-up: satisfied closes; not satisfied → the county re-examines
        (复查, 《信访工作条例》) with a new reply deadline from the follow-up date."""
        async with self._step():
            s = self.state
            check_follow_up(s, cmd, workflow_today())
            s.follow_ups.append(
                FollowUpRecord(
                    round=s.round,
                    satisfied=cmd.satisfied,
                    note_zh=cmd.note_zh,
                    on=cmd.on,
                    recorded_by=cmd.actor,
                    recorded_at=workflow.now(),
                )
            )
            self.alarm.clear(FOLLOW_UP_WINDOW)
            s.follow_up_until = None
            if cmd.satisfied:
                await self._close(cmd.actor, "回访：投诉人对答复满意，办结", "satisfied")
            else:
                s.round += 1
                s.level = ResponsibleLevel.COUNTY
                s.responsible_area = s.area.county
                s.status = ComplaintStatus.INVESTIGATING
                await self._start_reply_deadline(cmd.on)
                await self._record(
                    "follow_up",
                    cmd.actor,
                    f"回访：投诉人不满意（{cmd.note_zh}），转县级民政部门复查",
                    satisfied=False,
                    round=s.round,
                )
            return self._result()

    @record_follow_up.validator
    def _validate_follow_up(self, cmd: ComplaintFollowUp) -> None:
        check_follow_up(self.state, cmd, workflow_today())

    # --- closing and publishing ------------------------------------------------------------
    async def _close(self, actor: Actor | None, note_zh: str, reason: str) -> None:
        s = self.state
        s.status = ComplaintStatus.CLOSED
        s.closed_at = workflow.now()
        s.closed_reason = reason
        self.alarm.clear(FOLLOW_UP_WINDOW)
        await self.book.cancel_all()
        await self._record("close", actor, note_zh, reason=reason)

    def _result(self) -> ComplaintStepResult:
        s = self.state
        return ComplaintStepResult(
            complaint_id=s.complaint_id, status=s.status, level=s.level, round=s.round
        )

    def _snapshot(self) -> CaseSnapshot:
        """The register row: never the complainant (``applicant_name`` stays empty)."""
        s = self.state
        d = self.book.get(COMPLAINT_REPLY_DEADLINE)
        last_reply = s.replies[-1] if s.replies else None
        last_follow_up = s.follow_ups[-1] if s.follow_ups else None
        findings = s.findings[-1] if s.findings else None
        return self._case_snapshot(
            programme=s.programme or "complaint",
            area_code=s.area.code,
            household_id=s.subject_household_id or "",
            applicant_name="",
            applicant_id_number="",
            household_size=0,
            linked_case_id=s.subject_case_id,
            detail={
                "channel": s.channel.value,
                "category": s.category.value,
                "level": s.level.value,
                "responsible_area": s.responsible_area,
                "anonymous": s.anonymous,
                "received_on": s.received_on.isoformat(),
                "round": s.round,
                "due_date": d.due_date.isoformat() if d else None,
                "escalated": any(x.escalated_at is not None for x in s.deadlines),
                "substantiated": findings.substantiated if findings else None,
                "replied_on": last_reply.delivered_on.isoformat() if last_reply else None,
                "replied_on_time": last_reply.on_time if last_reply else None,
                "satisfied": last_follow_up.satisfied if last_follow_up else None,
                "follow_up_until": s.follow_up_until.isoformat() if s.follow_up_until else None,
                "closed_reason": s.closed_reason,
            },
        )
