"""Case activities of temporary assistance (临时救助, DOMAIN §6) other than the reserve fund: the
link to a pending 低保/特困 application, the event claim of the normal and 一事一议 paths,
county-funded payment instructions (through the one instruction writer), the opening of a
recovery, and the open-prepayment register. Every write is idempotent, so a retry changes
nothing."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payments.instructions import write_instruction
from activities.temporary.events import claim_event_in
from activities.temporary.payloads import (
    EventClaim,
    PaymentOrder,
    PendingApplication,
    PendingLookup,
    PrepaymentRow,
    RecoveryOpen,
    temporary_instruction,
)
from jiuzhu.contract import Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import CaseRecord, OutboxMessage
from jiuzhu.db.models_temporary import TemporaryEventClaim, TemporaryPrepayment, TemporaryRecovery
from jiuzhu.db.sealing import blind_indexes
from rules.money import format_yuan

# Application statuses after which an application no longer waits on its decision: a household
# "waiting on a 低保/特困 decision" may get temporary assistance first (DOMAIN §6; seed 002).
FINAL_APPLICATION_STATUSES = frozenset(
    {
        "approved",
        "refused",
        "rejected",
        "withdrawn",
        "closed",
        "terminated",
        "cancelled",
        "completed",
        "recognised",
        "not_recognised",
        "lapsed",
    }
)
PENDING_LINK_PROGRAMMES = ("dibao", "tekun")


class TemporaryActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def find_pending_application(self, req: PendingLookup) -> PendingApplication | None:
        """A 低保/特困 application of the same household (or a member as applicant) still
        waiting on its decision, newest first; None when there is none."""
        with Session(self.engine) as session:
            row = session.exec(
                select(CaseRecord)
                .where(
                    CaseRecord.case_kind == "application",
                    col(CaseRecord.programme).in_(PENDING_LINK_PROGRAMMES),
                    col(CaseRecord.status).not_in(FINAL_APPLICATION_STATUSES),
                    or_(
                        CaseRecord.household_id == req.household_id,
                        col(CaseRecord.applicant_id_number_index).in_(
                            blind_indexes(req.member_id_numbers)
                        ),
                    ),
                )
                .order_by(col(CaseRecord.created_at).desc())
            ).first()
        if row is None:
            return None
        return PendingApplication(case_id=row.case_id, programme=row.programme, status=row.status)

    @activity.defn
    def claim_event(self, claim: EventClaim) -> None:
        """The case's claim on its event (refused: Conflict ``EventAlreadyAided``)."""
        try:
            with unit_of_work(self.engine) as session:
                claim_event_in(session, claim)
        except IntegrityError:
            # Lost a race for the first claim: decide again against the winner (retryable).
            raise ApplicationError("event claim raced; retrying", type="ClaimRace") from None

    @activity.defn
    def release_event(self, claim: EventClaim) -> None:
        """A refused or withdrawn case gave no aid: its claim on the event is released."""
        with unit_of_work(self.engine) as session:
            rows = session.exec(
                select(TemporaryEventClaim).where(TemporaryEventClaim.case_id == claim.case_id)
            ).all()
            for row in rows:
                session.delete(row)

    @activity.defn
    def issue_payment(self, order: PaymentOrder) -> None:
        """A county-funded payment instruction, once per idempotency key."""
        with unit_of_work(self.engine) as session:
            created = write_instruction(
                session,
                temporary_instruction(
                    idempotency_key=order.idempotency_key,
                    kind=order.kind,
                    case_id=order.case_id,
                    household_id=order.household_id,
                    area=order.area,
                    period=order.period,
                    amount=order.amount,
                    payee=order.payee,
                    funding_source="county",
                ),
            )
        if created is not None:
            activity.logger.info(
                "temporary payment issued",
                extra={"case_id": order.case_id, "kind": order.kind.value},
            )

    @activity.defn
    def open_recovery(self, req: RecoveryOpen) -> None:
        """The county rejected the justification: open recovery of the amount and tell the
        township (a task in the outbox), in one transaction."""
        with unit_of_work(self.engine) as session:
            if session.get(TemporaryRecovery, req.case_id) is not None:
                return
            session.add(
                TemporaryRecovery(
                    case_id=req.case_id,
                    workflow_id=req.workflow_id,
                    township_code=req.area.township,
                    county_code=req.area.county,
                    amount_fen=int((req.amount * 100).to_integral_exact()),
                    reason_zh=req.reason_zh,
                    opened_by=req.opened_by.officer_id,
                    opened_at=req.opened_at,
                )
            )
            session.add(
                OutboxMessage(
                    dedupe_key=f"{req.workflow_id}:recovery:open",
                    kind="notice",
                    recipient_role=Role.TOWNSHIP_OFFICER.value,
                    recipient_area=req.area.township,
                    case_id=req.case_id,
                    workflow_id=req.workflow_id,
                    deadline_name=None,
                    message_zh=(
                        f"追回：案件{req.case_id}的先行救助事后补充说明未通过县级审核"
                        f"（{req.reason_zh}），请追回{format_yuan(req.amount)}并登记。"
                    ),
                )
            )

    @activity.defn
    def record_prepayment(self, row: PrepaymentRow) -> None:
        """The open-prepayment register row (revision guard: a late write changes nothing)."""
        with unit_of_work(self.engine) as session:
            upsert_prepayment(session, row)


def upsert_prepayment(session: Session, p: PrepaymentRow) -> None:
    row = session.get(TemporaryPrepayment, p.case_id)
    values = p.model_dump(exclude={"area", "status"})
    values.update(
        status=p.status.value,
        area_code=p.area.code,
        township_code=p.area.township,
        county_code=p.area.county,
    )
    if row is None:
        session.add(TemporaryPrepayment(**values))
        return
    if p.revision < row.revision:
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = datetime.now(UTC)
    session.add(row)
