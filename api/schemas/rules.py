"""Request and response schemas for the rules endpoints: policy versions, the working-day
calendar and the eligibility assessment (the rules themselves live in ``rules/``)."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from api.schemas.applications import HouseholdIn
from rules.policy import Policy, PolicyLayer

# --- policies ---------------------------------------------------------------------------

SERVER_SET_LAYER_FIELDS = ("area_code", "version_id", "source")
"""Layer fields the server sets on ``POST /policies/{area_code}/versions``: the area comes from
the path, ``version_id`` is ``<area_code>@<effective_from>``, ``source`` is ``api:<officer>``."""


def _policy_version_create() -> type[BaseModel]:
    """Every ``PolicyLayer`` field (with its constraints) except the server-set ones."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in PolicyLayer.model_fields.items()
        if name not in SERVER_SET_LAYER_FIELDS
    }
    return create_model(
        "PolicyVersionCreate",
        __config__=ConfigDict(extra="forbid"),
        __doc__="A new policy layer for the area in the path, in force from ``effective_from``. "
        "It replaces the area's previous version from that date on: fields left out come from "
        "the areas above, not from the previous version (policies/README.md).",
        **fields,
    )


if TYPE_CHECKING:
    PolicyVersionCreate = BaseModel
else:
    PolicyVersionCreate = _policy_version_create()


class PolicyVersionOut(BaseModel):
    """One policy layer that applies to an area: from a file in policies/ or added by an admin."""

    version_id: str
    area_code: str
    effective_from: date
    origin: Literal["file", "api"]
    source: str
    name: str | None
    in_force: bool = Field(description="The layer of its area in force on the date asked about")
    created_by: str | None = None
    created_at: datetime | None = None
    parameters: dict[str, Any] = Field(description="The parameters this layer sets")


class PolicyVersionList(BaseModel):
    area_code: str
    on: date
    versions: list[PolicyVersionOut]


class PolicyVersionCreated(BaseModel):
    version: PolicyVersionOut
    policy: Policy = Field(description="The merged policy in force on the new layer's date")


# --- calendar ---------------------------------------------------------------------------


class CalendarYearIn(BaseModel):
    """A year's official schedule (国务院办公厅关于部分节假日安排的通知): public holidays
    (weekend days inside a holiday span may be listed) and make-up working days (调休, weekend
    days declared working days)."""

    model_config = ConfigDict(extra="forbid")

    holidays: list[date] = Field(min_length=1)
    workdays: list[date] = Field(default_factory=list)


class CalendarYearOut(BaseModel):
    year: int
    source: Literal["builtin", "loaded", "none"] = Field(
        description="builtin: chinese-calendar (2004–2026); loaded: by an admin; none: weekdays "
        "only, results provisional"
    )
    holidays: list[date]
    workdays: list[date]
    loaded_by: str | None = None
    loaded_at: datetime | None = None


class CalendarYearLoaded(CalendarYearOut):
    signalled: int = Field(
        description="Running workflows with a provisional deadline sent calendar_changed"
    )
    signal_failures: int = 0


class CalendarDate(BaseModel):
    date: date
    provisional: bool


class WorkingDayOut(BaseModel):
    date: date
    working_day: bool
    holiday: bool
    make_up_working_day: bool
    provisional: bool = Field(description="No schedule loaded for the year: weekdays only")


# --- eligibility ------------------------------------------------------------------------


class EligibilityRequest(BaseModel):
    """Assess a household for every programme without starting a case (DOMAIN §1, §3 step 5)."""

    model_config = ConfigDict(extra="forbid")

    area_code: str = Field(description="Area of household registration (township or village)")
    on: date | None = Field(default=None, description="Assessment date; today (Beijing) if unset")
    household: HouseholdIn
