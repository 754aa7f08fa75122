"""Helpers of the monitoring tests: population rows, refused applicants published through the
kernel's read-model writer (as an application's publisher does), outbox and warning waits."""

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from activities.records import RecordActivities
from jiuzhu.db.models import CaseRecord, OutboxMessage
from jiuzhu.db.models_monitoring import MonitoringSubject
from jiuzhu.household_ids import household_id_for
from jiuzhu.records import AuditRecord, CaseSnapshot, RecordStep
from tests.factories import id_number

HISTORIES = Path(__file__).parent / "histories"


def subject(engine: Engine, case_id: str) -> MonitoringSubject | None:
    with Session(engine) as s:
        return s.get(MonitoringSubject, case_id)


def case_row(engine: Engine, case_id: str) -> CaseRecord | None:
    with Session(engine) as s:
        return s.get(CaseRecord, case_id)


def recorded_row(engine: Engine, case_id: str) -> CaseRecord | None:
    """The row once the workflow has written it (the API's own revision-0 row is not enough)."""
    row = case_row(engine, case_id)
    return row if row is not None and row.revision > 0 else None


def refused_applicant(engine: Engine, area: str, name: str = "赵小兰") -> tuple[str, str]:
    """A refused 低保 application published through ``record_step`` (what the application's
    publisher writes when the county refuses): returns (application id, applicant ID number)."""
    person = id_number(date(1979, 6, 1))
    app_id = "A" + household_id_for(person, area)[1:]
    now = datetime.now(UTC)
    RecordActivities(engine).record_step(
        RecordStep(
            snapshot=CaseSnapshot(
                case_id=app_id,
                workflow_id=f"application-{app_id}",
                case_kind="application",
                programme="dibao",
                status="refused",
                area_code=area,
                household_id=household_id_for(person, area),
                applicant_name=name,
                applicant_id_number=person,
                household_size=3,
                revision=9,
                detail={"decided_on": now.date().isoformat()},
            ),
            audit=[
                AuditRecord(
                    dedupe_key=f"application-{app_id}:9:decision",
                    at=now,
                    case_id=app_id,
                    workflow_id=f"application-{app_id}",
                    action="decision",
                    detail={"note_zh": "不予确认：家庭人均收入高于当地低保标准"},
                )
            ],
        )
    )
    return app_id, person


def outbox(engine: Engine, workflow_id: str) -> list[str]:
    with Session(engine) as s:
        got = s.exec(select(OutboxMessage).where(OutboxMessage.workflow_id == workflow_id)).all()
    return sorted(f"{r.kind}:{r.recipient_role}:{r.recipient_area}" for r in got)


async def keep(client: Client, workflow_id: str, name: str) -> None:
    """Save the history for replay when ``JIUZHU_WRITE_HISTORY=1``."""
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())


def errors(r: Any) -> str:
    return str(r.json()["errors"][0]["field"])
