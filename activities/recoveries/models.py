"""Payloads of overpayment recovery (pure models): what the entitlement asks when a death is
recorded, and the receivable's workflow input the activity starts it with."""

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class OpenRecoveryRequest(BaseModel):
    """A death recorded by an entitlement: ``covered_members`` is the number of members whose
    share was active when it was recorded, the deceased included."""

    entitlement_id: str
    household_id: str
    programme: str
    area_code: str
    deceased_id_number: str
    deceased_name: str
    date_of_death: date
    covered_members: int = Field(ge=1)
    payee_name: str
    record_ref: str


class OverpaidLine(BaseModel):
    """A paid payroll line for a period after the month of death, and the deceased's share."""

    idempotency_key: str
    period: str
    paid_amount: Decimal
    overpaid: Decimal


class RecoveryInput(BaseModel):
    """The receivable: ``amount`` is the sum of the lines' ``overpaid``."""

    recovery_id: str
    entitlement_id: str
    household_id: str
    programme: str
    area_code: str
    deceased_id_number: str
    deceased_name: str
    date_of_death: date
    covered_members: int
    payee_name: str
    record_ref: str
    lines: list[OverpaidLine]
    amount: Decimal


class OpenRecoveryResult(BaseModel):
    """``recovery_id`` is None when nothing was paid after the month of death; ``opened`` is
    False when the receivable already existed (the same death recorded again)."""

    recovery_id: str | None = None
    amount: Decimal = Decimal("0.00")
    opened: bool = False
