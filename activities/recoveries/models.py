"""Payloads of overpayment recovery (pure models): what the entitlement asks when a death is
recorded or when it ends, and the receivable's workflow input the activity starts it with."""

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from workflows.recoveries.contract import RecoveryCause


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


class OpenEndingRecoveryRequest(BaseModel):
    """An entitlement ended: ``last_payable_month`` (its first day) is the last month owed, so
    every month after it that was already paid is recovered (``ended_lines``).

    ``start_month`` and ``monthly_amount`` (the household amount per month when it ended) tell
    which months a quarterly line (dispersed 特困) covered; ``covered_members`` counts the
    members whose share was still paid; ``deceased_id_numbers`` are the members whose death the
    entitlement recorded: their receivables already claim the deceased's share of the same
    lines, which is not claimed twice."""

    entitlement_id: str
    household_id: str
    programme: str
    area_code: str
    applicant_id_number: str
    applicant_name: str
    start_month: date
    last_payable_month: date
    monthly_amount: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    covered_members: int = Field(ge=1)
    payee_name: str
    record_ref: str
    deceased_id_numbers: list[str] = Field(default_factory=list)


class OverpaidLine(BaseModel):
    """A paid payroll line for a period not owed (after the month of death: the deceased's
    share; after an entitlement's last payable month: the amount paid for those months)."""

    idempotency_key: str
    period: str
    paid_amount: Decimal
    overpaid: Decimal


class RecoveryInput(BaseModel):
    """The receivable: ``amount`` is the sum of the lines' ``overpaid``. A death's receivable
    names the deceased and the date of death; an ending's (``cause`` ``ended``, fields added
    2026-11-30 with defaults, so receivables opened before read as deaths) names the
    entitlement's applicant and its last payable month."""

    recovery_id: str
    entitlement_id: str
    household_id: str
    programme: str
    area_code: str
    deceased_id_number: str = ""
    deceased_name: str = ""
    date_of_death: date | None = None
    cause: RecoveryCause = RecoveryCause.DEATH
    applicant_id_number: str = ""
    applicant_name: str = ""
    last_payable_month: date | None = None
    covered_members: int
    payee_name: str
    record_ref: str
    lines: list[OverpaidLine]
    amount: Decimal


class OpenRecoveryResult(BaseModel):
    """``recovery_id`` is None when nothing was paid after the month of death (or after the
    last payable month); ``opened`` is False when the receivable already existed (the same
    death recorded again, the same ending retried)."""

    recovery_id: str | None = None
    amount: Decimal = Decimal("0.00")
    opened: bool = False


class ReceivableLines(BaseModel):
    """The lines another receivable already claims (read from its ``get_state`` query; the rest
    of its state is ignored)."""

    lines: list[OverpaidLine] = Field(default_factory=list)
