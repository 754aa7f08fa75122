"""Payloads of the temporary-assistance activities (pure pydantic models, no table models): what
the workflow hands to them and what they return. Money is ``Decimal`` yuan with 2 places; areas
are ``AreaRef`` resolved once when the case started."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from activities.payments.instructions import InstructionDraft
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from workflows.payments.contract import PaymentKind
from workflows.temporary.contract import EventType, PrepaymentStatus


class EventClaim(BaseModel):
    """Claim an event for a case: refused (Conflict, code ``EventAlreadyAided``) if another case
    already aided the same event for any member and no ``repeat_reason`` is given."""

    case_id: str
    member_id_numbers: list[str]
    event_type: EventType
    event_date: date
    repeat_reason: str | None = None


class Payee(BaseModel):
    """Who is paid, to which social-security card account."""

    name: str
    id_number: str
    card_account: str


class PrepaymentDebit(BaseModel):
    """Debit the township reserve fund (``area.township``) and issue the prepayment instruction,
    in one transaction with the event claim. ``period`` is the Beijing date (ISO) of the grant."""

    case_id: str
    area: AreaRef
    household_id: str
    idempotency_key: str
    amount: Decimal
    payee: Payee
    period: str
    actor: Actor
    note_zh: str
    claim: EventClaim


class DebitResult(BaseModel):
    """``amount`` is what the ledger recorded (a retry returns the first attempt's figures)."""

    ledger_entry_id: int
    amount: Decimal
    balance_after: Decimal
    idempotency_key: str


class RecoveryCredit(BaseModel):
    """A recovered amount credited back to the township's fund; ``closes`` when it settles the
    recovery. Idempotent by ``dedupe_key``."""

    case_id: str
    township_code: str
    dedupe_key: str
    amount: Decimal
    closes: bool
    actor: Actor
    note_zh: str


class CreditResult(BaseModel):
    ledger_entry_id: int
    balance_after: Decimal


class BankReturns(BaseModel):
    """The daily bank batch ``batch_id`` was reconciled: its prepayment lines the bank refused
    go back into their townships' reserve funds."""

    batch_id: str


class BankReturnsResult(BaseModel):
    """``credited_*``: every refused prepayment of the batch credited back (by any run);
    ``new_*``: those this call credited (0 on a repeat)."""

    credited_count: int = 0
    credited_total: Decimal = Decimal("0.00")
    new_count: int = 0
    new_total: Decimal = Decimal("0.00")


class PaymentOrder(BaseModel):
    """A county-funded temporary-aid instruction (kind ``temporary`` or ``staged``), once per
    ``idempotency_key``; ``period`` is the Beijing date (ISO) it is paid for."""

    idempotency_key: str
    kind: PaymentKind
    case_id: str
    household_id: str
    area: AreaRef
    period: str
    amount: Decimal
    payee: Payee


class RecoveryOpen(BaseModel):
    """The county rejected the justification: recovery of ``amount`` is opened and the
    township told."""

    case_id: str
    workflow_id: str
    area: AreaRef
    amount: Decimal
    reason_zh: str
    opened_by: Actor
    opened_at: datetime


class PendingLookup(BaseModel):
    household_id: str
    member_id_numbers: list[str]


class PendingApplication(BaseModel):
    case_id: str
    programme: str
    status: str


class PrepaymentRow(BaseModel):
    """The open-prepayment register row (listed by justification due date); ``revision`` only
    grows, so a late write never overwrites a newer one."""

    case_id: str
    workflow_id: str
    area: AreaRef
    applicant_name: str
    amount: Decimal
    granted_at: datetime
    justification_due: datetime | None
    justified_at: datetime | None
    status: PrepaymentStatus
    overdue: bool
    revision: int


def temporary_instruction(
    *,
    idempotency_key: str,
    kind: PaymentKind,
    case_id: str,
    household_id: str,
    area: AreaRef,
    period: str,
    amount: Decimal,
    payee: Payee,
    funding_source: str,
) -> InstructionDraft:
    """The payment instruction of a temporary-assistance payment (prepayment from the reserve
    fund, staged 一事一议 payment, award): paid to ``payee``'s card, counted in ``area``'s
    county."""
    return InstructionDraft(
        idempotency_key=idempotency_key,
        kind=kind,
        case_id=case_id,
        household_id=household_id,
        programme="temporary",
        area_code=area.code,
        county_code=area.county,
        period=period,
        amount=amount,
        payee_name=payee.name,
        payee_id_number=payee.id_number,
        card_account=payee.card_account,
        funding_source=funding_source,
    )
