"""Read-model and audit writes shared by activities and the API. Both are idempotent: a snapshot
never overwrites a newer revision, an audit line is written once per dedupe key. Neither keeps an
ID number in clear: the applicant's is a sealed column (``jiuzhu/db/sealing.py``), any other in
the case's detail or an audit line's detail and evidence is masked (``mask_id_fields``).

Each write is one statement that settles its own conflict (``INSERT … ON CONFLICT``), with no
read before it: every step of every case goes through here (``record_step``), and on SQLite a
transaction that reads, then writes, then reads again holds the database's one write lock the
longest."""

from datetime import UTC, datetime

from sqlmodel import Session

from jiuzhu.areas import AreaRef
from jiuzhu.db.engine import dialect_insert
from jiuzhu.db.models import AuditEntry, CaseRecord
from jiuzhu.db.sealing import blind_index
from jiuzhu.records import AuditRecord, CaseSnapshot
from rules.id_number import mask_id_fields

_CASES = CaseRecord.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]


def upsert_case(session: Session, snap: CaseSnapshot) -> None:
    """Insert the case's row, or overwrite it unless it holds a newer revision."""
    values = snap.model_dump()
    values["detail"] = mask_id_fields(values["detail"])
    area = AreaRef.of(snap.area_code)
    values["county_code"], values["township_code"] = area.county, area.township
    values["applicant_id_number_index"] = blind_index(snap.applicant_id_number)
    now = datetime.now(UTC)
    insert = dialect_insert(session)(_CASES).values(**values, created_at=now, updated_at=now)
    changed = {key: insert.excluded[key] for key in values if key != "case_id"}
    changed["updated_at"] = insert.excluded.updated_at
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[_CASES.c.case_id],
            set_=changed,
            where=_CASES.c.revision <= insert.excluded.revision,
        )
    )


def add_audit(session: Session, rec: AuditRecord) -> None:
    """Write the audit line unless its dedupe key is already written."""
    actor = rec.actor
    session.execute(
        dialect_insert(session)(_AUDIT)
        .values(
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
        .on_conflict_do_nothing(index_elements=[_AUDIT.c.dedupe_key])
    )
