"""The household's one assistance chain (一户一条救助链): every programme, payment, referral and
department answer of a household in time order, with the gaps and duplicates it shows. Pure (no
I/O): the API gathers the rows (``api/routes/households.py``) and this module orders and flags
them, so the rules are unit-tested without a server.

The rules (seed 001 二(二)1(3): 形成"一户（人）一条救助链"，避免救助遗漏或重复救助):

**Gap (entitled, not referred).** A household entitled to 低保 or 特困 — an entitlement paying
(active or in its withdrawal period) or, where no entitlement row exists yet, an approved
application — whose investigated members show a need that another department answers, and no
referral of that member to that department (any referral not withdrawn counts):

- ``gap_medical_aid``: a member seriously ill, or severely disabled (grade 1 or 2), without a
  referral to medical aid — seed 001 二(三)2(1) (低保对象、特困人员…住院费用、慢性病、重特大疾病
  门诊费用…给予相应医疗救助); seed 000 四(二)1 (大病患者…按规定给予分类救助);
- ``gap_disability``: a disabled member without a referral to the disabled persons'
  federation (残联) — seed 001 二(三)5 (困难残疾人生活补贴、残疾儿童康复救助…省残联); seed 000
  四(六);
- ``gap_education_aid``: a member in school without a referral to education aid — seed 001
  二(三)2(2) (低保家庭、特困人员…在校学生…给予教育救助); seed 000 四(二)2.

**Duplicate.**

- ``duplicate_referral``: two or more referrals of the same member to the same department for
  the same need, all still awaiting an answer (a repeat needs a recorded reason when it is
  made, and stays flagged until one is answered or withdrawn);
- ``duplicate_payment``: one person paid by two different cases' monthly payroll (低保 and 特困,
  or two households) for the same month — a dispersed 特困 quarter counts for each of its
  three months; lines failed or cancelled are not payments (seed 002: 不得重复发放)."""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
from workflows.applications.contract import STATUS_LABELS_ZH as APPLICATION_STATUS_ZH
from workflows.entitlements.contract import STATUS_LABELS_ZH as ENTITLEMENT_STATUS_ZH
from workflows.referrals.contract import (
    DEPARTMENT_NAMES_ZH,
    NEED_NAMES_ZH,
    OUTCOME_NAMES_ZH,
    STATUS_NAMES_ZH,
    AnswerOutcome,
    Department,
    Need,
    ReferralStatus,
)
from workflows.temporary.contract import STATUS_LABELS_ZH as TEMPORARY_STATUS_ZH

ENTITLED_PROGRAMMES = frozenset({Programme.DIBAO.value, Programme.TEKUN.value})
PAYING_ENTITLEMENT = frozenset({"active", "withdrawal"})
LISTED_PAYMENTS = frozenset({"paid", "failed", "flagged"})
PAYING_PAYMENTS = frozenset({"paid", "pending", "sent"})
KIND_NAMES_ZH = {"application": "申请", "entitlement": "待遇", "temporary": "案件"}


def _status_zh(case_kind: str, status: str) -> str:
    """A programme's status in Chinese, from its kind's contract (the code when unknown)."""
    by_kind: dict[str, Mapping[Any, str]] = {
        "application": APPLICATION_STATUS_ZH,
        "entitlement": ENTITLEMENT_STATUS_ZH,
        "temporary": TEMPORARY_STATUS_ZH,
    }
    labels = by_kind.get(case_kind, {})
    for enum_member, label in labels.items():
        if getattr(enum_member, "value", enum_member) == status:
            return label
    return status


PAYMENT_STATUS_ZH = {"paid": "已发放", "failed": "发放失败", "flagged": "暂缓待人工处理"}
MONTHLY = re.compile(r"^(\d{4})-(\d{2})$")
QUARTERLY = re.compile(r"^(\d{4})-Q([1-4])$")


# --- what the API gathers ------------------------------------------------------------------
class ProgrammeRow(BaseModel):
    case_id: str
    case_kind: str  # application | entitlement | temporary
    programme: str
    status: str
    area_code: str
    applicant_name: str
    created_at: datetime
    linked_case_id: str | None = None


class PaymentRow(BaseModel):
    idempotency_key: str
    case_id: str
    kind: str
    programme: str
    period: str
    amount: Decimal
    status: str
    payee_name: str
    payee_id_number: str
    created_at: datetime
    paid_at: datetime | None = None


class ReferralRow(BaseModel):
    referral_id: str
    source_case_id: str
    department: Department
    need: Need
    person_name: str
    person_id_number: str
    status: ReferralStatus
    asked_on: date
    referred_at: datetime
    due_date: date | None = None
    escalated: bool = False
    repeat_reason: str | None = None
    answer_outcome: AnswerOutcome | None = None
    answer_zh: str | None = None
    answered_on: date | None = None
    answered_at: datetime | None = None
    answer_amount: Decimal | None = None


class MemberFacts(BaseModel):
    """What the investigation recorded of a member of an entitled household."""

    name: str
    id_number: str
    serious_illness: bool = False
    disability_grade: int | None = None
    student: bool = False


# --- what the chain shows ------------------------------------------------------------------
class ChainEntry(BaseModel):
    at: datetime
    on: date | None = None
    kind: str  # programme | payment | referral | answer
    case_id: str
    programme: str | None = None
    department: Department | None = None
    status: str
    amount: Decimal | None = None
    period: str | None = None
    person_name: str | None = None
    title_zh: str


class ChainFlag(BaseModel):
    kind: str  # gap | duplicate
    rule: str
    message_zh: str
    basis: str
    department: Department | None = None
    person_id_number: str | None = None
    case_ids: list[str] = Field(default_factory=list)


class AssistanceChain(BaseModel):
    household_id: str
    entries: list[ChainEntry]
    flags: list[ChainFlag]


def _programme_zh(programme: str) -> str:
    try:
        return PROGRAMME_SHORT_NAMES_ZH[Programme(programme)]
    except ValueError:
        return programme


def entries(
    programmes: Iterable[ProgrammeRow],
    payments: Iterable[PaymentRow],
    referrals: Iterable[ReferralRow],
) -> list[ChainEntry]:
    """Every programme, listed payment (paid, failed, held), referral and answer, in time
    order (ties: programmes, then referrals, answers, payments)."""
    out: list[tuple[datetime, int, ChainEntry]] = []
    for p in programmes:
        title = f"{_programme_zh(p.programme)}{KIND_NAMES_ZH.get(p.case_kind, p.case_kind)}"
        out.append(
            (
                p.created_at,
                0,
                ChainEntry(
                    at=p.created_at,
                    kind="programme",
                    case_id=p.case_id,
                    programme=p.programme,
                    status=p.status,
                    person_name=p.applicant_name,
                    title_zh=f"{title}（{p.applicant_name}，{_status_zh(p.case_kind, p.status)}）",
                ),
            )
        )
    for r in referrals:
        dept = DEPARTMENT_NAMES_ZH[r.department]
        out.append(
            (
                r.referred_at,
                1,
                ChainEntry(
                    at=r.referred_at,
                    on=r.asked_on,
                    kind="referral",
                    case_id=r.referral_id,
                    department=r.department,
                    status=r.status.value,
                    person_name=r.person_name,
                    title_zh=f"转介{dept}：{NEED_NAMES_ZH[r.need]}（{r.person_name}，"
                    f"{STATUS_NAMES_ZH[r.status]}）",
                ),
            )
        )
        if r.answer_outcome is not None and r.answered_at is not None:
            amount = f"，{r.answer_amount}元" if r.answer_amount is not None else ""
            out.append(
                (
                    r.answered_at,
                    2,
                    ChainEntry(
                        at=r.answered_at,
                        on=r.answered_on,
                        kind="answer",
                        case_id=r.referral_id,
                        department=r.department,
                        status=r.answer_outcome.value,
                        amount=r.answer_amount,
                        person_name=r.person_name,
                        title_zh=f"{dept}反馈：{OUTCOME_NAMES_ZH[r.answer_outcome]}{amount}"
                        + (f" — {r.answer_zh}" if r.answer_zh else ""),
                    ),
                )
            )
    for pay in payments:
        if pay.status not in LISTED_PAYMENTS:
            continue
        at = pay.paid_at or pay.created_at
        out.append(
            (
                at,
                3,
                ChainEntry(
                    at=at,
                    kind="payment",
                    case_id=pay.case_id,
                    programme=pay.programme,
                    status=pay.status,
                    amount=pay.amount,
                    period=pay.period,
                    person_name=pay.payee_name,
                    title_zh=f"{_programme_zh(pay.programme)}{pay.period} {pay.amount}元"
                    f"（{PAYMENT_STATUS_ZH.get(pay.status, pay.status)}）",
                ),
            )
        )
    out.sort(key=lambda t: (t[0], t[1]))
    return [e for _, _, e in out]


def entitled(programmes: Iterable[ProgrammeRow]) -> list[ProgrammeRow]:
    """The household's 低保/特困 programmes that entitle it now: entitlements paying, or an
    approved application of a programme with no entitlement row yet."""
    rows = [p for p in programmes if p.programme in ENTITLED_PROGRAMMES]
    with_entitlement = {p.programme for p in rows if p.case_kind == "entitlement"}
    return [
        p
        for p in rows
        if (p.case_kind == "entitlement" and p.status in PAYING_ENTITLEMENT)
        or (
            p.case_kind == "application"
            and p.status == "approved"
            and p.programme not in with_entitlement
        )
    ]


GAP_RULES: tuple[tuple[str, Department, str, str], ...] = (
    (
        "gap_medical_aid",
        Department.MEDICAL_AID,
        "重病或重度残疾",
        "seed 001 二(三)2(1)；seed 000 四(二)1",
    ),
    ("gap_disability", Department.DISABILITY, "残疾", "seed 001 二(三)5；seed 000 四(六)"),
    (
        "gap_education_aid",
        Department.EDUCATION_AID,
        "在校就读",
        "seed 001 二(三)2(2)；seed 000 四(二)2",
    ),
)


def _needs(m: MemberFacts, department: Department) -> bool:
    if department is Department.MEDICAL_AID:
        return m.serious_illness or (m.disability_grade is not None and m.disability_grade <= 2)
    if department is Department.DISABILITY:
        return m.disability_grade is not None
    if department is Department.EDUCATION_AID:
        return m.student
    return False


def gaps(
    programmes: Iterable[ProgrammeRow],
    members: Iterable[MemberFacts],
    referrals: Iterable[ReferralRow],
) -> list[ChainFlag]:
    """``gap_*`` flags: a member of an entitled household with a need and no referral (module
    docstring)."""
    held = entitled(programmes)
    if not held:
        return []
    names = "、".join(sorted({_programme_zh(p.programme) for p in held}))
    referred = {
        (r.department, r.person_id_number)
        for r in referrals
        if r.status is not ReferralStatus.WITHDRAWN
    }
    out: list[ChainFlag] = []
    seen: set[str] = set()
    for m in members:
        if m.id_number in seen:
            continue
        seen.add(m.id_number)
        for rule, department, why, basis in GAP_RULES:
            if _needs(m, department) and (department, m.id_number) not in referred:
                out.append(
                    ChainFlag(
                        kind="gap",
                        rule=rule,
                        department=department,
                        person_id_number=m.id_number,
                        case_ids=[p.case_id for p in held],
                        basis=basis,
                        message_zh=f"{names}家庭成员{m.name}{why}，应享受"
                        f"{DEPARTMENT_NAMES_ZH[department]}，但尚未转介",
                    )
                )
    return out


def _months(period: str) -> list[str]:
    if MONTHLY.fullmatch(period):
        return [period]
    if q := QUARTERLY.fullmatch(period):
        first = (int(q.group(2)) - 1) * 3 + 1
        return [f"{q.group(1)}-{m:02d}" for m in range(first, first + 3)]
    return []


def duplicates(payments: Iterable[PaymentRow], referrals: Iterable[ReferralRow]) -> list[ChainFlag]:
    """``duplicate_referral`` and ``duplicate_payment`` flags (module docstring)."""
    out: list[ChainFlag] = []
    open_by: dict[tuple[Department, Need, str], list[ReferralRow]] = defaultdict(list)
    for r in referrals:
        if r.status is ReferralStatus.AWAITING_ANSWER:
            open_by[(r.department, r.need, r.person_id_number)].append(r)
    for (department, need, person), rows in open_by.items():
        if len(rows) > 1:
            out.append(
                ChainFlag(
                    kind="duplicate",
                    rule="duplicate_referral",
                    department=department,
                    person_id_number=person,
                    case_ids=[r.referral_id for r in rows],
                    basis="seed 001 二(二)1(3)",
                    message_zh=f"{rows[0].person_name}有{len(rows)}件转介{DEPARTMENT_NAMES_ZH[department]}"
                    f"「{NEED_NAMES_ZH[need]}」同时待反馈",
                )
            )
    paid_by: dict[tuple[str, str], dict[str, PaymentRow]] = defaultdict(dict)
    for p in payments:
        if p.kind != "payroll" or p.status not in PAYING_PAYMENTS:
            continue
        for month in _months(p.period):
            paid_by[(p.payee_id_number, month)].setdefault(p.case_id, p)
    for (person, month), by_case in sorted(paid_by.items()):
        if len(by_case) > 1:
            lines = list(by_case.values())
            what = "、".join(f"{_programme_zh(x.programme)}（{x.case_id}）" for x in lines)
            out.append(
                ChainFlag(
                    kind="duplicate",
                    rule="duplicate_payment",
                    person_id_number=person,
                    case_ids=sorted(by_case),
                    basis="seed 001 二(二)1(3)；seed 002（不得重复发放）",
                    message_zh=f"{lines[0].payee_name}在{month}由{what}重复发放",
                )
            )
    return out


def assistance_chain(
    household_id: str,
    programmes: list[ProgrammeRow],
    payments: list[PaymentRow],
    referrals: list[ReferralRow],
    members: list[MemberFacts],
    other_payments: list[PaymentRow] | None = None,
) -> AssistanceChain:
    """The chain of one household; ``other_payments`` are the monthly payroll lines of the
    same payees under other households' cases (counted for ``duplicate_payment``, not listed)."""
    return AssistanceChain(
        household_id=household_id,
        entries=entries(programmes, payments, referrals),
        flags=gaps(programmes, members, referrals)
        + duplicates([*payments, *(other_payments or [])], referrals),
    )
