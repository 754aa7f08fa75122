"""Activities of the spot check (抽查): the month's decisions from the read model, the draw
written for audit, and the re-opening of a reversed decision on its statutory path.

Re-opening talks to other workflows through the client, by the names in their domains'
contracts (as the death check does), never by importing their workflow code:

- **a reversed approval** — the entitlement goes down its termination path: the county's
  finding is reported to it (``report_change``), the investigation is closed with a review
  opened (``close_investigation``), and the review is decided ``stop`` (``record_review_outcome``):
  停发 from next month with a written notice and reasons (低保办法 Art. 32), or for 特困 the
  proposed termination is published 7 days first and the transfer check recorded (特困办法
  Art. 24–27). Each Update carries an id of its own (the round, the case, the step), and the
  entitlement's state is read first, so a retried activity repeats nothing.
- **a reversed refusal** — the refused application has ended (its notice was delivered), so a
  **new application linked to it** (``<id>-SC``, ``linked_case_id`` = the refused case) is
  started for the same household and members, and the township is told in its outbox: it is
  accepted, investigated, published and decided again, ending in a new decision with its
  written notice (低保办法 Art. 10–21). The household's members are claimed for it first, as the
  API does for any application; if another case already holds them, nothing is started and the
  finding says which case."""

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, bindparam, text
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.supervision.models import (
    DrawRecord,
    Population,
    PopulationRequest,
    ReopenRequest,
    ReopenResult,
    SampledDecision,
)
from jiuzhu.clock import beijing_today, start_of_day
from jiuzhu.console import case_static
from jiuzhu.contract import CaseKind, Role
from jiuzhu.db.models import CaseRecord, OutboxMessage, UtcDateTime
from jiuzhu.db.models_supervision import SpotCheckDraw
from jiuzhu.membership import MemberClaim, claim
from jiuzhu.refusals import refusal_of
from rules.programmes import Programme
from workflows.applications.contract import (
    WORKFLOW_TYPE as APPLICATION_WORKFLOW_TYPE,
)
from workflows.applications.contract import (
    application_workflow_id,
    initial_search_attributes,
)
from workflows.entitlements.contract import (
    CLOSE_INVESTIGATION,
    RECORD_REVIEW_OUTCOME,
    REPORT_CHANGE,
)
from workflows.entitlements.contract import GET_STATE as ENTITLEMENT_GET_STATE
from workflows.supervision.contract import (
    SAMPLED_PROGRAMMES,
    SampledOutcome,
    reopened_application_id,
)

DECIDERS_SQL = text(
    "SELECT case_id, actor_role FROM audit_entry WHERE action = 'decision' "
    "AND case_id IN (SELECT case_id FROM case_record WHERE case_kind = 'application' "
    "AND county_code = :county AND updated_at >= :since) ORDER BY at"
).bindparams(bindparam("since", type_=UtcDateTime()))
ENDING = ("withdrawal", "terminating", "ended")


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class _Starting(BaseModel):
    programme: Programme
    area_code: str
    household_id: str


class SupervisionActivities:
    def __init__(self, engine: Engine, client: Client | None) -> None:
        self.engine = engine
        self.client = client

    # --- the draw ------------------------------------------------------------------------
    @activity.defn
    def spot_check_population(self, req: PopulationRequest) -> Population:
        """Every 低保/特困 审核确认 of the county dated in the month, approvals and refusals,
        whoever decided (the county, or the township where confirmation is delegated)."""
        since = start_of_day(date(int(req.period[:4]), int(req.period[5:7]), 1))
        params = {"county": req.county_code, "since": since}
        with Session(self.engine) as session:
            rows = session.exec(
                select(CaseRecord)
                .where(
                    CaseRecord.case_kind == CaseKind.APPLICATION.value,
                    CaseRecord.county_code == req.county_code,
                    col(CaseRecord.status).in_(("approved", "refused")),
                    col(CaseRecord.programme).in_(SAMPLED_PROGRAMMES),
                    col(CaseRecord.updated_at) >= since,
                )
                .order_by(col(CaseRecord.case_id))
            ).all()
            deciders = dict(session.execute(DECIDERS_SQL, params).all())
        out: list[SampledDecision] = []
        for r in rows:
            detail: dict[str, Any] = r.detail or {}
            decided_on = detail.get("decided_on")
            decision = detail.get("decision")
            if not decided_on or not decision:
                continue
            on = date.fromisoformat(decided_on)
            if month_of(on) != req.period or decision not in ("approve", "refuse"):
                continue
            role = deciders.get(r.case_id)
            out.append(
                SampledDecision(
                    case_id=r.case_id,
                    workflow_id=r.workflow_id,
                    programme=r.programme,
                    outcome=SampledOutcome(decision),
                    decided_on=on,
                    decided_by_level="township" if role == Role.TOWNSHIP_OFFICER else "county",
                    area_code=r.area_code,
                    township_code=r.township_code,
                    household_id=r.household_id,
                    applicant_name=r.applicant_name,
                    relatives_flag=bool(detail.get("relatives_flag")),
                    entitlement_workflow_id=detail.get("entitlement_workflow_id"),
                )
            )
        return Population(decisions=out)

    @activity.defn
    def record_draw(self, rec: DrawRecord) -> None:
        """Write the draw once (a retry finds it)."""
        with Session(self.engine) as session:
            if session.get(SpotCheckDraw, rec.round_id) is not None:
                return
            session.add(
                SpotCheckDraw(
                    round_id=rec.round_id,
                    county_code=rec.county_code,
                    period=rec.period,
                    seed=rec.seed,
                    population_digest=rec.population_digest,
                    population_size=len(rec.population),
                    sample_size=len(rec.sampled),
                    population=[d.model_dump(mode="json") for d in rec.population],
                    sampled=list(rec.sampled),
                    strata=list(rec.strata),
                    policy_version_id=rec.policy_version_id,
                    drawn_by=rec.drawn_by,
                )
            )
            session.commit()

    # --- re-opening a reversed decision ----------------------------------------------------
    @activity.defn
    async def reopen_case(self, req: ReopenRequest) -> ReopenResult:
        if self.client is None:
            raise ApplicationError(
                "re-opening a case needs the Temporal client", type="NoClient", non_retryable=True
            )
        try:
            if req.outcome is SampledOutcome.APPROVE:
                return await self._terminate(self.client, req)
            return await self._redecide(self.client, req)
        except WorkflowUpdateFailedError as exc:
            # The case's own validator refused (e.g. its state moved on): not retried.
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            raise refusal.error() from None

    async def _terminate(self, client: Client, req: ReopenRequest) -> ReopenResult:
        if not req.entitlement_workflow_id:
            return ReopenResult(path="none", note_zh="原审核确认未产生待遇（未发放），无需停发")
        handle = client.get_workflow_handle(req.entitlement_workflow_id)
        try:
            state: dict[str, Any] = await handle.query(ENTITLEMENT_GET_STATE, result_type=dict)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return ReopenResult(path="none", note_zh="待遇案件不存在，无需停发")
            raise
        ent_id = req.entitlement_workflow_id
        if state.get("status") in ENDING or state.get("end_month"):
            return ReopenResult(
                path="none",
                reopened_case_id=ent_id,
                note_zh=f"待遇案件{ent_id}已在终止程序中（{state.get('status')}）",
            )
        actor = req.actor.model_dump(mode="json")
        marker = f"[抽查{req.round_id}]"
        step = f"{req.round_id}:{req.case_id}"
        if state.get("review") is None:
            mine = [
                i
                for i in state.get("investigations", [])
                if marker in str(i.get("description_zh", ""))
            ]
            if mine:
                inv_id = str(mine[-1]["investigation_id"])
            else:
                receipt: dict[str, Any] = await handle.execute_update(
                    REPORT_CHANGE,
                    {
                        "actor": actor,
                        "kind": "data_flag",
                        "description_zh": f"{marker}县级抽查认定原审核确认有误：{req.findings_zh}"[
                            :500
                        ],
                    },
                    id=f"{step}:report",
                    result_type=dict,
                )
                inv_id = str(receipt["investigation_id"])
            await handle.execute_update(
                CLOSE_INVESTIGATION,
                {
                    "actor": actor,
                    "investigation_id": inv_id,
                    "finding_zh": f"县级抽查（{req.round_id}）结论：{req.findings_zh}"[:1000],
                    "open_review": True,
                },
                id=f"{step}:close",
                result_type=dict,
            )
        outcome: dict[str, Any] = {
            "actor": actor,
            "outcome": "stop",
            "reasons_zh": f"经县级抽查核实，原审核确认有误：{req.findings_zh}"[:1000],
        }
        if req.programme == Programme.TEKUN.value:
            outcome["transfer_check"] = req.transfer_check or "none_eligible"
        result: dict[str, Any] = await handle.execute_update(
            RECORD_REVIEW_OUTCOME, outcome, id=f"{step}:stop", result_type=dict
        )
        ends = result.get("end_month")
        note = (
            f"待遇案件{ent_id}经复核决定终止：特困人员终止公示7日后停止供养"
            if result.get("status") == "terminating"
            else f"待遇案件{ent_id}经复核决定停发（书面告知理由），最后发放月份{ends}"
        )
        return ReopenResult(path="termination", reopened_case_id=ent_id, note_zh=note)

    async def _redecide(self, client: Client, req: ReopenRequest) -> ReopenResult:
        try:
            old: dict[str, Any] = await client.get_workflow_handle(
                req.application_workflow_id
            ).query("get_state", result_type=dict)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return ReopenResult(path="none", note_zh=f"原申请{req.case_id}的案卷不存在")
            raise
        new_id = reopened_application_id(req.case_id)
        members = list(old.get("members", []))
        claims = [
            MemberClaim(id_number=m["id_number"], name=m["name"], field=f"members[{i}]")
            for i, m in enumerate(members)
        ]
        with Session(self.engine) as session:
            clash = claim(session, req.programme, new_id, req.household_id, claims)
        if clash is not None:
            return ReopenResult(
                path="none",
                reopened_case_id=clash.other_case_id,
                note_zh=f"该户已有在办案件{clash.other_case_id}，改正结论转该案件办理",
            )
        today = beijing_today()
        inp = {
            "application_id": new_id,
            "programme": req.programme,
            "area_code": req.area_code,
            "household_id": req.household_id,
            "members": members,
            "submitted_by": req.actor.model_dump(mode="json"),
            "submitted_at": datetime.now(UTC).isoformat(),
            "applied_on": today.isoformat(),
            "linked_case_id": req.case_id,
        }
        starting = _Starting(
            programme=Programme(req.programme),
            area_code=req.area_code,
            household_id=req.household_id,
        )
        text = case_static(
            CaseKind.APPLICATION,
            area_code=req.area_code,
            programme=req.programme,
            applicant_name=next(
                (str(m["name"]) for m in members if m.get("relation") == "applicant"), None
            ),
            subject_zh="抽查改正后重新审核",
        )
        try:
            await client.start_workflow(
                APPLICATION_WORKFLOW_TYPE,
                inp,
                id=application_workflow_id(new_id),
                task_queue=activity.info().task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=initial_search_attributes(starting, "submitted"),
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            pass  # a retried activity: the new application is already running
        self._tell_township(req, new_id)
        return ReopenResult(
            path="new_application",
            reopened_case_id=new_id,
            note_zh=f"已依县级抽查结论重新启动申请{new_id}（关联原申请{req.case_id}），"
            "由乡镇（街道）受理、调查、公示后重新审核确认并书面告知",
        )

    def _tell_township(self, req: ReopenRequest, new_id: str) -> None:
        township = req.area_code[:9]
        key = f"spot-check:{req.round_id}:{req.case_id}:reopened"
        with Session(self.engine) as session:
            if session.exec(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
            ).first():
                return
            session.add(
                OutboxMessage(
                    dedupe_key=key,
                    kind="notice",
                    recipient_role=Role.TOWNSHIP_OFFICER.value,
                    recipient_area=township,
                    case_id=new_id,
                    workflow_id=application_workflow_id(new_id),
                    message_zh=(
                        f"县级抽查（{req.round_id}）撤销了案件{req.case_id}的不予确认决定：{req.findings_zh}。"
                        f"已生成重新办理的申请{new_id}，请及时受理并依程序重新审核确认、书面告知申请人。"
                    ),
                )
            )
            session.commit()
