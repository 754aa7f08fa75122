"""Entitlement activities: keep the read model the payroll reads current (``entitlement_account``
and ``entitlement_member``, guarded by revision; the case list row and audit lines go through the
case publisher's ``record_step``), render and keep written notices, and summarise the payment
history."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client

from activities.entitlements.models import (
    AccountSnapshot,
    NoticeReason,
    NoticeRef,
    NoticeRequest,
    PaymentSummary,
    SummaryRequest,
)
from activities.listings.announce import (
    ListingLine,
    announce,
    change_of,
    effective_on,
    listing_line,
)
from jiuzhu.clock import beijing_today
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import OutboxMessage, PaymentInstruction
from jiuzhu.db.models_payments import EntitlementAccount, EntitlementMember, EntitlementNotice
from jiuzhu.membership import HeldMember, sync_entitlement
from rules import notices as rules_notices
from rules.areas import AREAS, full_name
from rules.authorities import county_bureau_name, county_court_name, county_government_name
from rules.reasons import REASON_BASIS, Reason
from workflows.listings.contract import ChangeKind
from workflows.payments.contract import PaymentKind, PaymentStatus


def _authorities(area_code: str) -> tuple[str, str, str]:
    """(issuing authority, administrative-review authority, court) for a county, named from the
    area registry (``rules.authorities``)."""
    return (
        county_bureau_name(area_code),
        county_government_name(area_code),
        county_court_name(area_code),
    )


def _reason(r: NoticeReason) -> Reason | rules_notices.StatedReason:
    if r.code is not None:
        return Reason(code=r.code, text_zh=r.text_zh, basis=r.basis or REASON_BASIS[r.code])
    return rules_notices.StatedReason(text_zh=r.text_zh, basis=r.basis)


def build_notice(req: NoticeRequest) -> rules_notices.Notice:
    """The ``rules.notices`` document of a reduction, suspension or termination (低保办法
    Art. 32; 特困办法 Art. 24–27): reasons (coded or stated), legal basis, appeal rights, seal
    area and delivery receipt."""
    authority, review_authority, court = _authorities(req.area_code)
    common: dict[str, Any] = {
        "case_id": req.case_id,
        "authority": authority,
        "issued_on": req.issued_on,
        "applicant_name": req.applicant_name,
        "review_authority": review_authority,
        "court": court,
        "programme": req.programme,
        "effective_month": req.effective_month,
        "reasons": [_reason(r) for r in req.reasons],
    }
    if req.kind == "termination":
        return rules_notices.TerminationNotice(
            **common, withdrawal_until=req.withdrawal_until, referral=req.referral
        )
    if req.kind == "reduction":
        return rules_notices.ReductionNotice(
            **common,
            previous_amount=req.previous_amount or Decimal("0.00"),
            new_amount=req.new_amount or Decimal("0.00"),
        )
    return rules_notices.SuspensionNotice(**common)


def render_notice(req: NoticeRequest) -> tuple[str, str]:
    """(title, html) of an entitlement notice."""
    notice = build_notice(req)
    return rules_notices.notice_title(notice), rules_notices.render_notice_html(notice)


class EntitlementActivities:
    """``client``: the worker's Temporal client, to tell a village's listing of a change
    (``None`` in tests that only write the read model)."""

    def __init__(self, engine: Engine, client: Client | None = None) -> None:
        self.engine = engine
        self.client = client

    @activity.defn
    async def publish_account(self, a: AccountSnapshot) -> None:
        """Upsert the payroll's row and the members' shares in one transaction (in a thread);
        an older revision never overwrites a newer one. When the household's line on its
        village's long-term public listing changes (it comes on, changes or leaves), the
        village's posting workflow is told (``activities/listings/announce.py``) — again on a
        retry, since the first attempt may have written the row and failed to tell it."""
        before, after = await asyncio.to_thread(self._publish_account, a)
        retry = activity.info().attempt > 1
        kind = change_of(before, after) or (
            ChangeKind.CHANGE if retry and (before or after) else None
        )
        if kind is not None and self.client is not None:
            await announce(
                self.client,
                activity.info().task_queue,
                a.area_code,
                a.case_id,
                kind,
                effective_on(kind, beijing_today(), a.start_month, a.end_month),
            )

    def _publish_account(self, a: AccountSnapshot) -> tuple[ListingLine | None, ListingLine | None]:
        """The write; the household's listing line before and after it (both ``None`` when
        an older revision was not written)."""
        with unit_of_work(self.engine) as session:
            row = session.exec(
                select(EntitlementAccount).where(EntitlementAccount.case_id == a.case_id)
            ).first()
            if row is not None and a.revision < row.revision:
                return None, None
            before = (
                None
                if row is None
                else listing_line(
                    programme=row.programme,
                    status=row.status,
                    payable_amount=row.payable_amount,
                    members_paid=row.members_paid,
                    payee_name=row.payee_name,
                    end_month=row.end_month,
                )
            )
            after = listing_line(
                programme=a.programme,
                status=a.status,
                payable_amount=a.payable_amount,
                members_paid=a.members_paid,
                payee_name=a.payee_name,
                end_month=a.end_month,
            )
            values = a.model_dump(exclude={"members"})
            if row is None:
                row = EntitlementAccount(**values)
            else:
                for key, value in values.items():
                    setattr(row, key, value)
            # The payroll's last-moment re-check looks only at accounts changed since it last
            # looked (PayrollActivities.recheck_batch): every upsert moves this instant.
            row.updated_at = datetime.now(UTC)
            session.add(row)
            existing = {
                m.id_number: m
                for m in session.exec(
                    select(EntitlementMember).where(EntitlementMember.case_id == a.case_id)
                ).all()
            }
            for share in a.members:
                member = existing.get(share.id_number) or EntitlementMember(
                    case_id=a.case_id,
                    id_number=share.id_number,
                    name=share.name,
                    relation=share.relation,
                    share_status=share.status.value,
                )
                member.share_status = share.status.value
                session.add(member)
            # One active household per person and programme (jiuzhu.membership): the index
            # follows the entitlement — ended, cut, moved-out or deceased members are released.
            missed = sync_entitlement(
                session,
                programme=a.programme,
                case_id=a.case_id,
                application_id=None,
                household_id=a.household_id,
                status=a.status,
                members=[
                    HeldMember(id_number=m.id_number, name=m.name, share_status=m.status.value)
                    for m in a.members
                ],
            )
            if missed:
                activity.logger.warning(
                    "members held by another household", extra={"case_id": a.case_id}
                )
        return before, after

    @activity.defn
    def issue_notice(self, req: NoticeRequest) -> NoticeRef:
        """Render the notice, keep it (once per ``notice_id``) and ask the township to deliver
        it (outbox)."""
        title, html = render_notice(req)
        area = req.deliver_to_area
        place = full_name(area) if area in AREAS else area
        with unit_of_work(self.engine) as session:
            seen = session.exec(
                select(EntitlementNotice).where(EntitlementNotice.notice_id == req.notice_id)
            ).first()
            if seen is None:
                session.add(
                    EntitlementNotice(
                        notice_id=req.notice_id,
                        case_id=req.case_id,
                        kind=req.kind,
                        title=title,
                        issued_on=req.issued_on,
                        html=html,
                    )
                )
                dedupe = f"notice:{req.notice_id}"
                if not session.exec(
                    select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe)
                ).first():
                    session.add(
                        OutboxMessage(
                            dedupe_key=dedupe,
                            kind="notice",
                            recipient_role="township_officer",
                            recipient_area=req.deliver_to_area,
                            case_id=req.case_id,
                            workflow_id=f"entitlement-{req.case_id}",
                            message_zh=f"请向{req.applicant_name}送达《{title}》（{place}）。",
                        )
                    )
        return NoticeRef(
            notice_id=req.notice_id, kind=req.kind, title=title, issued_on=req.issued_on
        )

    @activity.defn
    def payments_in_flight(self, req: SummaryRequest) -> int:
        """How many of the case's payroll lines the bank has not answered yet: ``pending``
        (compiled into a month, not yet in a bank file) or ``sent`` (in a bank file, not yet
        reconciled). An ending waits for them before it opens its receivable."""
        with Session(self.engine) as session:
            return int(
                session.exec(
                    select(func.count()).where(
                        PaymentInstruction.case_id == req.case_id,
                        PaymentInstruction.kind == PaymentKind.PAYROLL.value,
                        col(PaymentInstruction.status).in_(
                            [PaymentStatus.PENDING.value, PaymentStatus.SENT.value]
                        ),
                    )
                ).one()
            )

    @activity.defn
    def payment_summary(self, req: SummaryRequest) -> PaymentSummary:
        with Session(self.engine) as session:
            paid = session.exec(
                select(func.count(), func.coalesce(func.sum(PaymentInstruction.amount), 0)).where(
                    PaymentInstruction.case_id == req.case_id,
                    PaymentInstruction.status == PaymentStatus.PAID.value,
                )
            ).one()
            failed = session.exec(
                select(func.count()).where(
                    PaymentInstruction.case_id == req.case_id,
                    col(PaymentInstruction.status).in_(
                        [PaymentStatus.FAILED.value, PaymentStatus.FLAGGED.value]
                    ),
                )
            ).one()
            last = session.exec(
                select(func.max(PaymentInstruction.period)).where(
                    PaymentInstruction.case_id == req.case_id,
                    PaymentInstruction.status == PaymentStatus.PAID.value,
                    PaymentInstruction.kind == PaymentKind.PAYROLL.value,
                )
            ).one()
        return PaymentSummary(
            paid_count=int(paid[0]),
            paid_total=Decimal(str(paid[1])).quantize(Decimal("0.01")),
            failed_count=int(failed),
            last_paid_period=last,
        )
