"""The workflow-side toolkit of one temporary-assistance case, shared by the procedures: its
state, its lock, its one ``Alarm`` and deadline book, and how it records a step (timeline,
audit line, read model, search attributes, prepayment register), settles and closes.

Workflow code only (it calls ``workflow.now()`` and activities)."""

import asyncio

from temporalio import workflow

from activities.temporary.cases import TemporaryActivities
from activities.temporary.payloads import EventClaim, Payee, PrepaymentRow
from jiuzhu.calls import call
from jiuzhu.contract import Actor, CaseKind
from jiuzhu.publishing import CasePublisher
from jiuzhu.records import AuditRecord, CaseSnapshot, TimelineEntry
from jiuzhu.timers import Alarm
from rules.programmes import Programme
from workflows.deadlines.book import DeadlineBook
from workflows.temporary.contract import (
    JUSTIFICATION_DEADLINE,
    STATUS_LABELS_ZH,
    PrepaymentStatus,
    TemporaryOutcome,
    TemporaryProcedure,
    TemporaryStatus,
)
from workflows.temporary.models import StepResult, TemporaryCaseState


class TemporaryCase:
    """One case's live parts. ``lock`` serialises every step that awaits (Updates, wake-ups,
    the child's result); ``alarm`` holds every wake-up (the book's ``deadline:*`` keys and the
    staged plan's ``stage:*`` keys) behind one durable timer."""

    def __init__(self, state: TemporaryCaseState) -> None:
        self.state = state
        self.lock = asyncio.Lock()
        self.alarm = Alarm()
        self.publisher = CasePublisher(CaseKind.TEMPORARY, STATUS_LABELS_ZH)
        self.book = DeadlineBook(state.deadlines, state.case_id, self.publish, self.alarm)
        self._register_row: PrepaymentRow | None = None

    # --- who is paid, which event is claimed ----------------------------------------------------
    def payee(self) -> Payee:
        """The card account's holder (defaulting to the applicant) and account."""
        s = self.state
        card, applicant = s.card_account, s.applicant
        return Payee(
            name=card.holder_name or applicant.name,
            id_number=card.holder_id_number or applicant.id_number,
            card_account=card.account_number,
        )

    def claim(self, repeat_reason: str | None) -> EventClaim:
        """The case's claim on its event, with the step's repeat reason or the registered one."""
        s = self.state
        return EventClaim(
            case_id=s.case_id,
            member_id_numbers=[m.id_number for m in s.members],
            event_type=s.event.event_type,
            event_date=s.event.event_date,
            repeat_reason=repeat_reason or s.repeat_reason,
        )

    def result(self) -> StepResult:
        s = self.state
        return StepResult(
            case_id=s.case_id, status=s.status, revision=s.revision, outcome=s.outcome
        )

    # --- recording ----------------------------------------------------------------------------
    async def record(
        self,
        action: str,
        actor: Actor | None,
        note_zh: str = "",
        extra_audit: list[AuditRecord] | None = None,
        **detail: object,
    ) -> None:
        """Append to the timeline; write read model, audit line(s) and register together."""
        s = self.state
        s.timeline.append(
            TimelineEntry(at=workflow.now(), action=action, actor=actor, note_zh=note_zh)
        )
        audit = self.publisher.audit(
            case_id=s.case_id,
            seq=len(s.timeline),
            action=action,
            actor=actor,
            policy_version_id=s.policy_version_id,
            detail={"note_zh": note_zh, **detail},
        )
        await self._write([audit, *(extra_audit or [])])

    async def publish(self) -> None:
        """Refresh search attributes and read model after a deadline changed (no audit)."""
        await self._write([])

    async def _write(self, audit: list[AuditRecord]) -> None:
        s = self.state
        s.status = self.derive_status()
        s.revision += 1
        self.publisher.dynamic(
            status=s.status.value,
            book=self.book,
            outcome=s.outcome.value if s.outcome is not None else None,
        )
        await self.publisher.write(self.snapshot(), audit)
        row = self.prepayment_row()
        if row is not None and (
            self._register_row is None
            or row.model_copy(update={"revision": 0})
            != self._register_row.model_copy(update={"revision": 0})
        ):
            await call(TemporaryActivities.record_prepayment, row)
            self._register_row = row

    # --- settling and closing -------------------------------------------------------------------
    async def settle(self) -> None:
        """Close an emergency case when every part is settled: the prepayment accepted or
        recovered, the referral decided, every stage paid."""
        s = self.state
        if s.closed_at is not None or s.procedure is not TemporaryProcedure.EMERGENCY:
            return
        p, r, d = s.prepayment, s.referral, s.special_decision
        if p is None and r is None:
            return
        if p is not None and not p.settled:
            return
        if r is not None and (d is None or (d.approved and d.next_unpaid() is not None)):
            return
        aided = (p is not None and p.review is not None and p.review.accepted) or (
            d is not None and d.approved
        )
        if aided:
            outcome, note = TemporaryOutcome.AIDED, "救助完毕，办结"
        elif p is not None:
            outcome, note = TemporaryOutcome.RECOVERED, "先行救助款已追回，办结"
        else:
            outcome, note = TemporaryOutcome.REFUSED, "一事一议不予救助，办结"
        await self.close(outcome, note, None)

    async def close(self, outcome: TemporaryOutcome, note: str, actor: Actor | None) -> None:
        s = self.state
        s.outcome = outcome
        s.closed_at = workflow.now()
        s.closed_reason_zh = note
        self.alarm.clear_prefix("stage:")
        await self.book.cancel_all()
        await self.record("close", actor, note, outcome=outcome.value)

    # --- what is published ------------------------------------------------------------------------
    def derive_status(self) -> TemporaryStatus:
        s = self.state
        if s.closed_at is not None:
            return TemporaryStatus.CLOSED
        if s.application is not None and s.application.completed_at is None:
            return TemporaryStatus.IN_APPLICATION
        p = s.prepayment
        if p is not None:
            if p.recovery is not None and p.recovery.closed_at is None:
                return TemporaryStatus.RECOVERY
            if p.review is None:
                return (
                    TemporaryStatus.PREPAID
                    if p.justification is None
                    else TemporaryStatus.JUSTIFIED
                )
        if s.referral is not None and s.special_decision is None:
            return TemporaryStatus.REFERRED
        if s.next_stage() is not None:
            return TemporaryStatus.PAYING
        return TemporaryStatus.REGISTERED

    def prepayment_row(self) -> PrepaymentRow | None:
        s = self.state
        p = s.prepayment
        if p is None:
            return None
        if p.review is None:
            status = (
                PrepaymentStatus.AWAITING_JUSTIFICATION
                if p.justification is None
                else PrepaymentStatus.AWAITING_REVIEW
            )
        elif p.review.accepted:
            status = PrepaymentStatus.ACCEPTED
        else:
            status = PrepaymentStatus.RECOVERED if p.settled else PrepaymentStatus.RECOVERY
        d = self.book.get(JUSTIFICATION_DEADLINE)
        return PrepaymentRow(
            case_id=s.case_id,
            workflow_id=workflow.info().workflow_id,
            area=s.area,
            applicant_name=s.applicant.name,
            amount=p.amount,
            granted_at=p.granted_at,
            justification_due=d.due_at if d is not None else None,
            justified_at=p.justification.township_signature.signed_at if p.justification else None,
            status=status,
            overdue=d is not None and d.is_overdue(workflow.now()),
            revision=s.revision,
        )

    def snapshot(self) -> CaseSnapshot:
        s = self.state
        applicant = s.applicant
        d = self.book.get(JUSTIFICATION_DEADLINE)
        return CaseSnapshot(
            case_id=s.case_id,
            workflow_id=workflow.info().workflow_id,
            case_kind=CaseKind.TEMPORARY.value,
            programme=Programme.TEMPORARY.value,
            status=s.status.value,
            area_code=s.area.code,
            household_id=s.household_id,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
            household_size=len(s.members),
            policy_version_id=s.policy_version_id,
            next_deadline=self.book.next_due(),
            overdue=self.book.overdue(),
            revision=s.revision,
            linked_case_id=s.linked_case_id,
            detail={
                "procedure": s.procedure.value,
                "event_type": s.event.event_type.value,
                "event_date": s.event.event_date.isoformat(),
                "prepayment_amount": str(s.prepayment.amount) if s.prepayment else None,
                "justification_due": d.due_at.isoformat() if d is not None else None,
                "application_id": s.application.application_id if s.application else None,
                "total_paid": str(s.total_paid),
                "outcome": s.outcome.value if s.outcome else None,
            },
        )
