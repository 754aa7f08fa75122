"""The access log (issue 12 item 5; PIPL Art. 51(二) access control and Art. 55–56 records of
processing sensitive personal information): one row per read of a person's file with ID numbers
in clear — the detail of an application, entitlement or temporary case answered unmasked, and
every decode through the operators' codec endpoint. Written by the API with one insert
(``api/access.py``), read by auditors and admins of the area through ``GET /access-log``."""

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from jiuzhu.db.models import UtcDateTime, utcnow


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: str = Field(index=True)
    role: str
    officer_area: str
    accessed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True)
    )
    kind: str  # application | entitlement | temporary | codec_decode
    case_id: str | None = Field(default=None, index=True)
    workflow_id: str | None = None
    # The area of the case read (the officer's own area for a codec decode, which names none).
    area_code: str = Field(index=True)
    path: str
    reason: str | None = None
