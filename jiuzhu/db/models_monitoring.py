"""Tables of the low-income monitoring population (动态监测, issue 14 item 3).

- ``monitoring_subject``: one row per source case (an entitlement, or an application refused or
  recognised as 边缘/支出型), fed by the read-model writer (``activities/records.py`` →
  ``activities/monitoring/population.py``) whenever such a case is published, and by a one-off
  back-fill. It keeps who (the applicant or head), where, which category, since when and — for
  a refusal or an exit — the reason and the date (辽宁 2024 意见 二.2(2), seed 001: refused
  applicants and people who left 低保/特困 less than two years ago stay in the database).
- ``monitoring_import``: one data-comparison load of one kind for one area (who loaded it, how
  many records, how many raised a warning, how many were refused as outside the area).
- ``monitoring_observation``: each record of a load kept as evidence, with the warning it raised.

Warnings themselves are workflows (``MonitoringWarningWorkflow``) listed from ``case_record``
(kind ``warning``)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow
from jiuzhu.db.sealing import index_column, sealed_column


class MonitoringSubject(SQLModel, table=True):
    """A household in the monitoring population, by the case that put it there."""

    __tablename__ = "monitoring_subject"

    source_case_id: str = Field(primary_key=True)
    source_kind: str  # application | entitlement
    household_id: str = Field(index=True)
    programme: str = Field(index=True)
    # dibao | tekun | dibao_edge | rigid_expense | refused | exited
    category: str = Field(index=True)
    area_code: str = Field(index=True)
    county_code: str = Field(index=True)
    township_code: str = Field(index=True)
    name: str
    id_number: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    id_number_index: str | None = Field(default=None, sa_column=index_column("id_number"))
    household_size: int
    since: date
    reason_zh: str | None = None  # why refused or why the support ended
    ended_on: date | None = None  # the refusal or exit date
    source_status: str
    source_revision: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class MonitoringImport(SQLModel, table=True):
    """One data-comparison load (seed 002 一: 每月至少进行1次信息比对)."""

    __tablename__ = "monitoring_import"

    import_id: str = Field(primary_key=True)
    kind: str = Field(index=True)
    source: str
    area_code: str = Field(index=True)
    loaded_by: str
    loaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    record_count: int = 0
    warnings_raised: int = 0
    already_raised: int = 0
    not_monitored: int = 0
    refused_out_of_area: int = 0


class MonitoringObservation(SQLModel, table=True):
    """One record of a load, kept as the evidence of the warning it raised (if any)."""

    __tablename__ = "monitoring_observation"

    id: int | None = Field(default=None, primary_key=True)
    import_id: str = Field(index=True)
    kind: str
    id_number: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    id_number_index: str | None = Field(default=None, sa_column=index_column("id_number"))
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    observed_on: date
    note: str = ""
    warning_id: str | None = Field(default=None, index=True)
