"""The pure rules of temporary assistance: the prepayment cap, the one-off floor where the policy
says so, referral and 一事一议 stage plans, keys and ids."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from jiuzhu.policy_files import load_policy_files
from rules.policy import Policy, resolve_policy
from workflows.temporary.contract import (
    application_id_for_case,
    event_key,
    prepayment_key,
    stage_key,
    temporary_case_id_for_key,
)
from workflows.temporary.rules import (
    check_prepayment_amount,
    check_referral_amount,
    check_special_decision,
)

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def policy() -> Policy:
    """The demo county: cap 1000.00, rural 低保 standard 550.00, no floor."""
    return resolve_policy(load_policy_files(ROOT / "policies"), "419901001", DAY)


@pytest.fixture(scope="module")
def floor_policy(policy: Policy) -> Policy:
    """A policy that applies the one-off floor (晋民发〔2022〕38号 二.8)."""
    return policy.model_copy(update={"temporary_one_off_floor_is_rural_standard": True})


def test_prepayment_cap(policy: Policy) -> None:
    assert policy.prepayment_cap == Decimal("1000.00")
    assert check_prepayment_amount(Decimal("1000.00"), policy) is None
    assert check_prepayment_amount(Decimal("1.00"), policy) is None  # no floor here
    problem = check_prepayment_amount(Decimal("1000.01"), policy)
    assert problem is not None and problem.field == "amount" and "上限" in problem.message
    assert check_prepayment_amount(Decimal("0.00"), policy) is not None


def test_one_off_floor_applies_where_the_policy_says(floor_policy: Policy) -> None:
    assert floor_policy.dibao_standard_rural == Decimal("550.00")
    problem = check_prepayment_amount(Decimal("549.99"), floor_policy)
    assert problem is not None and "农村低保月标准" in problem.message
    assert check_prepayment_amount(Decimal("550.00"), floor_policy) is None
    # A cap below the floor wins: the township may still pay up to its cap.
    low_cap = floor_policy.model_copy(update={"prepayment_cap": Decimal("500.00")})
    assert check_prepayment_amount(Decimal("500.00"), low_cap) is None
    assert check_special_decision(Decimal("500.00"), [], DAY, floor_policy) is not None
    assert check_special_decision(Decimal("550.00"), [], DAY, floor_policy) is None


def test_referral_is_for_needs_above_the_cap(policy: Policy) -> None:
    assert check_referral_amount(Decimal("1000.00"), policy) is not None
    assert check_referral_amount(Decimal("1000.01"), policy) is None


def test_stage_plans(policy: Policy) -> None:
    d1, d2 = date(2026, 12, 20), date(2027, 1, 20)
    ok = [(DAY, Decimal("100.00")), (d1, Decimal("100.00")), (d2, Decimal("100.00"))]
    assert check_special_decision(Decimal("300.00"), ok, DAY, policy) is None
    cases = [
        (None, ok, "amount"),
        (Decimal("299.99"), ok, "stages"),
        (Decimal("200.00"), [(d1, Decimal("100.00")), (d1, Decimal("100.00"))], "stages"),
        (Decimal("200.00"), [(d2, Decimal("100.00")), (d1, Decimal("100.00"))], "stages"),
        (Decimal("100.00"), [(date(2026, 11, 19), Decimal("100.00"))], "stages.0.pay_on"),
        (Decimal("100.00"), [(d1, Decimal("0.00")), (d2, Decimal("100.00"))], "stages.0.amount"),
    ]
    for amount, plan, field in cases:
        problem = check_special_decision(amount, plan, DAY, policy)
        assert problem is not None and problem.field == field, (amount, plan, problem)


def test_keys_and_ids() -> None:
    assert prepayment_key("T1") == "temporary:T1:prepayment"
    assert stage_key("T1", 2) == "temporary:T1:stage:2"
    case_id = temporary_case_id_for_key("officer-a", "k1")
    assert (
        case_id
        == temporary_case_id_for_key("officer-a", "k1")
        != temporary_case_id_for_key("officer-b", "k1")
    )
    assert case_id.startswith("T") and len(case_id) == 16
    assert (
        application_id_for_case(case_id).startswith("A")
        and len(application_id_for_case(case_id)) == 16
    )
    k = event_key("11010119700517101x", "fire", DAY)
    assert k == event_key("11010119700517101X", "fire", DAY)
    assert k != event_key("11010119700517101X", "fire", date(2026, 11, 21))
    assert k != event_key("11010119700517101X", "accident", DAY)
    assert "1101" not in k or len(k) == 32  # a hash, not the ID number
