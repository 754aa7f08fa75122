"""Activities of temporary assistance (临时救助) other than the reserve-fund debit: the event
register (the same event is not aided twice without a recorded reason), the link to a pending
低保/特困 application, county-funded payment instructions, recoveries, and the case's read model
with its prepayment register. Every write is idempotent, so an activity retry changes nothing."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import CaseRecord, OutboxMessage, PaymentInstruction
from jiuzhu.db.models_temporary import TemporaryEventClaim, TemporaryPrepayment, TemporaryRecovery
from jiuzhu.read_model import add_audit, upsert_case
from rules.areas import county_of, township_of
from rules.money import format_yuan
from workflows.temporary_models import (
    EVENT_TYPE_NAMES_ZH,
    EventClaim,
    PaymentOrder,
    PendingApplication,
    PendingLookup,
    PrepaymentRow,
    RecoveryOpen,
    TemporaryRecord,
)
from workflows.temporary_rules import (
    FINAL_APPLICATION_STATUSES,
    PENDING_LINK_PROGRAMMES,
    event_key,
)

EVENT_ALREADY_AIDED = "EventAlreadyAided"


def prior_claims(session: Session, claim: EventClaim) -> list[TemporaryEventClaim]:
    """Claims by OTHER cases on the same event for any of the household's members."""
    keys = [event_key(i, claim.event_type.value, claim.event_date) for i in claim.member_id_numbers]
    return list(
        session.exec(
            select(TemporaryEventClaim).where(
                col(TemporaryEventClaim.event_key).in_(keys),
                TemporaryEventClaim.case_id != claim.case_id,
            )
        ).all()
    )


def already_aided_error(claim: EventClaim, others: list[TemporaryEventClaim]) -> ApplicationError:
    cases = sorted({c.case_id for c in others})
    return ApplicationError(
        f"同一事由（{EVENT_TYPE_NAMES_ZH[claim.event_type]}，{claim.event_date.isoformat()}）"
        f"已由案件{'、'.join(cases)}救助；再次救助须写明理由（repeat_reason）",
        {"field": "repeat_reason", "cases": cases},
        type=EVENT_ALREADY_AIDED,
        non_retryable=True,
    )


def claim_event_in(session: Session, claim: EventClaim) -> None:
    """Record the case's claim on the event inside the caller's transaction. Refused
    (``EventAlreadyAided``) when another case already aided it and no reason is given; the reason
    of a repeat is recorded. Two racing first claims collide on the unique ``claim_key``."""
    others = prior_claims(session, claim)
    if others and not claim.repeat_reason:
        raise already_aided_error(claim, others)
    claimed = {o.event_key for o in others}
    for id_number in claim.member_id_numbers:
        key = event_key(id_number, claim.event_type.value, claim.event_date)
        mine = session.exec(
            select(TemporaryEventClaim.id).where(
                TemporaryEventClaim.event_key == key,
                TemporaryEventClaim.case_id == claim.case_id,
            )
        ).first()
        if mine is not None:
            continue
        session.add(
            TemporaryEventClaim(
                claim_key=f"{key}:{claim.case_id}" if key in claimed else key,
                event_key=key,
                case_id=claim.case_id,
                event_type=claim.event_type.value,
                event_date=claim.event_date,
                repeat_reason=claim.repeat_reason if key in claimed else None,
            )
        )
    session.flush()


class TemporaryActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def find_pending_application(self, req: PendingLookup) -> PendingApplication | None:
        """A 低保/特困 application of the same household still waiting on its decision: temporary
        assistance may be given first and is linked to it (DOMAIN §6; seed 002)."""
        with Session(self.engine) as session:
            row = session.exec(
                select(CaseRecord)
                .where(
                    CaseRecord.case_kind == "application",
                    col(CaseRecord.programme).in_(PENDING_LINK_PROGRAMMES),
                    col(CaseRecord.status).not_in(FINAL_APPLICATION_STATUSES),
                    or_(
                        CaseRecord.household_id == req.household_id,
                        col(CaseRecord.applicant_id_number).in_(req.member_id_numbers),
                    ),
                )
                .order_by(col(CaseRecord.created_at).desc())
            ).first()
        if row is None:
            return None
        return PendingApplication(case_id=row.case_id, programme=row.programme, status=row.status)

    @activity.defn
    def claim_event(self, claim: EventClaim) -> None:
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
        try:
            with unit_of_work(self.engine) as session:
                seen = session.exec(
                    select(PaymentInstruction.id).where(
                        PaymentInstruction.idempotency_key == order.idempotency_key
                    )
                ).first()
                if seen is not None:
                    return
                session.add(PaymentInstruction(programme="temporary", **order.model_dump()))
        except IntegrityError:
            return  # a concurrent attempt with the same key committed first
        activity.logger.info(
            "temporary payment issued", extra={"case_id": order.case_id, "kind": order.kind}
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
                    township_code=req.township_code,
                    county_code=req.county_code,
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
                    recipient_role="township_officer",
                    recipient_area=req.township_code,
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
    def record_case(self, rec: TemporaryRecord) -> None:
        """Read model, audit lines and prepayment register, in one transaction (idempotent)."""
        with unit_of_work(self.engine) as session:
            upsert_case(session, rec.snapshot)
            for line in rec.audit:
                add_audit(session, line)
            if rec.prepayment is not None:
                upsert_prepayment(session, rec.prepayment)


def upsert_prepayment(session: Session, p: PrepaymentRow) -> None:
    row = session.get(TemporaryPrepayment, p.case_id)
    values = p.model_dump()
    values["township_code"] = township_of(p.area_code) or p.area_code
    values["county_code"] = county_of(p.area_code) or p.area_code
    if row is None:
        session.add(TemporaryPrepayment(**values))
        return
    if p.revision < row.revision:
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = datetime.now(UTC)
    session.add(row)
