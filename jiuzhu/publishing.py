"""The case publisher: how every case workflow makes itself visible, in one place.

- Search attributes for the Temporal Web UI (DOMAIN §10): the static ones (kind, programme,
  area, county, township, household) once, unless the starter set them; the dynamic ones
  (status, next deadline, overdue, provisional) diffed, so an unchanged value costs no history
  event and no visibility write.
- The read model and the audit log: a step's snapshot and its audit lines (who, what, when, on
  which evidence, under which policy version) are written together by the ``record_step``
  activity, idempotently (revision guard, audit dedupe key).

Workflow code only."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from jiuzhu.calls import call  # workflow code: stays sandboxed

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
    from jiuzhu.areas import AreaRef
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

if TYPE_CHECKING:
    from workflows.deadlines.book import DeadlineBook

_UNSET = object()
_DYNAMIC = (SA_STATUS.name, SA_NEXT_DEADLINE.name, SA_OVERDUE.name, SA_PROVISIONAL.name)


class CasePublisher:
    def __init__(self, kind: CaseKind) -> None:
        self.kind = kind
        # Dynamic search attributes as last published, from those the case was started with.
        self._published: dict[str, Any] = {
            pair.key.name: pair.value
            for pair in workflow.info().typed_search_attributes
            if pair.key.name in _DYNAMIC
        }

    # --- search attributes -----------------------------------------------------------------
    def static(self, *, programme: str, area: AreaRef, household_id: str) -> None:
        """Kind, programme, areas and household, unless the starter already set them."""
        present = {pair.key.name for pair in workflow.info().typed_search_attributes}
        updates = [
            update
            for update in (
                SA_CASE_KIND.value_set(self.kind.value),
                SA_PROGRAMME.value_set(programme),
                SA_AREA.value_set(area.code),
                SA_COUNTY.value_set(area.county),
                SA_TOWNSHIP.value_set(area.township),
                SA_HOUSEHOLD.value_set(household_id),
            )
            if update.key.name not in present
        ]
        if updates:
            workflow.upsert_search_attributes(updates)

    def dynamic(
        self,
        *,
        status: str,
        book: "DeadlineBook | None" = None,
        also_due: datetime | None = None,
    ) -> None:
        """Status, next deadline, overdue and provisional flags: only those that changed.
        ``also_due``: a case's own next date outside the book (e.g. an entitlement's next
        periodic review), counted in the next deadline."""
        dues = [d for d in (book.next_due() if book else None, also_due) if d is not None]
        next_due: datetime | None = min(dues) if dues else None
        wanted: dict[str, Any] = {
            SA_STATUS.name: status,
            SA_NEXT_DEADLINE.name: next_due,
            SA_OVERDUE.name: book.overdue() if book else False,
            SA_PROVISIONAL.name: book.has_provisional() if book else False,
        }
        updates: list[Any] = []
        for name, value in wanted.items():
            if self._published.get(name, _UNSET) == value:
                continue
            if name == SA_STATUS.name:
                updates.append(SA_STATUS.value_set(value))
            elif name == SA_NEXT_DEADLINE.name:
                updates.append(
                    SA_NEXT_DEADLINE.value_set(value) if value else SA_NEXT_DEADLINE.value_unset()
                )
            elif name == SA_OVERDUE.name:
                updates.append(SA_OVERDUE.value_set(value))
            else:
                updates.append(SA_PROVISIONAL.value_set(value))
            self._published[name] = value
        if updates:
            workflow.upsert_search_attributes(updates)

    # --- read model and audit ----------------------------------------------------------------
    def audit(
        self,
        *,
        case_id: str,
        seq: int | str,
        action: str,
        actor: Actor | None,
        policy_version_id: str | None = None,
        evidence: list[Any] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """One audit line; ``seq`` (the timeline length) makes its dedupe key unique per step."""
        workflow_id = workflow.info().workflow_id
        return AuditRecord(
            dedupe_key=f"{workflow_id}:{seq}:{action}",
            at=workflow.now(),
            case_id=case_id,
            workflow_id=workflow_id,
            action=action,
            actor=actor,
            policy_version_id=policy_version_id,
            evidence=list(evidence or []),
            detail=dict(detail or {}),
        )

    async def write(self, snapshot: CaseSnapshot | None, audit: list[AuditRecord]) -> None:
        """The read-model row and the audit lines, in one transaction (``record_step``)."""
        await call(RecordActivities.record_step, RecordStep(snapshot=snapshot, audit=audit))
