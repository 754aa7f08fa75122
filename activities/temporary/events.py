"""The event register (民发〔2018〕23号: 对同一事由不重复救助): each person's claim on an event
(type + date) by a case. A second case may aid the same event only with a recorded reason.
Used inside the caller's transaction by the prepayment debit and by ``claim_event``, and read by
the API to refuse a registration early."""

from sqlmodel import Session, col, select

from activities.temporary.payloads import EventClaim
from jiuzhu.db.models_temporary import TemporaryEventClaim
from jiuzhu.refusals import Refusal, RefusalKind
from workflows.temporary.contract import EVENT_ALREADY_AIDED, EVENT_TYPE_NAMES_ZH, event_key


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


def already_aided(claim: EventClaim, others: list[TemporaryEventClaim]) -> Refusal:
    """The refusal (409 Conflict, code ``EventAlreadyAided``, field ``repeat_reason``, the other
    ``cases``) for an event another case already aided."""
    cases = sorted({c.case_id for c in others})
    return Refusal(
        kind=RefusalKind.CONFLICT,
        message_zh=(
            f"同一事由（{EVENT_TYPE_NAMES_ZH[claim.event_type]}，{claim.event_date.isoformat()}）"
            f"已由案件{'、'.join(cases)}救助；再次救助须写明理由（repeat_reason）"
        ),
        field="repeat_reason",
        extra={"code": EVENT_ALREADY_AIDED, "cases": cases},
    )


def claim_event_in(session: Session, claim: EventClaim) -> None:
    """Record the case's claim on the event inside the caller's transaction. Refused (a
    non-retryable Conflict ``EventAlreadyAided``) when another case already aided it and no
    reason is given; the reason of a repeat is recorded. Two racing first claims collide on the
    unique ``claim_key`` (IntegrityError at commit)."""
    others = prior_claims(session, claim)
    if others and not claim.repeat_reason:
        raise already_aided(claim, others).error()
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
