"""Eligibility assessment for an officer without starting a case (DOMAIN §1, §3 step 5, §4):
the household is assessed for every programme under the policy in force in its area on the
day, with amounts, the per-capita figures used and reason codes with their legal basis."""

from datetime import date
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends

from api.deps import SessionDep, SettingsDep, ensure_area, require_roles
from api.routes.policies import (
    RulesRoute,
    known_area,
    policy_for,
    policy_layers,
    today_shanghai,
    unprocessable,
)
from api.schemas.rules import EligibilityRequest
from jiuzhu.contract import Actor, Role
from rules.areas import NATIONAL
from rules.household import validate_household_on
from rules.means_test import Assessment, assess

router = APIRouter(prefix="/eligibility", tags=["eligibility"], route_class=RulesRoute)
log = structlog.get_logger("jiuzhu.api.eligibility")

ASSESS_ROLES = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
Assessor = Annotated[Actor, Depends(require_roles(*ASSESS_ROLES))]


@router.post("/assess", response_model=Assessment)
def assess_household(
    body: EligibilityRequest,
    actor: Assessor,
    session: SessionDep,
    settings: SettingsDep,
) -> Assessment:
    """Run the means test for every programme (低保, 单人保, 特困 with its self-care tier,
    低保边缘, 刚性支出) on ``on`` (default today, Beijing time). Nothing is recorded.

    Refused with 422 naming the field: no applicant, a negative income, an identity number whose
    check digit or birth date disagrees with the member (all by the household model), a birth
    date after the assessment date or today, an unknown area, a date before any policy."""
    if body.area_code == NATIONAL:
        raise unprocessable([(("body", "area_code"), "an assessment needs a registered area")])
    known_area(body.area_code, ("body", "area_code"))
    ensure_area(actor, body.area_code)
    today = today_shanghai()
    on: date = body.on or today
    problems = validate_household_on(body.household, min(on, today))
    if problems:
        raise unprocessable([(("body", "household", *p.loc), p.message) for p in problems])
    layers, _ = policy_layers(session, settings)
    policy = policy_for(layers, body.area_code, on, ("body", "on"))
    assessment = assess(body.household, policy, on)
    log.info(
        "eligibility assessed",
        area_code=body.area_code,
        policy_version_id=policy.version_id,
        household_size=assessment.household_size,
        eligible=[p.programme.value for p in assessment.programmes if p.eligible],
    )
    return assessment
