"""The pure step checks of temporary assistance, without a server: each refused step raises the
one refusal vocabulary (``jiuzhu.refusals``) — WrongState 409, Forbidden 403, InvalidInput 422
naming the field — and an allowed step passes."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.policy_files import load_policy_files
from jiuzhu.refusals import RefusalKind, refusal_of
from rules.policy import Policy, resolve_policy
from tests.factories import id_number
from workflows.applications.contract import ApplicantMember
from workflows.entitlements.contract import CardAccount
from workflows.temporary import checks
from workflows.temporary.contract import EventType, TemporaryProcedure
from workflows.temporary.models import (
    AidEvent,
    CloseCase,
    DecideSpecial,
    GrantPrepayment,
    Investigation,
    Prepayment,
    RecordRecovery,
    Recovery,
    Referral,
    ReferToCounty,
    ReviewJustification,
    StagePlan,
    SubmitJustification,
    TemporaryCaseState,
)

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
TOWNSHIP = Actor(officer_id="t", name="乡镇", role=Role.TOWNSHIP_OFFICER, area_code="419901001")
OTHER_TOWNSHIP = TOWNSHIP.model_copy(update={"area_code": "419901002"})
COUNTY = Actor(officer_id="c", name="县级", role=Role.COUNTY_OFFICER, area_code="419901")
APPLICANT = id_number(area6="110101")


@pytest.fixture(scope="module")
def policy() -> Policy:
    """The demo county: prepayment cap 1000.00, no one-off floor."""
    return resolve_policy(load_policy_files(ROOT / "policies"), "419901001", DAY)


def case(policy: Policy | None, **update: object) -> TemporaryCaseState:
    state = TemporaryCaseState(
        case_id="T1",
        procedure=TemporaryProcedure.EMERGENCY,
        area_code="419901001001",
        area=AreaRef.of("419901001001"),
        household_id="H1",
        members=[ApplicantMember(name="赵大勇", id_number=APPLICANT, relation="applicant")],
        event=AidEvent(event_type=EventType.FIRE, event_date=DAY, description_zh="失火"),
        card_account=CardAccount(
            holder_name="赵大勇", holder_id_number=APPLICANT, account_number="1"
        ),
        registered_by=TOWNSHIP,
        registered_at=NOW,
        policy=policy,
    )
    return state.model_copy(update=update)


def prepaid(policy: Policy, **update: object) -> TemporaryCaseState:
    p = Prepayment(
        amount=Decimal("800.00"),
        reason_zh="火灾",
        granted_by=TOWNSHIP,
        granted_at=NOW,
        payment_key="temporary:T1:prepayment",
        ledger_entry_id=1,
        fund_balance_after=Decimal("100.00"),
    )
    return case(policy, prepayment=p.model_copy(update=update))


def refused(exc: pytest.ExceptionInfo[BaseException]) -> tuple[RefusalKind, str | None]:
    refusal = refusal_of(exc.value)
    assert refusal is not None, exc.value
    return refusal.kind, refusal.field


def grant(amount: str = "500.00", actor: Actor = TOWNSHIP) -> GrantPrepayment:
    return GrantPrepayment(actor=actor, amount=Decimal(amount), reason_zh="急需")


def justification(amount: str = "800.00", **update: object) -> SubmitJustification:
    return SubmitJustification(
        actor=TOWNSHIP,
        reason_zh="火灾",
        amount=Decimal(amount),
        investigation=Investigation(
            investigators=["孙经办", "周协理"], investigated_on=DAY, findings_zh="属实"
        ),
    ).model_copy(update=update)


def test_area_resolved_once_from_the_code() -> None:
    state = case(None)
    assert state.area == AreaRef(code="419901001001", township="419901001", county="419901")
    # A state saved without ``area`` resolves it from ``area_code``.
    raw = state.model_dump(mode="json", exclude={"area"})
    assert TemporaryCaseState.model_validate(raw).area == state.area


def test_grant_checks(policy: Policy) -> None:
    checks.check_grant(case(policy), grant())
    checks.check_grant(case(None), grant("5000.00"))  # amount checked once the policy is in
    for state, cmd, expected in [
        (case(policy), grant(actor=COUNTY), (RefusalKind.FORBIDDEN, None)),
        (case(policy), grant(actor=OTHER_TOWNSHIP), (RefusalKind.FORBIDDEN, None)),
        (case(policy, closed_at=NOW), grant(), (RefusalKind.WRONG_STATE, None)),
        (
            case(policy, procedure=TemporaryProcedure.NORMAL),
            grant(),
            (RefusalKind.WRONG_STATE, None),
        ),
        (prepaid(policy), grant(), (RefusalKind.WRONG_STATE, None)),
        (case(policy), grant("1000.01"), (RefusalKind.INVALID_INPUT, "amount")),
    ]:
        with pytest.raises(Exception) as exc:
            checks.check_grant(state, cmd)
        assert refused(exc) == expected, (cmd, expected)


def test_justification_checks(policy: Policy) -> None:
    checks.check_justification(prepaid(policy), justification(), DAY)
    later = DAY + timedelta(days=1)
    wrong = [
        (case(policy), justification(), (RefusalKind.WRONG_STATE, None)),
        (prepaid(policy), justification("700.00"), (RefusalKind.INVALID_INPUT, "amount")),
        (
            prepaid(policy),
            justification(beneficiary_id_number=id_number(area6="110101")),
            (RefusalKind.INVALID_INPUT, "beneficiary_id_number"),
        ),
        (
            prepaid(policy),
            justification(
                investigation=Investigation(
                    investigators=["孙经办", "孙经办 "], investigated_on=DAY, findings_zh="属实"
                )
            ),
            (RefusalKind.INVALID_INPUT, "investigation.investigators"),
        ),
        (
            prepaid(policy),
            justification(
                investigation=Investigation(
                    investigators=["孙经办", "周协理"], investigated_on=later, findings_zh="属实"
                )
            ),
            (RefusalKind.INVALID_INPUT, "investigation.investigated_on"),
        ),
    ]
    for state, cmd, expected in wrong:
        with pytest.raises(Exception) as exc:
            checks.check_justification(state, cmd, DAY)
        assert refused(exc) == expected, expected


def test_review_waits_for_the_deadline_before_rejecting_an_unjustified_prepayment(
    policy: Policy,
) -> None:
    due = NOW + timedelta(days=14)
    reject = ReviewJustification(actor=COUNTY, accept=False, reason_zh="未补充说明")
    accept = ReviewJustification(actor=COUNTY, accept=True)
    for cmd, now in ((reject, NOW), (accept, due)):
        with pytest.raises(Exception) as exc:
            checks.check_review(prepaid(policy), cmd, due, now)
        assert refused(exc) == (RefusalKind.WRONG_STATE, None)
    checks.check_review(prepaid(policy), reject, due, due)
    with pytest.raises(Exception) as exc:
        checks.check_review(prepaid(policy), reject.model_copy(update={"reason_zh": " "}), due, due)
    assert refused(exc) == (RefusalKind.INVALID_INPUT, "reason_zh")
    with pytest.raises(Exception) as exc:
        by_township = reject.model_copy(update={"actor": TOWNSHIP})
        checks.check_review(prepaid(policy), by_township, due, due)
    assert refused(exc) == (RefusalKind.FORBIDDEN, None)


def test_recovery_checks(policy: Policy) -> None:
    open_recovery = Recovery(amount_due=Decimal("800.00"), opened_at=NOW)
    state = prepaid(policy, recovery=open_recovery)
    ok = RecordRecovery(
        actor=TOWNSHIP, amount=Decimal("800.00"), recovered_on=DAY, method_zh="退回"
    )
    checks.check_recovery(state, ok, DAY)
    for cmd, expected in [
        (
            ok.model_copy(update={"amount": Decimal("800.01")}),
            (RefusalKind.INVALID_INPUT, "amount"),
        ),
        (
            ok.model_copy(update={"recovered_on": DAY + timedelta(days=1)}),
            (RefusalKind.INVALID_INPUT, "recovered_on"),
        ),
    ]:
        with pytest.raises(Exception) as exc:
            checks.check_recovery(state, cmd, DAY)
        assert refused(exc) == expected
    with pytest.raises(Exception) as exc:
        checks.check_recovery(prepaid(policy), ok, DAY)
    assert refused(exc) == (RefusalKind.WRONG_STATE, None)


def test_referral_and_special_decision_checks(policy: Policy) -> None:
    refer = ReferToCounty(actor=TOWNSHIP, need_amount=Decimal("6000.00"), situation_zh="重病")
    checks.check_referral(case(policy), refer)
    with pytest.raises(Exception) as exc:
        checks.check_referral(case(policy), refer.model_copy(update={"need_amount": Decimal(900)}))
    assert refused(exc) == (RefusalKind.INVALID_INPUT, "need_amount")

    referral = Referral(
        need_amount=Decimal("6000.00"), situation_zh="重病", referred_by=TOWNSHIP, referred_at=NOW
    )
    referred = case(policy, referral=referral)
    with pytest.raises(Exception) as exc:
        checks.check_referral(referred, refer)
    assert refused(exc) == (RefusalKind.WRONG_STATE, None)
    same_day = StagePlan(pay_on=DAY, amount=Decimal(3000))
    plan = [same_day, same_day]
    approve = DecideSpecial(actor=COUNTY, approve=True, amount=Decimal("6000.00"))
    checks.check_special(referred, approve, DAY)
    for state, cmd, expected in [
        (case(policy), approve, (RefusalKind.WRONG_STATE, None)),
        (referred, approve.model_copy(update={"actor": TOWNSHIP}), (RefusalKind.FORBIDDEN, None)),
        (
            referred,
            approve.model_copy(update={"stages": plan}),
            (RefusalKind.INVALID_INPUT, "stages"),
        ),
        (
            referred,
            DecideSpecial(actor=COUNTY, approve=False),
            (RefusalKind.INVALID_INPUT, "reason_zh"),
        ),
        (case(None, referral=referral), approve, (RefusalKind.WRONG_STATE, None)),
    ]:
        with pytest.raises(Exception) as exc:
            checks.check_special(state, cmd, DAY)
        assert refused(exc) == expected, expected


def test_close_checks(policy: Policy) -> None:
    close = CloseCase(actor=COUNTY, reason_zh="无需救助")
    checks.check_close(case(policy), close)
    for state in (prepaid(policy), case(policy, procedure=TemporaryProcedure.NORMAL)):
        with pytest.raises(Exception) as exc:
            checks.check_close(state, close)
        assert refused(exc) == (RefusalKind.WRONG_STATE, None)
