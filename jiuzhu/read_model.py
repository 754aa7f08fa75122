"""Read-model and audit writes shared by activities and the API. Both are idempotent: a snapshot
never overwrites a newer revision, an audit line is written once per dedupe key. Neither keeps an
ID number in clear: the applicant's is a sealed column (``jiuzhu/db/sealing.py``), any other in
the case's detail or an audit line's detail and evidence is masked (``mask_id_fields``).

Each write is one statement that settles its own conflict (``INSERT … ON CONFLICT``), with no
read before it: every step of every case goes through here (``record_step``), and on SQLite a
transaction that reads, then writes, then reads again holds the database's one write lock the
longest."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlmodel import Session

from jiuzhu.areas import AreaRef
from jiuzhu.db.engine import dialect_name, insert_for
from jiuzhu.db.models import AuditEntry, CaseRecord
from jiuzhu.db.sealing import blind_index
from jiuzhu.records import AuditRecord, CaseSnapshot
from rules.id_number import mask_id_fields

_CASES = CaseRecord.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]
# The columns a snapshot writes: its own fields, the area's county and township, the blind index
# of the applicant's ID number and the time of the write (``created_at`` only on insert).
_CASE_COLUMNS = (
    *CaseSnapshot.model_fields,
    "county_code",
    "township_code",
    "applicant_id_number_index",
    "updated_at",
)


@cache
def _case_upsert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (case_id) DO UPDATE … WHERE revision <= the new one``, built once
    per dialect and executed with a row of parameters: building the statement with its values
    cost three times as much as running it, at every step of every case."""
    insert = insert_for(dialect)(_CASES)
    return insert.on_conflict_do_update(
        index_elements=[_CASES.c.case_id],
        set_={key: insert.excluded[key] for key in _CASE_COLUMNS if key != "case_id"},
        where=_CASES.c.revision <= insert.excluded.revision,
    )


@cache
def _audit_insert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING``, built once per dialect."""
    insert = insert_for(dialect)(_AUDIT)
    return insert.on_conflict_do_nothing(index_elements=[_AUDIT.c.dedupe_key])


def upsert_case(session: Session, snap: CaseSnapshot) -> None:
    """Insert the case's row, or overwrite it unless it holds a newer revision."""
    values = snap.model_dump()
    values["detail"] = mask_id_fields(values["detail"])
    area = AreaRef.of(snap.area_code)
    values["county_code"], values["township_code"] = area.county, area.township
    values["applicant_id_number_index"] = blind_index(snap.applicant_id_number)
    values["updated_at"] = values["created_at"] = datetime.now(UTC)
    session.execute(_case_upsert(dialect_name(session)), values)


def add_audit(session: Session, rec: AuditRecord) -> None:
    """Write the audit line unless its dedupe key is already written."""
    actor = rec.actor
    row = {
        "dedupe_key": rec.dedupe_key,
        "at": rec.at,
        "case_id": rec.case_id,
        "workflow_id": rec.workflow_id,
        "action": rec.action,
        "actor_officer_id": actor.officer_id if actor else None,
        "actor_name": actor.name if actor else None,
        "actor_role": actor.role if actor else None,
        "policy_version_id": rec.policy_version_id,
        "evidence": mask_id_fields(rec.evidence),
        "detail": mask_id_fields(rec.detail),
    }
    session.execute(_audit_insert(dialect_name(session)), row)
