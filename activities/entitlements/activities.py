"""Entitlement activities: keep the read model the payroll reads current (``entitlement_account``
and ``entitlement_member``, guarded by revision; the case list row and audit lines go through the
case publisher's ``record_step``), render and keep written notices, and summarise the payment
history."""

from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio import activity

from activities.entitlements.models import (
    AccountSnapshot,
    NoticeRef,
    NoticeRequest,
    PaymentSummary,
    SummaryRequest,
)
from jiuzhu.areas import AreaRef
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import OutboxMessage, PaymentInstruction
from jiuzhu.db.models_payments import EntitlementAccount, EntitlementMember, EntitlementNotice
from jiuzhu.membership import HeldMember, sync_entitlement
from rules.areas import AREAS, full_name
from workflows.payments.contract import PaymentKind, PaymentStatus

try:  # rules.notices is being finished by another engineer; fall back to a minimal notice
    from rules import notices as rules_notices
    from rules.reasons import REASON_BASIS, Reason
except ImportError:  # pragma: no cover - only while rules.notices is absent
    rules_notices = None  # type: ignore[assignment]


def _authorities(area_code: str) -> tuple[str, str, str]:
    """(issuing authority, administrative-review authority, court) for a county."""
    county = AreaRef.of(area_code).county
    name = AREAS[county].name if county in AREAS else f"{county}县"
    return f"{name}民政局", f"{name}人民政府", f"{name}人民法院"


TITLES = {
    "termination": "终止{programme}通知书",
    "reduction": "{programme}减发通知书",
    "suspension": "{programme}停发通知书",
}


def _fallback_html(req: NoticeRequest, title: str, authority: str) -> str:
    """A minimal written notice where ``rules.notices`` has no matching reason code (e.g. work
    refusal, death): reasons, effective month, appeal rights (低保办法 Art. 32, 38)."""
    _, review_authority, court = _authorities(req.area_code)
    reasons = "".join(
        f"<li>{escape(r.text_zh)}{'（依据：' + escape(r.basis) + '）' if r.basis else ''}</li>"
        for r in req.reasons
    )
    month = f"{req.effective_month.year}年{req.effective_month.month}月"
    amounts = ""
    if req.previous_amount is not None and req.new_amount is not None:
        amounts = (
            f"<p>救助金由每月{req.previous_amount:,.2f}元调整为每月{req.new_amount:,.2f}元。</p>"
        )
    withdrawal = ""
    if req.withdrawal_until is not None:
        w = req.withdrawal_until
        withdrawal = f"<p>根据渐退期规定，救助金继续发放至{w.year}年{w.month}月。</p>"
    referral = f"<p>{escape(req.referral)}</p>" if req.referral else ""
    issued = f"{req.issued_on.year}年{req.issued_on.month}月{req.issued_on.day}日"
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>"
        f'<h1 align="center">{escape(title)}</h1><p align="right">编号：{escape(req.case_id)}</p>'
        f"<p>{escape(req.applicant_name)}：</p><p>经核查，自{month}起作出如下决定。理由如下：</p>"
        f"<ol>{reasons}</ol>{amounts}{withdrawal}{referral}"
        f"<p>如对本决定不服，可以自知道该行政行为之日起60日内向{escape(review_authority)}申请"
        f"行政复议，或者自知道该行政行为之日起6个月内向{escape(court)}提起行政诉讼。</p>"
        f'<p align="right">{escape(authority)}<br>{issued}</p></body></html>'
    )


def render_notice(req: NoticeRequest) -> tuple[str, str]:
    """(title, html) of a notice; through ``rules.notices`` when every reason has a code."""
    from rules.programmes import PROGRAMME_NAMES_ZH

    authority, review_authority, court = _authorities(req.area_code)
    title = TITLES[req.kind].format(programme=PROGRAMME_NAMES_ZH[req.programme])
    coded = rules_notices is not None and all(r.code is not None for r in req.reasons)
    if not coded:
        return title, _fallback_html(req, title, authority)
    reasons = [
        Reason(code=r.code, text_zh=r.text_zh, basis=r.basis or REASON_BASIS[r.code])
        for r in req.reasons
        if r.code is not None
    ]
    common = {
        "case_id": req.case_id,
        "authority": authority,
        "issued_on": req.issued_on,
        "applicant_name": req.applicant_name,
        "review_authority": review_authority,
        "court": court,
        "programme": req.programme,
        "effective_month": req.effective_month,
        "reasons": reasons,
    }
    notice: rules_notices.Notice
    if req.kind == "termination":
        notice = rules_notices.TerminationNotice(
            **common, withdrawal_until=req.withdrawal_until, referral=req.referral
        )
    elif req.kind == "reduction":
        notice = rules_notices.ReductionNotice(
            **common,
            previous_amount=req.previous_amount or Decimal("0.00"),
            new_amount=req.new_amount or Decimal("0.00"),
        )
    else:
        notice = rules_notices.SuspensionNotice(**common)
    return rules_notices.notice_title(notice), rules_notices.render_notice_html(notice)


class EntitlementActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def publish_account(self, a: AccountSnapshot) -> None:
        """Upsert the payroll's row and the members' shares in one transaction; an older
        revision never overwrites a newer one."""
        with unit_of_work(self.engine) as session:
            row = session.exec(
                select(EntitlementAccount).where(EntitlementAccount.case_id == a.case_id)
            ).first()
            if row is not None and a.revision < row.revision:
                return
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
