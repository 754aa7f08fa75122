"""Statutory periods: a number and a unit (working days, calendar days, months).

Periods are counted the way Chinese law counts them: the start day is not counted; counting
begins the next day (《民法典》第二百零一条). Working days follow the State Council holiday
schedule (DOMAIN §8), see ``rules.calendar``.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class PeriodUnit(StrEnum):
    """Unit of a statutory period."""

    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    MONTHS = "months"


class Period(BaseModel):
    """A statutory period, e.g. ``Period(value=3, unit=PeriodUnit.WORKING_DAYS)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: int = Field(ge=0)
    unit: PeriodUnit

    def describe_zh(self) -> str:
        """Chinese wording as used in the statutes: "3个工作日", "7日", "6个月"."""
        if self.unit is PeriodUnit.WORKING_DAYS:
            return f"{self.value}个工作日"
        if self.unit is PeriodUnit.CALENDAR_DAYS:
            return f"{self.value}日"
        return f"{self.value}个月"


def working_days(value: int) -> Period:
    """A period of ``value`` working days."""
    return Period(value=value, unit=PeriodUnit.WORKING_DAYS)


def calendar_days(value: int) -> Period:
    """A period of ``value`` calendar days."""
    return Period(value=value, unit=PeriodUnit.CALENDAR_DAYS)


def months(value: int) -> Period:
    """A period of ``value`` months."""
    return Period(value=value, unit=PeriodUnit.MONTHS)
