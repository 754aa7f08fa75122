"""Activities of the warning workflow: the change investigation a home visit starts on the
household's entitlement, through its existing ``report_change`` Update addressed by name (the
entitlement decides; nothing is stopped on a warning alone — 焦民〔2022〕154号, seed 002)."""

from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.monitoring.models import ChangeInvestigationRequest, ChangeInvestigationResult
from workflows.monitoring.contract import ENTITLEMENT_DATA_FLAG, ENTITLEMENT_REPORT_CHANGE


class WarningActivities:
    def __init__(self, client: Client | None) -> None:
        self.client = client

    @activity.defn
    async def open_change_investigation(
        self, req: ChangeInvestigationRequest
    ) -> ChangeInvestigationResult:
        """Open the entitlement's change investigation once per ``update_id``; a refusal of the
        entitlement (e.g. it has ended) is final."""
        if self.client is None:
            raise ApplicationError(
                "opening a change investigation needs the Temporal client",
                type="NoClient",
                non_retryable=True,
            )
        handle = self.client.get_workflow_handle(req.entitlement_workflow_id)
        payload: dict[str, Any] = {
            "actor": req.actor.model_dump(mode="json"),
            "kind": ENTITLEMENT_DATA_FLAG,
            "member_id_number": req.member_id_number,
            "description_zh": req.description_zh,
        }
        try:
            receipt = await handle.execute_update(
                ENTITLEMENT_REPORT_CHANGE, payload, id=req.update_id, result_type=dict
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            message = getattr(cause, "message", None) or "待遇变更调查未能发起"
            raise ApplicationError(
                str(message), type="ChangeInvestigationRefused", non_retryable=True
            ) from exc
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            raise ApplicationError(
                "该户待遇已终止，无法发起变更调查",
                type="ChangeInvestigationRefused",
                non_retryable=True,
            ) from exc
        return ChangeInvestigationResult(investigation_id=str(receipt["investigation_id"]))
