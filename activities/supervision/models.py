"""Payloads of the supervision activities (pure models): a decision of the month as the
spot check sees it, the draw recorded for audit, and the re-opening of a reversed case."""

from datetime import date

from pydantic import BaseModel

from jiuzhu.contract import Actor
from workflows.supervision.contract import SampledOutcome


class PopulationRequest(BaseModel):
    county_code: str
    period: str  # YYYY-MM: the month whose decisions are sampled


class SampledDecision(BaseModel):
    """One 审核确认 of the month (approval or refusal, by the county or — where delegated — by the
    township), with the relatives flag that puts it in the 60 % stratum."""

    case_id: str
    workflow_id: str
    programme: str
    outcome: SampledOutcome
    decided_on: date
    decided_by_level: str  # township (delegated) | county
    area_code: str
    township_code: str
    household_id: str
    applicant_name: str
    relatives_flag: bool
    entitlement_workflow_id: str | None = None


class Population(BaseModel):
    decisions: list[SampledDecision]


class DrawRecord(BaseModel):
    """What ``spot_check_draw`` keeps of a draw (written once per round)."""

    round_id: str
    county_code: str
    period: str
    seed: int
    population_digest: str
    population: list[SampledDecision]
    sampled: list[str]
    strata: list[dict[str, object]]
    policy_version_id: str | None
    drawn_by: str | None


class ReopenRequest(BaseModel):
    """A reversed decision to re-open on its statutory path (``reopen_case``)."""

    round_id: str
    case_id: str
    programme: str
    outcome: SampledOutcome
    application_workflow_id: str
    entitlement_workflow_id: str | None
    area_code: str
    household_id: str
    actor: Actor
    findings_zh: str
    transfer_check: str | None = None


class ReopenResult(BaseModel):
    """``path``: ``termination`` (the entitlement's review decided to stop), ``new_application``
    (a new application linked to the refused one), or ``none`` (nothing left to re-open — the
    entitlement had already ended, or the household is already in another open case)."""

    path: str
    reopened_case_id: str | None = None
    note_zh: str
