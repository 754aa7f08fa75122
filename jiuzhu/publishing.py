"""The case publisher: how every case workflow makes itself visible, in one place.

- Search attributes for the Temporal Web UI (DOMAIN §10): the static ones (kind, programme,
  area, county, township, household) once, unless the starter set them; the dynamic ones
  (status, next deadline, overdue, provisional) diffed, so an unchanged value costs no history
  event and no visibility write.
- The Web UI's current details (``workflow.set_current_details``, no history event): status in
  Chinese, next deadline and who acts (``jiuzhu.console``), refreshed with the dynamic ones; and
  the ``DecisionOutcome`` search attribute once the case reaches its outcome (behind the
  ``decision-outcome-search-attribute`` patch).
- The read model and the audit log: a step's snapshot and its audit lines (who, what, when, on
  which evidence, under which policy version) are written together by the ``record_step``
  activity, idempotently (revision guard, audit dedupe key).

Workflow code only."""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from jiuzhu.calls import call  # workflow code: stays sandboxed

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
    from jiuzhu.areas import AreaRef
    from jiuzhu.console import OUTCOME_NAMES_ZH, NextStep, current_details
    from jiuzhu.contract import (
        SA_AREA,
        SA_CASE_KIND,
        SA_COUNTY,
        SA_HOUSEHOLD,
        SA_NEXT_DEADLINE,
        SA_OUTCOME,
        SA_OVERDUE,
        SA_PROGRAMME,
        SA_PROVISIONAL,
        SA_STATUS,
        SA_TOWNSHIP,
        Actor,
        CaseKind,
    )
    from jiuzhu.records import AuditRecord, CaseSnapshot, RecordStep
    from jiuzhu.versions import DECISION_OUTCOME

if TYPE_CHECKING:
    from workflows.deadlines.book import DeadlineBook

_UNSET = object()
_DYNAMIC = (
    SA_STATUS.name,
    SA_NEXT_DEADLINE.name,
    SA_OVERDUE.name,
    SA_PROVISIONAL.name,
    SA_OUTCOME.name,
)


class CasePublisher:
    """``labels``: the case kind's statuses in Chinese (its contract's ``STATUS_LABELS_ZH``), for
    the Web UI's current details."""

    def __init__(self, kind: CaseKind, labels: Mapping[Any, str] | None = None) -> None:
        self.kind = kind
        self.labels: Mapping[Any, str] = labels or {}
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
        outcome: str | None = None,
    ) -> None:
        """Status, next deadline, overdue and provisional flags: only those that changed.
        ``also_due``: a case's own next date outside the book (e.g. an entitlement's next
        periodic review), counted in the next deadline. ``outcome``: the decision outcome once
        reached (``approved``, ``refused``, ``withdrawn``, ``lapsed`` …), upserted once."""
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
        if (
            outcome is not None
            and self._published.get(SA_OUTCOME.name) != outcome
            and workflow.patched(DECISION_OUTCOME)
        ):
            updates.append(SA_OUTCOME.value_set(outcome))
            self._published[SA_OUTCOME.name] = outcome
        if updates:
            workflow.upsert_search_attributes(updates)
        self.details(status=status, book=book, also_due=also_due, outcome=outcome)

    def details(
        self,
        *,
        status: str,
        book: "DeadlineBook | None" = None,
        also_due: datetime | None = None,
        outcome: str | None = None,
    ) -> None:
        """The Web UI's current details: status in Chinese, the next deadline and who acts."""
        publish_details(self.labels.get(status, status), book, also_due=also_due, outcome=outcome)

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


def publish_details(
    status_zh: str,
    book: "DeadlineBook | None" = None,
    *,
    also_due: datetime | None = None,
    outcome: str | None = None,
) -> None:
    """Set the Web UI's current details (``jiuzhu.console.current_details``) from the book's
    earliest open deadline. Not a command (no history event), so it is safe in every execution,
    old or new; workflows without a ``CasePublisher`` (campaign, daily batch) call it directly."""
    step: NextStep | None = None
    if book is not None:
        open_ = sorted(book.open(), key=lambda d: d.due_at)
        if open_:
            d = open_[0]
            step = NextStep(
                label_zh=d.spec.label_zh,
                due_date=d.due_date,
                due_at=d.due_at,
                role=d.spec.responsible_role,
                area_code=d.spec.responsible_area,
                overdue=d.is_overdue(workflow.now()),
            )
    workflow.set_current_details(
        current_details(
            status_zh,
            step,
            also_due=also_due,
            outcome_zh=OUTCOME_NAMES_ZH.get(outcome, outcome) if outcome else None,
        )
    )
