"""Pure checks of the recovery steps and of the payroll's adjusted funding total (no server)."""

from datetime import date
from decimal import Decimal

import pytest
from temporalio.exceptions import ApplicationError

from activities.payments.models import CompileResult, RecheckResult
from activities.recoveries.models import OverpaidLine
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import RefusalKind, refusal_of
from workflows.payments.checks import check_adjusted_total
from workflows.payments.models import FundingConfirmation, PayrollState
from workflows.recoveries.checks import check_repayment, check_write_off
from workflows.recoveries.contract import PayerKind, RecoveryStatus
from workflows.recoveries.models import RecordRepayment, RecoveryState, WriteOff

COUNTY = Actor(officer_id="c", name="县", role=Role.COUNTY_OFFICER, area_code="419901")
TODAY = date(2027, 3, 1)


def state(**kw: object) -> RecoveryState:
    values: dict[str, object] = {
        "recovery_id": "recovery-H1-X",
        "entitlement_id": "H1-dibao",
        "household_id": "H1",
        "programme": "dibao",
        "area": AreaRef.of("419901001001"),
        "deceased_id_number": "X",
        "deceased_name": "王大山",
        "date_of_death": date(2026, 11, 25),
        "covered_members": 1,
        "payee_name": "王大山",
        "record_ref": "r",
        "lines": [
            OverpaidLine(
                idempotency_key="k",
                period="2026-12",
                paid_amount=Decimal("500.00"),
                overpaid=Decimal("500.00"),
            )
        ],
        "amount": Decimal("500.00"),
        "balance": Decimal("500.00"),
    }
    values.update(kw)
    return RecoveryState.model_validate(values)


def refused(exc: pytest.ExceptionInfo[ApplicationError]) -> tuple[RefusalKind, str | None]:
    r = refusal_of(exc.value)
    assert r is not None
    return r.kind, r.field


def repay(**kw: object) -> RecordRepayment:
    values: dict[str, object] = {
        "actor": COUNTY,
        "amount": Decimal("100.00"),
        "payer_kind": PayerKind.ESTATE,
        "reference": "R1",
        "paid_on": TODAY,
    }
    values.update(kw)
    return RecordRepayment.model_validate(values)


def test_repayment_checks() -> None:
    check_repayment(state(), repay(), TODAY)
    township = COUNTY.model_copy(update={"role": Role.TOWNSHIP_OFFICER})
    other = COUNTY.model_copy(update={"area_code": "410882"})
    for cmd, st, expected in (
        (repay(amount=Decimal("500.01")), state(), (RefusalKind.INVALID_INPUT, "amount")),
        (repay(paid_on=date(2027, 3, 2)), state(), (RefusalKind.INVALID_INPUT, "paid_on")),
        (repay(paid_on=date(2026, 11, 1)), state(), (RefusalKind.INVALID_INPUT, "paid_on")),
        (repay(actor=township), state(), (RefusalKind.FORBIDDEN, None)),
        (repay(actor=other), state(), (RefusalKind.FORBIDDEN, None)),
        (repay(), state(status=RecoveryStatus.RECOVERED), (RefusalKind.WRONG_STATE, None)),
    ):
        with pytest.raises(ApplicationError) as exc:
            check_repayment(st, cmd, TODAY)
        assert refused(exc) == expected


def test_write_off_checks() -> None:
    cmd = WriteOff(
        actor=COUNTY, document_number="演民〔2027〕1号", decided_on=TODAY, reason_zh="无遗产"
    )
    check_write_off(state(), cmd, TODAY)
    with pytest.raises(ApplicationError) as exc:
        check_write_off(state(), cmd.model_copy(update={"decided_on": date(2027, 3, 9)}), TODAY)
    assert refused(exc) == (RefusalKind.INVALID_INPUT, "decided_on")
    with pytest.raises(ApplicationError) as exc:
        check_write_off(state(status=RecoveryStatus.WRITTEN_OFF), cmd, TODAY)
    assert refused(exc) == (RefusalKind.WRONG_STATE, None)


def test_adjusted_total_is_named_when_the_old_one_is_confirmed() -> None:
    finance = Actor(officer_id="f", name="财政", role=Role.FINANCE, area_code="419901")
    s = PayrollState(payroll_id="p", county_code="419901", year=2027, month=1, period="2027-01")
    s.compiled = CompileResult(
        inserted=2,
        retried=0,
        pending_count=1,
        pending_total=Decimal("600.00"),
        held_count=1,
        held_total=Decimal("500.00"),
    )
    s.recheck = RecheckResult(
        newly_held=1,
        newly_held_total=Decimal("500.00"),
        pending_count=1,
        pending_total=Decimal("600.00"),
        held_count=1,
        held_total=Decimal("500.00"),
    )
    check_adjusted_total(
        s, FundingConfirmation(actor=finance, amount=Decimal("600.00"), reference="F")
    )
    with pytest.raises(ApplicationError) as exc:
        check_adjusted_total(
            s, FundingConfirmation(actor=finance, amount=Decimal("1100.00"), reference="F")
        )
    assert refused(exc) == (RefusalKind.INVALID_INPUT, "amount")
    assert "调整后的总额600.00元" in str(exc.value) and "新暂停发放1笔" in str(exc.value)
