"""Payload models for what workflows hand to activities for the read model, the audit log and the
outbox. Pure pydantic models (no table models in workflow histories)."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from jiuzhu.contract import Actor


class CaseSnapshot(BaseModel):
    """The read-model row of one case; ``revision`` only grows, so a late write never overwrites
    a newer one."""

    case_id: str
    workflow_id: str
    case_kind: str
    programme: str
    status: str
    area_code: str
    household_id: str
    applicant_name: str
    applicant_id_number: str
    household_size: int
    policy_version_id: str | None = None
    next_deadline: datetime | None = None
    overdue: bool = False
    revision: int
    linked_case_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class TimelineEntry(BaseModel):
    """One line of a case's timeline (shown to officers): what happened, when, by whom, and the
    date of the act on paper where there is one."""

    at: datetime
    action: str
    actor: Actor | None = None
    note_zh: str = ""
    on: date | None = None


class AuditRecord(BaseModel):
    """One audit line: who did what, when, on which evidence, under which rule."""

    dedupe_key: str
    at: datetime
    case_id: str
    workflow_id: str
    action: str
    actor: Actor | None = None
    policy_version_id: str | None = None
    evidence: list[Any] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


class RecordStep(BaseModel):
    """Input of the ``record_step`` activity: a read-model upsert and its audit lines, committed
    together."""

    snapshot: CaseSnapshot | None = None
    audit: list[AuditRecord] = Field(default_factory=list)


class OutboxItem(BaseModel):
    dedupe_key: str
    kind: str  # reminder | escalation | notice
    recipient_role: str
    recipient_area: str
    case_id: str
    workflow_id: str
    deadline_name: str | None = None
    message_zh: str
    due_at: datetime | None = None
