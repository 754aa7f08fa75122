"""The deadlines domain's contract: the one ``calendar_changed`` signal every case workflow
takes (DOMAIN §8: a year's holiday schedule loaded later moves provisional deadlines)."""

from pydantic import BaseModel

CALENDAR_CHANGED = "calendar_changed"


class CalendarChanged(BaseModel):
    """Sent by ``PUT /calendar/years/{year}`` to every running case with a provisional
    deadline; ``year`` is the year loaded (None: recompute whatever is provisional)."""

    year: int | None = None
