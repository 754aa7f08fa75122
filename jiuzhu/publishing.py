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
- ``CaseSteps``: the step recording the newer case workflows share (a timeline entry, its audit
  line, the write), so each of them states only its own snapshot.

Workflow code only."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

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
    from jiuzhu.records import AuditRecord, CaseSnapshot, RecordStep, TimelineEntry
    from jiuzhu.versions import DECISION_OUTCOME, Versions

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

    def __init__(
        self,
        kind: CaseKind,
        labels: Mapping[Any, str] | None = None,
        versions: Versions | None = None,
    ) -> None:
        """``versions``: the workflow's; with its baseline, a next deadline or provisional
        flag the case was not started with counts as unset / false (nothing to upsert)."""
        self.kind = kind
        self.labels: Mapping[Any, str] = labels or {}
        self.versions = versions or Versions()
        # Dynamic search attributes as last published, from those the case was started with.
        self._published: dict[str, Any] = {
            pair.key.name: pair.value
            for pair in workflow.info().typed_search_attributes
            if pair.key.name in _DYNAMIC
        }
        if self.versions.baseline:
            self._published.setdefault(SA_NEXT_DEADLINE.name, None)
            self._published.setdefault(SA_PROVISIONAL.name, False)
        # The deadline due first as of the last ``dynamic`` (label, responsible role): the
        # read-model row carries it as the worklist's "who acts next".
        self._next_step: dict[str, str] = {}

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
            and self.versions.patched(DECISION_OUTCOME)
        ):
            updates.append(SA_OUTCOME.value_set(outcome))
            self._published[SA_OUTCOME.name] = outcome
        if updates:
            workflow.upsert_search_attributes(updates)
        self.details(status=status, book=book, also_due=also_due, outcome=outcome)
        due_first = book.next_open() if book is not None else None
        self._next_step = (
            {
                "next_deadline_label": due_first.spec.label_zh,
                "next_deadline_role": due_first.spec.responsible_role.value,
            }
            if due_first is not None
            else {}
        )

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
        """The read-model row and the audit lines, in one transaction (``record_step``); the
        row's ``detail`` names the deadline due first and its responsible role (see ``dynamic``)."""
        if snapshot is not None and self._next_step:
            snapshot = snapshot.model_copy(
                update={"detail": {**snapshot.detail, **self._next_step}}
            )
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


class RecordedState(Protocol):
    """What ``CaseSteps`` reads and writes in a case's state model: its timeline, its
    read-model revision, its status and the policy version it runs under."""

    timeline: list[TimelineEntry]
    revision: int

    @property
    def status(self) -> Enum: ...

    @property
    def policy_version_id(self) -> str | None: ...


S = TypeVar("S", bound=RecordedState)


class CaseSteps(Generic[S]):
    """Mixin of a case workflow that takes and records each step the same way: a handler's turn
    once the case has opened, under the case lock (``_step``); a timeline entry, its audit line
    and the write of the read model (``_record``); a write without a step when a deadline moves
    (``_publish``, the deadline book's ``on_change``).

    The workflow sets ``state`` (its state model, ``S``), ``publisher``, ``book`` (opened with
    the case id, which the audit lines and the snapshot carry), ``lock`` and ``ready`` (true
    once ``run`` has opened the case) in its ``__init__`` and says only what is its own:
    ``_snapshot`` (the read-model row, usually through ``_case_snapshot``), and where it
    differs ``_evidence`` (the audit lines' evidence) and ``_store`` (a domain activity writing
    more than the case row in the same transaction).

    One place, so that every such case issues the same commands in the same order for a step
    — the dynamic search attributes (if changed), then the one write activity — and a fix to
    the order or the audit line reaches them all."""

    state: S
    publisher: CasePublisher
    book: "DeadlineBook"
    lock: asyncio.Lock
    ready: bool

    @asynccontextmanager
    async def _step(self) -> AsyncIterator[None]:
        """A handler's turn: ``async with self._step():`` waits until the case has opened,
        then holds the case lock, so steps and wake-ups never interleave. First of all, before
        any ``await``, the alarm drops the timers no wake-up needs (``Alarm.drop_stale``)."""
        self.book.alarm.drop_stale()
        await workflow.wait_condition(lambda: self.ready)
        async with self.lock:
            yield

    # --- what the workflow says ------------------------------------------------------------
    def _snapshot(self) -> CaseSnapshot:
        """The case's read-model row as of now."""
        raise NotImplementedError

    def _evidence(self) -> list[Any] | None:
        """The evidence every audit line of the case names (none by default)."""
        return None

    def _audit_seq(self) -> int | str:
        """What makes a step's audit dedupe key unique in the workflow id: the timeline's
        length. A case that continues as new with a shortened timeline prefixes its run."""
        return len(self.state.timeline)

    async def _store(self, snapshot: CaseSnapshot, audit: list[AuditRecord]) -> None:
        """Write the row and the audit lines together (the kernel's ``record_step``)."""
        await self.publisher.write(snapshot, audit)

    # --- recording ---------------------------------------------------------------------
    async def _publish(self) -> None:
        """Refresh search attributes and read model without a step (a deadline moved)."""
        await self._write([])

    async def _record(
        self, action: str, actor: Actor | None, note_zh: str, **detail: object
    ) -> None:
        """One step: its timeline entry, its audit line (``detail`` with ``note_zh``; the
        timeline length makes the dedupe key) and the write."""
        s = self.state
        s.timeline.append(
            TimelineEntry(at=workflow.now(), action=action, actor=actor, note_zh=note_zh)
        )
        audit = self.publisher.audit(
            case_id=self.book.case_id,
            seq=self._audit_seq(),
            action=action,
            actor=actor,
            policy_version_id=s.policy_version_id,
            evidence=self._evidence(),
            detail={"note_zh": note_zh, **detail},
        )
        await self._write([audit])

    async def _write(self, audit: list[AuditRecord]) -> None:
        """Next revision, dynamic search attributes (only those changed), then the row and
        ``audit`` in one write."""
        s = self.state
        s.revision += 1
        self.publisher.dynamic(status=s.status.value, book=self.book)
        await self._store(self._snapshot(), audit)

    def _case_snapshot(
        self,
        *,
        programme: str,
        area_code: str,
        household_id: str,
        applicant_name: str,
        applicant_id_number: str,
        household_size: int,
        linked_case_id: str | None = None,
        detail: dict[str, Any],
    ) -> CaseSnapshot:
        """A ``CaseSnapshot`` whose common fields come from the case (id, workflow, kind,
        status, policy version, next deadline, overdue, revision); the rest as given."""
        s = self.state
        return CaseSnapshot(
            case_id=self.book.case_id,
            workflow_id=workflow.info().workflow_id,
            case_kind=self.publisher.kind.value,
            programme=programme,
            status=s.status.value,
            area_code=area_code,
            household_id=household_id,
            applicant_name=applicant_name,
            applicant_id_number=applicant_id_number,
            household_size=household_size,
            policy_version_id=s.policy_version_id,
            next_deadline=self.book.next_due(),
            overdue=self.book.overdue(),
            revision=s.revision,
            linked_case_id=linked_case_id,
            detail=detail,
        )
