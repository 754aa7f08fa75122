"""Helpers for supervision tests: decisions of a month seeded straight into the read model (as
the application workflow would have left them), and small waits."""

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.supervision.models import SampledDecision
from jiuzhu.db.models import AuditEntry, CaseRecord, OutboxMessage
from workflows.supervision.contract import SampledOutcome

_seq = itertools.count(1)
AREA = "419901001001"


def decision(
    i: int, *, relatives: bool = False, outcome: str = "approve", programme: str = "dibao"
) -> SampledDecision:
    return SampledDecision(
        case_id=f"D{i:04d}",
        workflow_id=f"application-D{i:04d}",
        programme=programme,
        outcome=SampledOutcome(outcome),
        decided_on=date(2026, 6, 1 + i % 28),
        decided_by_level="county",
        area_code=AREA,
        township_code=AREA[:9],
        household_id=f"H{i:015d}",
        applicant_name=f"申请人{i}",
        relatives_flag=relatives,
    )


def seed_decision(
    engine: Engine,
    *,
    decided_on: date,
    outcome: str = "approve",
    programme: str = "dibao",
    relatives: bool = False,
    by_township: bool = False,
    area_code: str = AREA,
    entitlement_workflow_id: str | None = None,
    household_id: str | None = None,
    prefix: str = "SC",
) -> str:
    """An application decided on ``decided_on`` in the read model, with its decision's audit
    line (by the township where confirmation is delegated)."""
    n = next(_seq)
    case_id = f"{prefix}{decided_on:%Y%m}{n:05d}"
    with Session(engine) as s:
        s.add(
            CaseRecord(
                case_id=case_id,
                workflow_id=f"application-{case_id}",
                case_kind="application",
                programme=programme,
                status="approved" if outcome == "approve" else "refused",
                area_code=area_code,
                county_code=area_code[:6],
                township_code=area_code[:9],
                household_id=household_id or f"H{n:015d}",
                applicant_name=f"测试{n}",
                applicant_id_number=f"{n:018d}",
                household_size=2,
                revision=9,
                detail={
                    "decision": outcome,
                    "decided_on": decided_on.isoformat(),
                    "relatives_flag": relatives,
                    "entitlement_workflow_id": entitlement_workflow_id,
                },
            )
        )
        s.add(
            AuditEntry(
                dedupe_key=f"seed:{case_id}:decision",
                at=datetime.combine(decided_on, datetime.min.time(), tzinfo=UTC),
                case_id=case_id,
                workflow_id=f"application-{case_id}",
                action="decision",
                actor_officer_id="officer-township" if by_township else "officer-county",
                actor_role="township_officer" if by_township else "county_officer",
                detail={"outcome": outcome},
            )
        )
        s.commit()
    return case_id


def outbox(engine: Engine, workflow_id: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.workflow_id == workflow_id)).all()
    return sorted(f"{r.kind}:{r.recipient_role}:{r.recipient_area}" for r in rows)


def row(engine: Engine, case_id: str) -> CaseRecord | None:
    with Session(engine) as s:
        return s.get(CaseRecord, case_id)


def detail(engine: Engine, case_id: str) -> dict[str, Any]:
    r = row(engine, case_id)
    return dict(r.detail) if r is not None else {}
