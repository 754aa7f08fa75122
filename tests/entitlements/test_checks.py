"""The entitlement's and the payroll's step checks, without a server: each refuses with the one
refusal vocabulary (``jiuzhu.refusals``) before anything is written; and the one instruction
writer is idempotent on its key."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError

from activities.payments.instructions import InstructionDraft, cancel, write_instruction
from activities.payments.models import CompileResult
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.refusals import RefusalKind, refusal_of
from rules.periods import months, working_days
from rules.programmes import Programme
from workflows.entitlements import checks
from workflows.entitlements.amounts import recompute_payable, share_amount
from workflows.entitlements.contract import (
    CardAccount,
    EntitlementStatus,
    ShareStatus,
)
from workflows.entitlements.models import (
    ChangeKind,
    ChangeReport,
    DeathNotification,
    EntitlementState,
    InvestigationClose,
    MemberShare,
    ReviewKind,
    ReviewOutcome,
    ReviewOutcomeKind,
    ReviewTask,
    TransferCheck,
    WorkRefusal,
)
from workflows.payments.checks import check_funding
from workflows.payments.contract import PaymentKind, PaymentStatus, PayrollStatus
from workflows.payments.models import FundingConfirmation, PayrollState

AREA = "419901001001"


def officer(role: Role, area: str = AREA[:9]) -> Actor:
    return Actor(officer_id=f"o-{role.value}", name="经办人", role=role, area_code=area)


def state(programme: Programme = Programme.DIBAO, **changes: object) -> EntitlementState:
    s = EntitlementState(
        entitlement_id="H1-dibao",
        application_id="A1",
        household_id="H1",
        programme=programme,
        area_code=AREA,
        area=AreaRef.of(AREA),
        members=[
            MemberShare(id_number="M1", name="王大山", relation="applicant"),
            MemberShare(id_number="M2", name="王小一", relation="child"),
            MemberShare(id_number="M3", name="王小二", relation="child"),
        ],
        card_account=CardAccount(holder_name="王大山", holder_id_number="M1", account_number="1"),
        policy_version_id="test",
        approved_at=datetime(2032, 1, 1, tzinfo=UTC),
        approved_by=officer(Role.COUNTY_OFFICER, AREA[:6]),
        monthly_amount=Decimal("900.00"),
        payable_amount=Decimal("900.00"),
        start_month=date(2032, 1, 1),
        review_every=months(12),
        next_review=date(2033, 1, 1),
        withdrawal_period=months(6),
        death_review=months(3),
        work_refusal_limit=3,
        reminder_lead=working_days(1),
    )
    return s.model_copy(update=changes)


@contextmanager
def refused(kind: RefusalKind, field: str | None = None) -> Iterator[None]:
    """The block raises the refusal ``kind`` naming ``field`` (non-retryable)."""
    with pytest.raises(ApplicationError) as caught:
        yield
    refusal = refusal_of(caught.value)
    assert refusal is not None and caught.value.non_retryable
    assert refusal.kind is kind, refusal
    assert refusal.field == field, refusal


def test_state_carries_its_area_resolved_once() -> None:
    s = state()
    assert s.area == AreaRef(code=AREA, township=AREA[:9], county=AREA[:6])
    assert EntitlementState.model_validate(s.model_dump(exclude={"area"})).area == s.area


def test_actor_role_and_area() -> None:
    s = state()
    report = ChangeReport(actor=officer(Role.FINANCE), kind=ChangeKind.INCOME, description_zh="x")
    with refused(RefusalKind.FORBIDDEN):
        checks.check_report_change(s, report)
    other = report.model_copy(update={"actor": officer(Role.TOWNSHIP_OFFICER, "419901002")})
    with refused(RefusalKind.FORBIDDEN):
        checks.check_report_change(s, other)
    checks.check_report_change(
        s, report.model_copy(update={"actor": officer(Role.VILLAGE_ASSISTANT, AREA)})
    )


def test_report_change_names_a_member() -> None:
    s = state()
    actor = officer(Role.TOWNSHIP_OFFICER)
    with refused(RefusalKind.INVALID_INPUT, "member_id_number"):
        checks.check_report_change(
            s,
            ChangeReport(
                actor=actor, kind=ChangeKind.INCOME, member_id_number="X", description_zh="x"
            ),
        )
    with refused(RefusalKind.INVALID_INPUT, "member_id_number"):
        checks.check_report_change(
            s, ChangeReport(actor=actor, kind=ChangeKind.DEATH, description_zh="x")
        )
    with refused(RefusalKind.WRONG_STATE):
        checks.check_report_change(
            state(status=EntitlementStatus.ENDED),
            ChangeReport(actor=actor, kind=ChangeKind.INCOME, description_zh="x"),
        )


def test_close_investigation_unknown_or_closed() -> None:
    s = state()
    close = InvestigationClose(
        actor=officer(Role.TOWNSHIP_OFFICER), investigation_id="I0-1", finding_zh="无变化"
    )
    with refused(RefusalKind.NOT_FOUND, "investigation_id"):
        checks.check_close_investigation(s, close)


def test_death_of_a_stranger_is_not_found() -> None:
    death = DeathNotification(
        id_number="Z9", date_of_death=date(2032, 3, 1), source="x", record_ref="r"
    )
    with refused(RefusalKind.NOT_FOUND, "id_number"):
        checks.check_record_death(state(), death)
    checks.check_record_death(state(), death.model_copy(update={"id_number": "M2"}))


def test_work_refusal_on_a_cut_share_is_wrong_state() -> None:
    s = state()
    s.members[1].status = ShareStatus.CUT
    refusal = WorkRefusal(
        actor=officer(Role.TOWNSHIP_OFFICER),
        member_id_number="M2",
        justified=False,
        description_zh="拒绝公益岗位",
    )
    with refused(RefusalKind.WRONG_STATE):
        checks.check_work_refusal(s, refusal)
    with refused(RefusalKind.FORBIDDEN):
        checks.check_work_refusal(
            s, refusal.model_copy(update={"actor": officer(Role.VILLAGE_ASSISTANT, AREA)})
        )
    with refused(RefusalKind.INVALID_INPUT, "member_id_number"):
        checks.check_work_refusal(s, refusal.model_copy(update={"member_id_number": "Z"}))


def test_review_outcome_checks() -> None:
    county = officer(Role.COUNTY_OFFICER, AREA[:6])
    outcome = ReviewOutcome(actor=county, outcome=ReviewOutcomeKind.CONTINUE, reasons_zh="无")
    with refused(RefusalKind.WRONG_STATE):
        checks.check_review_outcome(state(), outcome)  # no review is open
    task = ReviewTask(
        review_id="R0-1",
        kind=ReviewKind.PERIODIC,
        opened_at=datetime(2033, 1, 1, tzinfo=UTC),
        reason_zh="定期核查",
        deadline_name="review:R0-1",
    )
    s = state(review=task)
    checks.check_review_outcome(s, outcome)
    with refused(RefusalKind.INVALID_INPUT, "new_amount"):
        checks.check_review_outcome(
            s, outcome.model_copy(update={"outcome": ReviewOutcomeKind.ADJUST})
        )
    with refused(RefusalKind.INVALID_INPUT, "new_amount"):
        checks.check_review_outcome(s, outcome.model_copy(update={"new_amount": Decimal("1")}))
    tekun = state(Programme.TEKUN, review=task)
    with refused(RefusalKind.INVALID_INPUT, "outcome"):
        checks.check_review_outcome(
            tekun, outcome.model_copy(update={"outcome": ReviewOutcomeKind.WITHDRAW})
        )
    stop = outcome.model_copy(update={"outcome": ReviewOutcomeKind.STOP})
    with refused(RefusalKind.INVALID_INPUT, "transfer_check"):
        checks.check_review_outcome(tekun, stop)
    checks.check_review_outcome(
        tekun, stop.model_copy(update={"transfer_check": TransferCheck.DIBAO})
    )
    with refused(RefusalKind.WRONG_STATE):
        checks.check_review_outcome(
            state(review=task, status=EntitlementStatus.WITHDRAWAL), outcome
        )
    with refused(RefusalKind.FORBIDDEN):
        checks.check_review_outcome(
            s, outcome.model_copy(update={"actor": officer(Role.TOWNSHIP_OFFICER)})
        )
    gone = state(review=task)
    for m in gone.members:
        m.status = ShareStatus.DECEASED
    with refused(RefusalKind.INVALID_INPUT, "outcome"):
        checks.check_review_outcome(gone, outcome)


def test_shares_and_suspension() -> None:
    s = state()
    s.members[2].status = ShareStatus.SUSPENDED
    assert share_amount(s, Decimal("900.00")) == Decimal("600.00")
    recompute_payable(s)
    assert s.payable_amount == Decimal("600.00") and s.status is EntitlementStatus.ACTIVE
    for m in s.members:
        m.status = ShareStatus.SUSPENDED
    recompute_payable(s)
    assert s.payable_amount == Decimal("0.00")
    assert s.status.value == EntitlementStatus.SUSPENDED.value


def test_funding_checks() -> None:
    payroll = PayrollState(
        payroll_id="payroll-419901-2033-03",
        county_code="419901",
        year=2033,
        month=3,
        period="2033-03",
    )
    finance = Actor(officer_id="f", name="财政", role=Role.FINANCE, area_code="419901")
    funding = FundingConfirmation(actor=finance, amount=Decimal("600.00"), reference="BOF-1")
    with refused(RefusalKind.WRONG_STATE):
        check_funding(payroll, funding)
    payroll.status = PayrollStatus.AWAITING_FUNDING
    payroll.compiled = CompileResult(
        inserted=1, retried=0, pending_count=1, pending_total=Decimal("600.00")
    )
    check_funding(payroll, funding)
    with refused(RefusalKind.INVALID_INPUT, "amount"):
        check_funding(payroll, funding.model_copy(update={"amount": Decimal("601.00")}))
    with refused(RefusalKind.FORBIDDEN):
        check_funding(
            payroll,
            funding.model_copy(
                update={"actor": finance.model_copy(update={"role": Role.COUNTY_OFFICER})}
            ),
        )
    with refused(RefusalKind.FORBIDDEN):
        check_funding(
            payroll,
            funding.model_copy(
                update={"actor": finance.model_copy(update={"area_code": "419902"})}
            ),
        )


def test_the_one_instruction_writer_is_idempotent_on_its_key(engine: Engine) -> None:
    """On the run's database (SQLite, or PostgreSQL in ``make test-pg``)."""
    draft = InstructionDraft(
        idempotency_key=f"temporary:T1:{uuid.uuid4().hex}",
        kind=PaymentKind.TEMPORARY,
        case_id="T1",
        household_id="H1",
        programme="temporary",
        area_code=AREA,
        county_code=AREA[:6],
        period="2032-03-01",
        amount=Decimal("1200.00"),
        payee_name="王大山",
        payee_id_number="M1",
        card_account="6217000000000001",
    )
    with unit_of_work(engine) as session:
        row = write_instruction(session, draft)
        assert row is not None and row.id is not None
        assert (row.kind, row.status, row.attempts) == ("temporary", PaymentStatus.PENDING, 0)
    with unit_of_work(engine) as session:
        assert write_instruction(session, draft) is None
        assert cancel(session, draft.idempotency_key, "撤销") is True
        assert cancel(session, draft.idempotency_key, "撤销") is False
