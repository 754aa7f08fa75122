"""Read-model and audit writes shared by activities and the API. Both are idempotent: a snapshot
never overwrites a newer revision, an audit line is written once per dedupe key. Neither keeps an
ID number in clear: the applicant's is a sealed column (``jiuzhu/db/sealing.py``), any other in
the case's detail or an audit line's detail and evidence is masked (``mask_id_fields``)."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from jiuzhu.areas import AreaRef
from jiuzhu.db.models import AuditEntry, CaseRecord
from jiuzhu.records import AuditRecord, CaseSnapshot
from rules.id_number import mask_id_fields


def upsert_case(session: Session, snap: CaseSnapshot) -> None:
    row = session.get(CaseRecord, snap.case_id)
    values = snap.model_dump()
    values["detail"] = mask_id_fields(values["detail"])
    area = AreaRef.of(snap.area_code)
    values["county_code"], values["township_code"] = area.county, area.township
    if row is None:
        session.add(CaseRecord(**values))
        return
    if snap.revision < row.revision:
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = datetime.now(UTC)
    session.add(row)


def add_audit(session: Session, rec: AuditRecord) -> None:
    seen = session.exec(
        select(AuditEntry.id).where(AuditEntry.dedupe_key == rec.dedupe_key)
    ).first()
    if seen is not None:
        return
    actor = rec.actor
    session.add(
        AuditEntry(
            dedupe_key=rec.dedupe_key,
            at=rec.at,
            case_id=rec.case_id,
            workflow_id=rec.workflow_id,
            action=rec.action,
            actor_officer_id=actor.officer_id if actor else None,
            actor_name=actor.name if actor else None,
            actor_role=actor.role if actor else None,
            policy_version_id=rec.policy_version_id,
            evidence=mask_id_fields(rec.evidence),
            detail=mask_id_fields(rec.detail),
        )
    )
