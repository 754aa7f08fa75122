"""Supervision tables (issue 14 items 1–2).

- ``spot_check_draw``: the auditable record of a monthly spot-check draw — the county, the month,
  the seed, the whole population (every decision with its stratum) and the sample drawn from it,
  so anyone can redraw it (``workflows/supervision/sampling.py``) and get the same cases
  (焦民〔2022〕154号 第五条).
- ``complaint_party``: the complainant of a complaint (投诉举报), kept apart from the workflow
  history, the read model and every list: only county officers and auditors read it
  (protection of the complainant: 《信访工作条例》 forbids passing a complainant's report or
  identity to the people or unit complained about)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow


class SpotCheckDraw(SQLModel, table=True):
    __tablename__ = "spot_check_draw"

    round_id: str = Field(primary_key=True)
    county_code: str = Field(index=True)
    period: str = Field(index=True)
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    population_digest: str
    population_size: int
    sample_size: int
    population: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    sampled: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    strata: list[Any] = Field(default_factory=list, sa_column=Column(JSON))
    policy_version_id: str | None = None
    drawn_by: str | None = None
    drawn_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class ComplaintParty(SQLModel, table=True):
    __tablename__ = "complaint_party"

    complaint_id: str = Field(primary_key=True)
    name: str = ""
    phone: str = ""
    address: str = ""
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
