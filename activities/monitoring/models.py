"""Payloads of the monitoring activities (pure models)."""

from pydantic import BaseModel

from jiuzhu.contract import Actor


class ChangeInvestigationRequest(BaseModel):
    """A home visit found that a 低保/特困 household may no longer qualify: the entitlement opens
    a change investigation (its ``report_change`` Update, kind ``data_flag``). ``update_id``
    makes a retried activity open it once."""

    entitlement_workflow_id: str
    update_id: str
    actor: Actor
    member_id_number: str | None = None
    description_zh: str


class ChangeInvestigationResult(BaseModel):
    investigation_id: str
