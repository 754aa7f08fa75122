"""The monthly death check (seed 002: 每月开展死亡比对, stop paying the deceased): match the
death register an admin loads (``death_record``) against the active shares of a county's
entitlements, and tell each entitlement through its ``record_death`` Update (by name, from the
entitlements contract), which suspends the share at once and opens the household review. The
Update returns once the entitlement has written its read model, so the payroll compiled after
this check no longer pays that share."""

from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from jiuzhu.db.sealing import SealedString
from workflows.entitlements.contract import RECORD_DEATH, DeathNotification, DeathResult

# Joined on the ID numbers' blind indexes (the numbers are sealed: jiuzhu/db/sealing.py); the
# member's number comes back decrypted.
MATCH_SQL = text(
    """
SELECT e.workflow_id, m.id_number, d.date_of_death, d.id
FROM entitlement_member m
JOIN death_record d ON d.id_number_index = m.id_number_index
JOIN entitlement_account e ON e.case_id = m.case_id
WHERE e.county_code = :county AND m.share_status = 'active'
  AND e.status IN ('active', 'withdrawal', 'terminating', 'suspended')
ORDER BY e.id
"""
).columns(id_number=SealedString())


class DeathCheckRequest(BaseModel):
    county_code: str
    checked_by: str


class DeathCheckResult(BaseModel):
    found: int  # active shares matched on the register
    applied: int  # shares the entitlements suspended now


class DeathCheckActivities:
    def __init__(self, engine: Engine, client: Client | None) -> None:
        self.engine = engine
        self.client = client

    @activity.defn
    async def death_check(self, req: DeathCheckRequest) -> DeathCheckResult:
        if self.client is None:
            raise ApplicationError(
                "the death check needs the Temporal client", type="NoClient", non_retryable=True
            )
        with Session(self.engine) as session:
            matches = session.execute(MATCH_SQL, {"county": req.county_code}).all()
        applied = 0
        for workflow_id, id_number, died_on, record_id in matches:
            handle = self.client.get_workflow_handle(workflow_id)
            try:
                result = await handle.execute_update(
                    RECORD_DEATH,
                    DeathNotification(
                        id_number=id_number,
                        date_of_death=died_on,
                        source="死亡比对（公安、卫健数据）",
                        record_ref=f"death_record:{record_id}",
                    ),
                    result_type=DeathResult,
                )
            except WorkflowUpdateFailedError:
                continue  # refused by the workflow's validator (e.g. no longer a member)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    continue  # the entitlement has ended
                raise
            applied += int(result.applied)
            activity.heartbeat(applied)
        activity.logger.info(
            "death check", extra={"county": req.county_code, "found": len(matches)}
        )
        return DeathCheckResult(found=len(matches), applied=applied)
