"""Tables of the application capability: verification source data an admin loads (the embedded
verification adapter reads them), the relatives registry (近亲属备案), and issued notices."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Numeric, Text
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow
from jiuzhu.db.sealing import index_column, sealed_column


class VerificationSourceState(SQLModel, table=True):
    """One verification source (户籍, 税务, 社保, 不动产 …) as loaded by an admin: whether it
    answers, and (to rehearse an outage) how many first attempts of each check fail."""

    __tablename__ = "verification_source"

    name: str = Field(primary_key=True)
    available: bool = True
    fail_first_attempts: int = 0
    record_count: int = 0
    loaded_by: str
    loaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class VerificationRecordRow(SQLModel, table=True):
    """One fact a source holds about a person (an income, an asset, a status)."""

    __tablename__ = "verification_record"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    id_number: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    id_number_index: str | None = Field(default=None, sa_column=index_column("id_number"))
    area_code: str = Field(default="", index=True)  # the loading officer's area (replaced per area)
    category: str  # income | asset | status
    kind: str
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2), nullable=True))
    note: str = ""


class RelativeRegistration(SQLModel, table=True):
    """近亲属备案: a close relative of a case worker or village cadre (DOMAIN §2, §7)."""

    __tablename__ = "relative_registration"

    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(sa_column=sealed_column())  # sealed: jiuzhu/db/sealing.py
    id_number_index: str | None = Field(default=None, sa_column=index_column("id_number"))
    name: str
    staff_name: str
    staff_role: str  # case_worker | village_cadre
    relation_zh: str
    area_code: str = Field(index=True)
    loaded_by: str
    loaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))


class ApplicationNotice(SQLModel, table=True):
    """A notice as issued: its payload (the legal content) and title; its HTML and PDF once first
    rendered."""

    __tablename__ = "application_notice"

    notice_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    workflow_id: str
    kind: str = Field(index=True)
    title: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    issued_by: str | None = None
    issued_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime()))
    delivered_on: date | None = None
    delivery_method: str | None = None
    delivered_to: str | None = None
