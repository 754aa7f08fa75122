"""Request and response schemas for temporary assistance and reserve funds (separate from table
and workflow models). Money is yuan with at most 2 decimals, sent as a string or number."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.schemas.applications import AreaCode, HouseholdMembers, MemberIn
from api.validators import (
    BankAccount,
    FreeText,
    IdNumber,
    OptionalFreeText,
    OptionalShortText,
    PaperDate,
    PayeeName,
    PersonName,
    PositiveMoney,
    ShortText,
)
from rules.household import Relation
from workflows.temporary.contract import EventType, TemporaryProcedure

Amount = PositiveMoney
"""Yuan above 0 and at most 10,000,000.00, ASCII digits, 2 places (``api/validators.py``)."""
Text = FreeText


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventIn(_In):
    event_type: EventType
    event_date: PaperDate
    description_zh: Text


class CardAccountIn(_In):
    """The beneficiary's social-security card account (社保卡 一卡通); holder defaults to the
    applicant."""

    account_number: BankAccount
    bank_code: Annotated[str, Field(max_length=20, pattern=r"^[0-9A-Za-z]*$")] = ""
    holder_name: PayeeName | None = None
    holder_id_number: IdNumber | None = None


class TemporaryCaseCreate(_In):
    """A temporary-assistance case, registered where the emergency happened (regardless of
    household registration: the ID numbers may be from any province)."""

    procedure: TemporaryProcedure
    area_code: AreaCode = Field(description="township or village where the emergency happened")
    household: HouseholdMembers
    event: EventIn
    card_account: CardAccountIn
    requested_amount: Amount | None = Field(
        default=None, validate_default=True, description="required for the normal procedure"
    )
    repeat_reason: ShortText | None = Field(
        default=None, description="why the same event is aided again (recorded)"
    )

    @field_validator("area_code")
    @classmethod
    def _township_or_village(cls, v: str) -> str:
        if len(v) not in (9, 12):
            raise ValueError("临时救助在乡镇（街道）或村（社区）登记 / a township or village code")
        return v

    @field_validator("household")
    @classmethod
    def _one_applicant(cls, v: list[MemberIn]) -> list[MemberIn]:
        applicants = [m for m in v if m.relation == Relation.APPLICANT]
        if len(applicants) != 1:
            raise ValueError(
                f"家庭成员中须有且只有一名申请人，实际有{len(applicants)}名 / household needs "
                f"exactly one applicant, got {len(applicants)}"
            )
        ids = [m.id_number for m in v]
        if len(set(ids)) != len(ids):
            raise ValueError(
                "家庭成员身份证号码重复 / the same ID number appears twice in the household"
            )
        return v

    @field_validator("requested_amount")
    @classmethod
    def _amount_for_normal_procedure(
        cls, v: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        if v is None and info.data.get("procedure") == TemporaryProcedure.NORMAL:
            raise ValueError("支出型临时救助须填写申请金额")
        return v


class PrepaymentIn(_In):
    amount: Amount
    reason_zh: Text
    repeat_reason: ShortText | None = None


class InvestigationIn(_In):
    investigators: list[PersonName] = Field(min_length=2, max_length=10)
    investigated_on: PaperDate
    findings_zh: Text


class JustificationIn(_In):
    beneficiary_name: PersonName | None = None
    beneficiary_id_number: IdNumber | None = None
    reason_zh: Text
    amount: Amount
    investigation: InvestigationIn
    opinion_zh: OptionalFreeText = ""


class ReviewIn(_In):
    decision: Literal["accept", "reject"]
    reason_zh: OptionalFreeText = Field(default="", validate_default=True)

    @field_validator("reason_zh")
    @classmethod
    def _reason_for_rejection(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("decision") == "reject" and not v.strip():
            raise ValueError("不予通过须写明理由")
        return v


class RecoveryIn(_In):
    amount: Amount
    recovered_on: PaperDate
    method_zh: ShortText


class ReferralIn(_In):
    need_amount: Amount
    situation_zh: Text


class StageIn(_In):
    pay_on: date
    amount: Amount


class SpecialDecisionIn(_In):
    decision: Literal["approve", "refuse"]
    amount: Amount | None = None
    stages: list[StageIn] = Field(default_factory=list, max_length=24)
    meeting_ref: OptionalShortText = ""
    reason_zh: OptionalFreeText = Field(default="", validate_default=True)
    repeat_reason: ShortText | None = None

    @field_validator("reason_zh")
    @classmethod
    def _reason_for_refusal(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("decision") == "refuse" and not v.strip():
            raise ValueError("不予救助须写明理由")
        return v


class CloseIn(_In):
    reason_zh: Text


class ReplenishmentIn(_In):
    amount: Amount
    note_zh: Annotated[OptionalFreeText, Field(max_length=500)] = ""


# --- responses ----------------------------------------------------------------------------
class PrepaymentSummary(BaseModel):
    amount: Decimal
    granted_at: datetime
    justification_due: datetime | None
    justified_at: datetime | None
    status: str
    overdue: bool


class TemporaryCaseSummary(BaseModel):
    """One row of a case list (from the read model)."""

    case_id: str
    procedure: str | None
    status: str
    area_code: str
    applicant_name: str
    household_size: int
    next_deadline: datetime | None
    overdue: bool
    linked_case_id: str | None
    updated_at: datetime
    prepayment: PrepaymentSummary | None = None


class TemporaryCasePage(BaseModel):
    items: list[TemporaryCaseSummary]
    total: int
    offset: int
    limit: int


class LedgerEntryOut(BaseModel):
    id: int
    direction: str
    purpose: str
    amount: Decimal
    balance_after: Decimal
    case_id: str | None
    actor_name: str | None
    note_zh: str
    created_at: datetime


class ReserveFundOut(BaseModel):
    township_code: str
    county_code: str
    balance: Decimal
    entries: list[LedgerEntryOut]
    total_entries: int
    offset: int
    limit: int


class ReplenishmentOut(BaseModel):
    township_code: str
    entry: LedgerEntryOut
    balance: Decimal
