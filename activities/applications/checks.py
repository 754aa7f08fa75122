"""Checks an application needs from outside the workflow: the relatives registry (近亲属备案) at
application, and the means test on the verified household. The means test runs here, not in
the workflow, so its result is recorded in history: a later fix to the rules never changes a
replay."""

from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from activities.applications.verification import Discrepancy, SourceResult, apply_findings
from jiuzhu.db.models_application import RelativeRegistration
from jiuzhu.db.sealing import blind_indexes
from rules.household import Household
from rules.means_test import Assessment, assess
from rules.policy import Policy


class RelativeMatch(BaseModel):
    """A member found in the relatives registry (近亲属备案)."""

    id_number: str
    member_name: str
    staff_name: str
    staff_role: str
    relation_zh: str


class RelativesRequest(BaseModel):
    members: dict[str, str]  # id_number → name


class AssessRequest(BaseModel):
    household: Household
    results: list[SourceResult] = Field(default_factory=list)
    policy: Policy
    on: date


class AssessResult(BaseModel):
    verified_household: Household
    discrepancies: list[Discrepancy]
    assessment: Assessment


class ApplicationActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="application_check_relatives")
    def check_relatives(self, req: RelativesRequest) -> list[RelativeMatch]:
        """Members registered as close relatives of case workers or village cadres: the case is
        flagged for a county home visit and stricter spot checks (DOMAIN §2, §7; seed 002)."""
        if not req.members:
            return []
        with Session(self.engine) as session:
            rows = session.exec(
                select(RelativeRegistration).where(
                    col(RelativeRegistration.id_number_index).in_(blind_indexes(req.members))
                )
            ).all()
        return [
            RelativeMatch(
                id_number=r.id_number,
                member_name=req.members[r.id_number],
                staff_name=r.staff_name,
                staff_role=r.staff_role,
                relation_zh=r.relation_zh,
            )
            for r in sorted(rows, key=lambda r: (r.id_number, r.id or 0))
        ]

    @activity.defn(name="application_assess_household")
    def assess_household(self, req: AssessRequest) -> AssessResult:
        """The means test (低保办法 Art. 13–14; 特困办法 Art. 5–8) on the household as verified."""
        verified, discrepancies = apply_findings(req.household, req.results)
        return AssessResult(
            verified_household=verified,
            discrepancies=discrepancies,
            assessment=assess(verified, req.policy, req.on),
        )
