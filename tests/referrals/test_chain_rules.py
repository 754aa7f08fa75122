"""The assistance chain's rules and the referral checks, without a server: time order; the gap
rules (a 低保/特困 household's seriously ill, disabled or school-going member not referred —
seed 001 二(三)2(1)/(2)/5, seed 000 四(二)); the duplicate rules (two open referrals of one member
to one department for one need; one person paid by two cases' payroll for one month)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import RefusalKind, refusal_of
from workflows.referrals.chain import (
    MemberFacts,
    PaymentRow,
    ProgrammeRow,
    ReferralRow,
    assistance_chain,
    entitled,
)
from workflows.referrals.checks import check_answer, check_asked_on, check_need, check_withdraw
from workflows.referrals.contract import (
    AnswerOutcome,
    Department,
    Need,
    ReferralStatus,
    SourceKind,
)
from workflows.referrals.models import RecordAnswer, ReferralState, Withdraw

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
AREA = "419901001001"
COUNTY = Actor(officer_id="c", name="县", role=Role.COUNTY_OFFICER, area_code="419901")
TOWNSHIP = Actor(officer_id="t", name="乡", role=Role.TOWNSHIP_OFFICER, area_code="419901001")
OTHER = Actor(officer_id="o", name="外县", role=Role.COUNTY_OFFICER, area_code="419902")


def programme(case_id: str, kind: str, prog: str, status: str, days: int) -> ProgrammeRow:
    return ProgrammeRow(
        case_id=case_id,
        case_kind=kind,
        programme=prog,
        status=status,
        area_code=AREA,
        applicant_name="张建明",
        created_at=T0 + timedelta(days=days),
        linked_case_id="A1" if kind == "entitlement" else None,
    )


def referral(
    rid: str,
    dept: Department = Department.MEDICAL_AID,
    need: Need = Need.HOSPITALISATION,
    person: str = "P2",
    status: ReferralStatus = ReferralStatus.AWAITING_ANSWER,
    days: int = 5,
) -> ReferralRow:
    answered = status is ReferralStatus.ANSWERED
    return ReferralRow(
        referral_id=rid,
        source_case_id="A1",
        department=dept,
        need=need,
        person_name="李秀兰",
        person_id_number=person,
        status=status,
        asked_on=(T0 + timedelta(days=days)).date(),
        referred_at=T0 + timedelta(days=days),
        answer_outcome=AnswerOutcome.GRANTED if answered else None,
        answer_zh="已救助" if answered else None,
        answered_on=(T0 + timedelta(days=days + 3)).date() if answered else None,
        answered_at=T0 + timedelta(days=days + 3) if answered else None,
        answer_amount=Decimal("1200.00") if answered else None,
    )


def pay(
    case_id: str, programme: str, period: str, status: str = "paid", person: str = "P1"
) -> PaymentRow:
    return PaymentRow(
        idempotency_key=f"{case_id}:{period}",
        case_id=case_id,
        kind="payroll",
        programme=programme,
        period=period,
        amount=Decimal("500.00"),
        status=status,
        payee_name="张建明",
        payee_id_number=person,
        created_at=T0 + timedelta(days=40),
        paid_at=T0 + timedelta(days=41),
    )


SICK = MemberFacts(name="李秀兰", id_number="P2", serious_illness=True)
PROGRAMMES = [
    programme("A1", "application", "dibao", "approved", 0),
    programme("H-dibao", "entitlement", "dibao", "active", 2),
    programme("T1", "temporary", "temporary", "closed", 3),
]


def test_entries_are_in_time_order_with_answers_after_their_referral() -> None:
    chain = assistance_chain(
        "H1",
        PROGRAMMES,
        [pay("H-dibao", "dibao", "2026-04"), pay("H-dibao", "dibao", "2026-05", "cancelled")],
        [referral("R1", status=ReferralStatus.ANSWERED)],
        [SICK],
    )
    kinds = [(e.kind, e.case_id) for e in chain.entries]
    assert kinds == [
        ("programme", "A1"),
        ("programme", "H-dibao"),
        ("programme", "T1"),
        ("referral", "R1"),
        ("answer", "R1"),
        ("payment", "H-dibao"),  # a cancelled line is not listed
    ]
    assert chain.entries[4].amount == Decimal("1200.00")
    assert chain.flags == []  # the sick member was referred to medical aid


def test_gap_when_an_entitled_members_need_is_not_referred() -> None:
    members = [
        SICK,
        MemberFacts(name="张小二", id_number="P3", disability_grade=3, student=True),
    ]
    chain = assistance_chain("H1", PROGRAMMES, [], [], members)
    assert sorted((f.rule, f.person_id_number) for f in chain.flags) == [
        ("gap_disability", "P3"),
        ("gap_education_aid", "P3"),
        ("gap_medical_aid", "P2"),
    ]
    assert all(f.kind == "gap" and f.basis.startswith("seed 001") for f in chain.flags)
    # A withdrawn referral does not count; one to another department does not either.
    withdrawn = referral("R1", status=ReferralStatus.WITHDRAWN)
    housing = referral("R2", Department.HOUSING, Need.PUBLIC_RENTAL)
    flags = assistance_chain("H1", PROGRAMMES, [], [withdrawn, housing], [SICK]).flags
    assert [f.rule for f in flags] == ["gap_medical_aid"]
    # Severe disability (grade 1–2) also needs medical aid.
    severe = MemberFacts(name="王", id_number="P4", disability_grade=2)
    rules = {f.rule for f in assistance_chain("H1", PROGRAMMES, [], [], [severe]).flags}
    assert rules == {"gap_medical_aid", "gap_disability"}


def test_no_gap_without_an_entitled_programme() -> None:
    ended = [
        programme("A1", "application", "dibao", "approved", 0),
        programme("H-dibao", "entitlement", "dibao", "ended", 2),
        programme("T1", "temporary", "temporary", "closed", 3),
    ]
    assert entitled(ended) == []
    assert assistance_chain("H1", ended, [], [], [SICK]).flags == []
    pending = [programme("A1", "application", "dibao", "publicity", 0)]
    assert entitled(pending) == []
    approved = [programme("A1", "application", "tekun", "approved", 0)]
    assert [p.case_id for p in entitled(approved)] == ["A1"]


def test_duplicate_open_referrals_and_double_payment() -> None:
    open_twice = [referral("R1"), referral("R2", days=6)]
    answered = [referral("R1", status=ReferralStatus.ANSWERED), referral("R2", days=6)]
    other_person = [referral("R1"), referral("R2", person="P3", days=6)]
    flags = assistance_chain("H1", PROGRAMMES, [], open_twice, [SICK]).flags
    assert [(f.rule, f.case_ids) for f in flags] == [("duplicate_referral", ["R1", "R2"])]
    assert assistance_chain("H1", PROGRAMMES, [], answered, [SICK]).flags == []
    assert [
        f.rule for f in assistance_chain("H1", PROGRAMMES, [], other_person, [SICK]).flags
    ] == []

    payments = [
        pay("H-dibao", "dibao", "2026-04"),
        pay("H-tekun", "tekun", "2026-Q2"),  # April–June
        pay("H-dibao", "dibao", "2026-07"),
        pay("H2-dibao", "dibao", "2026-07", status="failed"),  # never paid: no duplicate
    ]
    flags = assistance_chain("H1", PROGRAMMES, payments, [], []).flags
    assert [(f.rule, f.case_ids) for f in flags] == [("duplicate_payment", ["H-dibao", "H-tekun"])]
    assert "2026-04" in flags[0].message_zh


def state(asked_on: date = date(2026, 3, 2)) -> ReferralState:
    return ReferralState(
        referral_id="R1",
        source_case_id="A1",
        source_kind=SourceKind.APPLICATION,
        source_programme="dibao",
        household_id="H1",
        area=AreaRef.of(AREA),
        department=Department.MEDICAL_AID,
        need=Need.HOSPITALISATION,
        person_name="李秀兰",
        person_id_number="P2",
        request_zh="住院费用救助",
        asked_on=asked_on,
        referred_by=TOWNSHIP,
        referred_at=T0,
    )


def kind_and_field(fn, *args) -> tuple[RefusalKind, str | None]:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception) as info:
        fn(*args)
    refusal = refusal_of(info.value)
    assert refusal is not None
    return refusal.kind, refusal.field


def test_checks_refuse_naming_the_field() -> None:
    today = date(2026, 3, 10)
    check_need(Department.MEDICAL_AID, Need.HOSPITALISATION)
    assert kind_and_field(check_need, Department.HOUSING, Need.HOSPITALISATION) == (
        RefusalKind.INVALID_INPUT,
        "need",
    )
    check_asked_on(date(2026, 3, 2), date(2026, 3, 1), today)
    assert kind_and_field(check_asked_on, date(2026, 3, 11), date(2026, 3, 1), today)[1] == (
        "asked_on"
    )
    assert kind_and_field(check_asked_on, date(2026, 2, 28), date(2026, 3, 1), today)[1] == (
        "asked_on"
    )

    def answer(actor: Actor = COUNTY, **kw: object) -> RecordAnswer:
        base: dict[str, object] = {
            "actor": actor,
            "outcome": AnswerOutcome.GRANTED,
            "answer_zh": "已按规定给予住院医疗救助",
            "answered_on": date(2026, 3, 9),
            "amount": Decimal("1200.00"),
        }
        return RecordAnswer.model_validate({**base, **kw})

    s = state()
    check_answer(s, answer(), today)
    assert kind_and_field(check_answer, s, answer(TOWNSHIP), today)[0] is RefusalKind.FORBIDDEN
    assert kind_and_field(check_answer, s, answer(OTHER), today)[0] is RefusalKind.FORBIDDEN
    assert kind_and_field(check_answer, s, answer(answered_on=date(2026, 3, 1)), today)[1] == (
        "answered_on"
    )
    assert kind_and_field(check_answer, s, answer(answered_on=date(2026, 3, 11)), today)[1] == (
        "answered_on"
    )
    declined = answer(outcome=AnswerOutcome.DECLINED)
    assert kind_and_field(check_answer, s, declined, today)[1] == "amount"
    withdraw = Withdraw(actor=TOWNSHIP, reason_zh="转错部门")
    check_withdraw(s, withdraw)
    s.status = ReferralStatus.ANSWERED
    assert kind_and_field(check_answer, s, answer(), today)[0] is RefusalKind.WRONG_STATE
    assert kind_and_field(check_withdraw, s, withdraw)[0] is RefusalKind.WRONG_STATE
