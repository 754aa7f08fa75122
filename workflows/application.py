"""The application workflow: one durable workflow per application (DOMAIN §3–§4)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
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
    )
    from jiuzhu.records import AuditRecord, CaseSnapshot, RecordStep
    from rules.areas import county_of, township_of
    from workflows.application_models import (
        ApplicationInput,
        ApplicationState,
        TimelineEntry,
    )
    from workflows.deadlines import DeadlineBook

RECORD_TIMEOUT = timedelta(seconds=30)


def initial_search_attributes(inp: ApplicationInput, status: str) -> TypedSearchAttributes:
    """Search attributes set at start, so a case is findable in the Web UI from its first
    moment."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.APPLICATION.value),
            SearchAttributePair(SA_PROGRAMME, inp.programme.value),
            SearchAttributePair(SA_STATUS, status),
            SearchAttributePair(SA_AREA, inp.area_code),
            SearchAttributePair(SA_COUNTY, county_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_TOWNSHIP, township_of(inp.area_code) or inp.area_code),
            SearchAttributePair(SA_HOUSEHOLD, inp.household_id),
            SearchAttributePair(SA_OVERDUE, False),
        ]
    )


@workflow.defn
class ApplicationWorkflow:
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        self.state = ApplicationState(
            application_id=inp.application_id,
            programme=inp.programme,
            area_code=inp.area_code,
            household_id=inp.household_id,
            members=inp.members,
            submitted_by=inp.submitted_by,
            submitted_at=inp.submitted_at,
        )
        self.deadlines = DeadlineBook(self.state.deadlines, inp.application_id, self._publish)

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationState:
        await self._record("apply", inp.submitted_by, note_zh="提交申请")
        await workflow.wait_condition(lambda: False)
        return self.state

    @workflow.query
    def get_state(self) -> ApplicationState:
        return self.state

    # --- publishing ----------------------------------------------------------------------
    async def _publish(self) -> None:
        """Refresh search attributes and the read model after a deadline changed."""
        await self._write([])

    async def _record(
        self, action: str, actor: Actor | None, note_zh: str = "", **detail: object
    ) -> None:
        """Append to the timeline; write the read model and the audit line together."""
        now = workflow.now()
        self.state.timeline.append(
            TimelineEntry(at=now, action=action, actor=actor, note_zh=note_zh)
        )
        audit = AuditRecord(
            dedupe_key=f"{workflow.info().workflow_id}:{len(self.state.timeline)}:{action}",
            at=now,
            case_id=self.state.application_id,
            workflow_id=workflow.info().workflow_id,
            action=action,
            actor=actor,
            policy_version_id=self.state.policy_version_id,
            detail=dict(detail),
        )
        await self._write([audit])

    async def _write(self, audit: list[AuditRecord]) -> None:
        self.state.revision += 1
        next_due = self.deadlines.next_due()
        workflow.upsert_search_attributes(
            [
                SA_STATUS.value_set(self.state.status.value),
                SA_NEXT_DEADLINE.value_set(next_due)
                if next_due
                else SA_NEXT_DEADLINE.value_unset(),
                SA_OVERDUE.value_set(self.deadlines.overdue()),
                SA_PROVISIONAL.value_set(self.deadlines.has_provisional()),
            ]
        )
        await workflow.execute_activity_method(
            RecordActivities.record_step,
            RecordStep(snapshot=self._snapshot(), audit=audit),
            start_to_close_timeout=RECORD_TIMEOUT,
        )

    def _snapshot(self) -> CaseSnapshot:
        s = self.state
        applicant = s.applicant
        return CaseSnapshot(
            case_id=s.application_id,
            workflow_id=workflow.info().workflow_id,
            case_kind=CaseKind.APPLICATION.value,
            programme=s.programme.value,
            status=s.status.value,
            area_code=s.area_code,
            household_id=s.household_id,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
            household_size=len(s.members),
            policy_version_id=s.policy_version_id,
            next_deadline=self.deadlines.next_due(),
            overdue=self.deadlines.overdue(),
            revision=s.revision,
            detail={"timeline_length": len(s.timeline)},
        )
