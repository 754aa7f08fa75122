"""The household-membership index (issue 11 item 4): a person is in at most one active household
per programme (低保办法 Art. 6 — one application per household, by one member for the whole
household; DOMAIN §3, §7 一户一条救助链). One row per (programme, ID number) names the case that
holds the person now — an open application or an active entitlement. The UNIQUE constraint on
(programme, id_number_index) — the ID number's blind index, the number itself is sealed
(``jiuzhu/db/sealing.py``) — decides every race, on SQLite as on PostgreSQL."""

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow
from jiuzhu.db.sealing import index_column, sealed_column


class HouseholdMembership(SQLModel, table=True):
    """Who holds a person for a programme: ``case_kind`` ``application`` (an open application)
    or ``entitlement`` (an active entitlement, after approval)."""

    __tablename__ = "household_membership"
    __table_args__ = (
        UniqueConstraint("programme", "id_number_index", name="uq_membership_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme: str = Field(index=True)
    id_number: str = Field(sa_column=sealed_column())
    id_number_index: str | None = Field(default=None, sa_column=index_column("id_number"))
    case_id: str = Field(index=True)
    household_id: str
    case_kind: str  # application | entitlement
    member_name: str = ""
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
