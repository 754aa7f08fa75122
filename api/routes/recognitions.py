"""Recognitions (低保边缘 / 刚性支出困难 认定) and their yearly review (seed 000,
豫政办〔2022〕103号 二(二): 自认定之日起进行年度复核): the live detail (read-model row for
the area check, then the workflow's query) and the review's finding recorded by the township
or county as a workflow Update (refusals propagate to the one handler in ``api/errors.py``)."""

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.db import DatabaseDep
from api.deps import (
    CurrentOfficer,
    IdempotencyKeyHeader,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.idempotency import update_id
from api.validators import FreeText, PaperDate
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from workflows.recognitions.contract import ReviewDecisionKind
from workflows.recognitions.models import (
    RecognitionState,
    RecognitionStepResult,
    ReviewDecision,
)
from workflows.recognitions.workflow import RecognitionReviewWorkflow

router = APIRouter(prefix="/recognitions", tags=["recognitions"])

REVIEWERS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
Reviewer = Annotated[Actor, Depends(require_roles(*REVIEWERS))]


class ReviewIn(BaseModel):
    """The yearly review's finding: ``continue`` (still fits, another year) or ``end``."""

    model_config = ConfigDict(extra="forbid")

    outcome: ReviewDecisionKind
    findings_zh: FreeText = Field(min_length=1, max_length=1000)
    decided_on: PaperDate | None = None


def recognition_row(session: Session, actor: Actor, recognition_id: str) -> CaseRecord:
    row = session.get(CaseRecord, recognition_id)
    if row is None or row.case_kind != CaseKind.RECOGNITION.value:
        raise HTTPException(404, f"recognition {recognition_id} not found")
    ensure_area(actor, row.area_code)
    structlog.contextvars.bind_contextvars(recognition_id=recognition_id)
    return row


def handle_for(
    client: Client, row: CaseRecord
) -> WorkflowHandle[RecognitionReviewWorkflow, RecognitionState]:
    return client.get_workflow_handle_for(RecognitionReviewWorkflow.run, row.workflow_id)


@router.get("/{recognition_id}", response_model=RecognitionState)
async def get_recognition(
    recognition_id: str, actor: CurrentOfficer, db: DatabaseDep, client: TemporalClientDep
) -> RecognitionState:
    """The recognition's live state: next review date, reviews, deadlines, timeline."""
    row = await db.read(recognition_row, actor, recognition_id)
    try:
        return await handle_for(client, row).query(RecognitionReviewWorkflow.get_state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"recognition {recognition_id} not found") from exc
        raise


@router.post("/{recognition_id}/review", response_model=RecognitionStepResult)
async def record_review(
    recognition_id: str,
    body: ReviewIn,
    actor: Reviewer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RecognitionStepResult:
    """Record the open yearly review's finding (meets its deadline on the paper date)."""
    row = await db.read(recognition_row, actor, recognition_id)
    uid = (
        update_id(actor, f"step:{recognition_id}:record_review", idempotency_key)
        if idempotency_key
        else None
    )
    handle: WorkflowHandle[Any, Any] = handle_for(client, row)
    result: RecognitionStepResult = await handle.execute_update(
        RecognitionReviewWorkflow.record_review,  # type: ignore[arg-type]
        ReviewDecision(actor=actor, **body.model_dump()),
        id=uid,
    )
    return result
