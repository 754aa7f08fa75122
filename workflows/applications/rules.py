"""Pure procedure rules of the application workflow: who may act at which step, how the dates of
acts are bounded, who decides, how each statutory deadline and period is specified, and the
names of the authorities on its notices. No I/O; used by the
workflow's validators and handlers (deterministic on replay)."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum

from activities.deadlines import DeadlineSpec
from jiuzhu.areas import AreaRef
from jiuzhu.contract import ROLE_NAMES_ZH, Actor, Role
from jiuzhu.refusals import forbidden, invalid
from rules.authorities import (
    county_bureau_name,
    county_court_name,
    county_government_name,
    township_authority_name,
)
from rules.authorities import village_name as registry_village_name
from rules.means_test import Assessment, ProgrammeAssessment
from rules.periods import Period
from rules.policy import Policy
from rules.programmes import Programme
from rules.reasons import ReasonCode

DIBAO_MEASURES = "《最低生活保障审核确认办法》"
TEKUN_MEASURES = "《特困人员认定办法》"
TEMPORARY_MEASURES = "《关于进一步加强和改进临时救助工作的意见》"

TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP_OFFICER})
TOWNSHIP_OR_VILLAGE = frozenset({Role.TOWNSHIP_OFFICER, Role.VILLAGE_ASSISTANT})
COUNTY_ROLES = frozenset({Role.COUNTY_OFFICER})
TOWNSHIP_OR_COUNTY = frozenset({Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER})

# System settings (not statutory): how long a missing-documents notice and an offer of
# 低保边缘/刚性支出 recognition stay open before the case closes.
DEFAULT_SUBMIT_DAYS = 30
EDGE_REPLY_DAYS = 30

# Deadline names (one DeadlineBook per case).
INVESTIGATION_START = "investigation_start"
VERIFICATION_START = "verification_start"
INITIAL_OPINION = "initial_opinion"
OBJECTION_OPINION = "objection_opinion"
PUBLICITY = "publicity"
DECISION = "decision"
REFUSAL_NOTICE = "refusal_notice"
EDGE_RECOGNITION = "edge_recognition"
OVERALL = "overall"


# Reason codes that speak against an outcome: a refusal states these (低保办法 Art. 21).
ADVERSE_CODES = frozenset(
    {
        ReasonCode.INCOME_NOT_BELOW_STANDARD,
        ReasonCode.ASSETS_OVER_LIMIT,
        ReasonCode.VEHICLE_OVER_LIMIT,
        ReasonCode.SECOND_HOME_OWNED,
        ReasonCode.BUSINESS_EQUITY_OWNED,
        ReasonCode.HAS_WORK_CAPACITY,
        ReasonCode.HAS_INCOME_SOURCE,
        ReasonCode.HAS_ABLE_SUPPORTER,
        ReasonCode.QUALIFIES_FOR_DIBAO_OR_TEKUN,
        ReasonCode.QUALIFIES_FOR_EDGE,
        ReasonCode.INCOME_NOT_BELOW_EDGE_LIMIT,
        ReasonCode.HOUSEHOLD_NOT_EDGE,
        ReasonCode.INCOME_NOT_BELOW_DISPOSABLE_INCOME,
        ReasonCode.RIGID_EXPENSE_NOT_ABOVE_THRESHOLD,
    }
)


class Level(StrEnum):
    TOWNSHIP = "township"
    COUNTY = "county"


# --- who acts -------------------------------------------------------------------------------
def require_actor(actor: Actor, roles: Iterable[Role], area_code: str, step_zh: str) -> None:
    """An officer acts only in their role and only inside their own area (DOMAIN §2)."""
    allowed = frozenset(roles)
    if actor.role not in allowed:
        names = "或".join(ROLE_NAMES_ZH[r] for r in sorted(allowed))
        raise forbidden(f"「{step_zh}」须由{names}办理，当前角色为{ROLE_NAMES_ZH[actor.role]}")
    if not actor.covers(area_code):
        raise forbidden(f"案件所在地{area_code}不在您的辖区{actor.area_code}内")


def decider_level(policy: Policy, programme: Programme, amount: Decimal | None) -> Level:
    """Who confirms: the county (低保办法 Art. 20), the township where the policy delegates
    confirmation (2022 notice; 焦民〔2022〕154号 第五条); temporary aid up to
    ``temporary_township_approval_limit`` by the township with a county record (DOMAIN §6)."""
    if programme is Programme.TEMPORARY:
        if amount is not None and amount <= policy.temporary_township_approval_limit:
            return Level.TOWNSHIP
        return Level.COUNTY
    return Level.TOWNSHIP if policy.decision_delegated_to_township else Level.COUNTY


def decider_roles(policy: Policy, programme: Programme, amount: Decimal | None) -> frozenset[Role]:
    if programme is Programme.TEMPORARY:
        # The county may always decide temporary aid; the township only small amounts.
        if decider_level(policy, programme, amount) is Level.TOWNSHIP:
            return TOWNSHIP_OR_COUNTY
        return COUNTY_ROLES
    if decider_level(policy, programme, amount) is Level.TOWNSHIP:
        return TOWNSHIP_ROLES
    return COUNTY_ROLES


# --- dates of acts --------------------------------------------------------------------------
def act_date(
    field: str,
    value: date | None,
    today: date,
    not_before: date | None = None,
    not_before_zh: str = "",
) -> date:
    """The date of an act: today by default; never in the future; never before the act it
    follows."""
    on = value or today
    if on > today:
        raise invalid(field, f"日期{on.isoformat()}晚于今天{today.isoformat()}")
    if not_before is not None and on < not_before:
        raise invalid(field, f"日期{on.isoformat()}早于{not_before_zh}（{not_before.isoformat()}）")
    return on


def first_of_next_month(d: date) -> date:
    """Payment starts the month after approval (低保办法 Art. 20; 特困办法 Art. 16)."""
    return date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)


# --- means test lookups ---------------------------------------------------------------------
def outcome_for(assessment: Assessment, programme: Programme) -> ProgrammeAssessment | None:
    """The household outcome of the means test for the programme applied for (the applicant's
    for 特困)."""
    if programme is Programme.TEMPORARY:
        return None
    try:
        return assessment.get(programme)
    except KeyError:
        return None


def edge_offer_programme(assessment: Assessment, refused: Programme) -> Programme | None:
    """DOMAIN §3 step 9: a household refused 低保/特困 that fits 低保边缘 or 刚性支出困难."""
    if refused not in (Programme.DIBAO, Programme.TEKUN):
        return None
    for programme in (Programme.DIBAO_EDGE, Programme.RIGID_EXPENSE):
        outcome = outcome_for(assessment, programme)
        if outcome is not None and outcome.eligible:
            return programme
    return None


# --- deadlines ------------------------------------------------------------------------------
def deadline_spec(
    *,
    name: str,
    label_zh: str,
    start: date,
    period: Period,
    level: Level,
    area: AreaRef,
    policy: Policy,
    basis: str,
) -> DeadlineSpec:
    """A deadline owed by the township (escalated to the county) or by the county (escalated to
    the county's supervisors, the auditor role: no city level is modelled)."""
    county, township = area.county, area.township
    if level is Level.TOWNSHIP:
        responsible = (Role.TOWNSHIP_OFFICER, township)
        escalation = (Role.COUNTY_OFFICER, county)
    else:
        responsible = (Role.COUNTY_OFFICER, county)
        escalation = (Role.AUDITOR, county)
    return DeadlineSpec(
        name=name,
        label_zh=label_zh,
        start=start,
        period=period,
        reminder_lead=policy.reminder_lead,
        responsible_role=responsible[0],
        responsible_area=responsible[1],
        escalation_role=escalation[0],
        escalation_area=escalation[1],
        basis=basis,
    )


def measures(programme: Programme) -> str:
    if programme is Programme.TEKUN:
        return TEKUN_MEASURES
    if programme is Programme.TEMPORARY:
        return TEMPORARY_MEASURES
    return DIBAO_MEASURES


# --- names of authorities (from the area registry, rules.authorities) -----------------------
def county_bureau(area: AreaRef) -> str:
    """``演示县民政局``."""
    return county_bureau_name(area.code)


def township_government(area: AreaRef) -> str:
    """``演示县城关镇人民政府`` or ``…街道办事处``; the county bureau above township level."""
    return township_authority_name(area.code)


def review_authority(area: AreaRef) -> str:
    return county_government_name(area.code)


def court(area: AreaRef) -> str:
    return county_court_name(area.code)


def village_name(area: AreaRef) -> str:
    return registry_village_name(area.code)
