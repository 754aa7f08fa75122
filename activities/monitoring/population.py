"""The low-income monitoring population (低收入人口动态监测), fed by the workflows' own read-model
writes: every case publisher's step goes through ``record_step`` (``activities/records.py``),
which hands the snapshot and its audit lines to ``observe`` in the same transaction. No
workflow code changes; a one-off ``backfill`` brings in the cases published before.

Who is in it (豫政办〔2022〕103号 二(一), seed 000; 辽宁 2024 意见 二.2(2), seed 001):

- a 低保 or 特困 entitlement that has not ended → category ``dibao`` / ``tekun``;
- an ended 低保/特困 entitlement → ``exited``, with the date and the reason, kept for the
  policy's ``monitoring_after_exit`` (24 months: 退出不满两年);
- a 低保边缘 / 刚性支出困难 application approved → ``dibao_edge`` / ``rigid_expense``;
- an application refused (any programme but temporary aid) → ``refused``, with the date and
  the reason.

A row is keyed by its source case; a snapshot older than the row's revision changes nothing."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from jiuzhu.areas import AreaRef
from jiuzhu.clock import beijing_date, beijing_today
from jiuzhu.contract import CaseKind
from jiuzhu.db.models import AuditEntry, CaseRecord
from jiuzhu.db.models_monitoring import MonitoringSubject
from jiuzhu.db.models_payments import EntitlementAccount, EntitlementMember
from jiuzhu.records import AuditRecord, CaseSnapshot
from rules.calendar import add_months
from rules.periods import Period, PeriodUnit
from workflows.applications.contract import ApplicationStatus
from workflows.entitlements.contract import EntitlementStatus
from workflows.monitoring.contract import MonitoringCategory

_APPLICATION = CaseKind.APPLICATION.value
_ENTITLEMENT = CaseKind.ENTITLEMENT.value
_PAID = ("dibao", "tekun")
_RECOGNISED = ("dibao_edge", "rigid_expense")
_LEFT = (MonitoringCategory.REFUSED, MonitoringCategory.EXITED)


def category_of(case_kind: str, programme: str, status: str) -> MonitoringCategory | None:
    """The population category a case puts its household in, or None."""
    if case_kind == _ENTITLEMENT and programme in _PAID:
        if status == EntitlementStatus.ENDED.value:
            return MonitoringCategory.EXITED
        return MonitoringCategory(programme)
    if case_kind == _APPLICATION and programme != "temporary":
        if status == ApplicationStatus.REFUSED.value:
            return MonitoringCategory.REFUSED
        if status == ApplicationStatus.APPROVED.value and programme in _RECOGNISED:
            return MonitoringCategory(programme)
    return None


def _reason(session: Session, case_id: str, note: str) -> str:
    """Why a case ended or was refused: the deciding audit line (a review's decision, a refusal
    decision), else the note of the step that ended it."""
    decided = session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.case_id == case_id,
            col(AuditEntry.action).in_(("review_decided", "termination_confirmed", "decision")),
        )
        .order_by(col(AuditEntry.at).desc())
    ).first()
    text = str(decided.detail.get("note_zh", "")) if decided is not None else ""
    if text and note and text != note:
        return f"{note}（{text}）"[:1000]
    return (text or note or "—")[:1000]


def _apply(
    session: Session,
    *,
    case_id: str,
    case_kind: str,
    programme: str,
    status: str,
    area_code: str,
    household_id: str,
    name: str,
    id_number: str,
    household_size: int,
    revision: int,
    on: date,
    note: str,
) -> None:
    category = category_of(case_kind, programme, status)
    if category is None:
        return
    row = session.get(MonitoringSubject, case_id)
    if row is not None and revision < row.source_revision:
        return
    area = AreaRef.of(area_code)
    if row is None:
        row = MonitoringSubject(
            source_case_id=case_id,
            source_kind=case_kind,
            household_id=household_id,
            programme=programme,
            category=category.value,
            area_code=area.code,
            county_code=area.county,
            township_code=area.township,
            name=name,
            id_number=id_number,
            household_size=household_size,
            since=on,
            source_status=status,
            source_revision=revision,
        )
        changed = True
    else:
        changed = row.category != category.value
    if changed:
        row.category = category.value
        if category in _LEFT:
            session.flush()
            row.reason_zh, row.ended_on = _reason(session, case_id, note), on
        else:
            row.reason_zh, row.ended_on = None, None
    row.name, row.id_number, row.household_size = name, id_number, household_size
    row.area_code, row.county_code, row.township_code = area.code, area.county, area.township
    row.source_status, row.source_revision = status, revision
    row.updated_at = datetime.now(UTC)
    session.add(row)


def observe(session: Session, snap: CaseSnapshot, audit: list[AuditRecord]) -> None:
    """The read-model writer's hook: bring the monitoring row of this case up to date (cheap
    and silent for every case that is not a population case)."""
    if snap.case_kind not in (_APPLICATION, _ENTITLEMENT):
        return
    if category_of(snap.case_kind, snap.programme, snap.status) is None:
        return
    notes = [str(a.detail.get("note_zh", "")) for a in audit if a.detail.get("note_zh")]
    on = beijing_date(audit[-1].at) if audit else beijing_today()
    decided_on = snap.detail.get("decided_on") if snap.case_kind == _APPLICATION else None
    _apply(
        session,
        case_id=snap.case_id,
        case_kind=snap.case_kind,
        programme=snap.programme,
        status=snap.status,
        area_code=snap.area_code,
        household_id=snap.household_id,
        name=snap.applicant_name,
        id_number=snap.applicant_id_number,
        household_size=snap.household_size,
        revision=snap.revision,
        on=date.fromisoformat(decided_on) if decided_on else on,
        note=notes[-1] if notes else "",
    )


def backfill(session: Session, area_code: str) -> int:
    """The one-off back-fill: every application and entitlement of the area already in the read
    model enters the population as its publisher would have put it. Returns the rows written."""
    rows = session.exec(
        select(CaseRecord).where(
            col(CaseRecord.case_kind).in_((_APPLICATION, _ENTITLEMENT)),
            col(CaseRecord.area_code).startswith(area_code),
        )
    ).all()
    written = 0
    for r in rows:
        if category_of(r.case_kind, r.programme, r.status) is None:
            continue
        last = session.exec(
            select(AuditEntry)
            .where(AuditEntry.case_id == r.case_id)
            .order_by(col(AuditEntry.at).desc())
        ).first()
        decided_on = r.detail.get("decided_on") if r.case_kind == _APPLICATION else None
        on = (
            date.fromisoformat(decided_on)
            if decided_on
            else beijing_date(last.at if last else r.updated_at)
        )
        _apply(
            session,
            case_id=r.case_id,
            case_kind=r.case_kind,
            programme=r.programme,
            status=r.status,
            area_code=r.area_code,
            household_id=r.household_id,
            name=r.applicant_name,
            id_number=r.applicant_id_number,
            household_size=r.household_size,
            revision=r.revision,
            on=on,
            note=str(last.detail.get("note_zh", "")) if last else "",
        )
        written += 1
    return written


def exit_cutoff(today: date, kept: Period) -> date:
    """Exits on or after this date are still monitored (``monitoring_after_exit``)."""
    if kept.unit is PeriodUnit.MONTHS:
        return add_months(today, -kept.value)
    return today - timedelta(days=kept.value)


def in_population(area_scope: str, cutoff: date) -> Any:
    """The SQL condition: rows inside ``area_scope`` that are in the population today."""
    return (
        col(MonitoringSubject.area_code).startswith(area_scope),
        or_(
            col(MonitoringSubject.category) != MonitoringCategory.EXITED.value,
            col(MonitoringSubject.ended_on) >= cutoff,
        ),
    )


def members_of(session: Session, subject: MonitoringSubject) -> list[tuple[str, str]]:
    """(ID number, name) of the household's people known to the read model: the applicant or
    head, and for an entitlement every covered member."""
    people = [(subject.id_number, subject.name)]
    if subject.source_kind == _ENTITLEMENT:
        rows = session.exec(
            select(EntitlementMember).where(EntitlementMember.case_id == subject.source_case_id)
        ).all()
        people += [(m.id_number, m.name) for m in rows if m.id_number != subject.id_number]
    return people


def entitlement_paying(session: Session, case_id: str) -> bool:
    row = session.exec(
        select(EntitlementAccount.status).where(EntitlementAccount.case_id == case_id)
    ).first()
    return row is not None and row != EntitlementStatus.ENDED.value
