"""Payloads of the overpayment-recovery workflow: its state (the ``get_state`` query), the
Update inputs (a repayment, a write-off decided by the county) and their small result. Pure
models; the workflow input lives beside the activity that starts it
(``activities/recoveries/models.py``)."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from activities.deadlines import Deadline
from activities.recoveries.models import OverpaidLine
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.records import TimelineEntry
from workflows.recoveries.contract import PayerKind, RecoveryCause, RecoveryStatus


class RecordRepayment(BaseModel):
    """A county officer records money repaid against the receivable (at most the balance)."""

    actor: Actor
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    payer_kind: PayerKind
    payer_name: str = Field(default="", max_length=50)
    reference: str = Field(min_length=1, max_length=100)  # the receipt / transfer reference
    paid_on: date


class WriteOff(BaseModel):
    """A county officer records the county's decision to write off the remaining balance."""

    actor: Actor
    document_number: str = Field(min_length=1, max_length=100)  # the decision's 文号
    decided_on: date
    reason_zh: str = Field(min_length=1, max_length=1000)


class Repayment(BaseModel):
    amount: Decimal
    payer_kind: PayerKind
    payer_name: str
    reference: str
    paid_on: date
    recorded_by: Actor
    recorded_at: datetime


class WriteOffRecord(BaseModel):
    amount: Decimal
    document_number: str
    decided_on: date
    reason_zh: str
    recorded_by: Actor
    recorded_at: datetime


class RecoveryState(BaseModel):
    recovery_id: str
    entitlement_id: str
    household_id: str
    programme: str
    area: AreaRef
    deceased_id_number: str = ""
    deceased_name: str = ""
    date_of_death: date | None = None
    cause: RecoveryCause = RecoveryCause.DEATH
    applicant_id_number: str = ""  # an ending's receivable: the entitlement's applicant
    applicant_name: str = ""
    last_payable_month: date | None = None  # an ending's receivable: the last month owed
    covered_members: int
    payee_name: str
    record_ref: str
    lines: list[OverpaidLine]
    amount: Decimal
    balance: Decimal
    recovered: Decimal = Decimal("0.00")
    written_off: Decimal = Decimal("0.00")
    status: RecoveryStatus = RecoveryStatus.OPEN
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    repayments: list[Repayment] = Field(default_factory=list)
    write_off: WriteOffRecord | None = None
    policy_version_id: str | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    revision: int = 0

    @property
    def closed(self) -> bool:
        return self.status is not RecoveryStatus.OPEN

    @property
    def ended(self) -> bool:
        return self.cause is RecoveryCause.ENDED

    @property
    def since(self) -> date:
        """The first day money could be owed back: the date of death, or the first day of an
        ending's last payable month (its stop was decided in that month at the latest)."""
        if self.ended and self.last_payable_month is not None:
            return self.last_payable_month
        assert self.date_of_death is not None  # a death's receivable always carries it
        return self.date_of_death

    @property
    def person_name(self) -> str:
        """Whom the receivable is listed under: the deceased, or the entitlement's applicant."""
        return self.applicant_name if self.ended else self.deceased_name

    @property
    def person_id_number(self) -> str:
        return self.applicant_id_number if self.ended else self.deceased_id_number


class RecoveryStepResult(BaseModel):
    """What an Update returns (small; the API queries ``get_state`` for the rest)."""

    recovery_id: str
    status: RecoveryStatus
    balance: Decimal
    recovered: Decimal
    written_off: Decimal
