"""The policy in force for an area on a day, as an activity result (deterministic replay)."""

from datetime import date
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from jiuzhu.policy_store import policy_in_force
from rules.policy import NoPolicyInForce, Policy, PolicyConflict, PolicyInvalid


class PolicyRequest(BaseModel):
    area_code: str
    on: date


class PolicyActivities:
    def __init__(self, engine: Engine, policies_dir: Path) -> None:
        self.engine = engine
        self.policies_dir = policies_dir

    @activity.defn
    def policy_in_force(self, req: PolicyRequest) -> Policy:
        try:
            return policy_in_force(self.engine, self.policies_dir, req.area_code, req.on)
        except (NoPolicyInForce, PolicyConflict, PolicyInvalid) as exc:
            # A business fact about the policy data, not a passing fault: retrying cannot help.
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
