"""The township reserve fund (乡镇临时救助备用金) as a ledger: every debit and credit with its
case, the balance never negative, even under concurrent grants (民发〔2018〕23号: 乡镇临时救助
备用金制度).

A prepayment is ONE transaction: the conditional debit (``UPDATE reserve_fund SET balance_fen =
balance_fen - :x WHERE township_code = :t AND balance_fen >= :x``), the event claim, the ledger
entry and the payment instruction (kind ``prepayment``, funding source ``reserve_fund``,
idempotency key minted by the workflow, written by the one instruction writer). A retry finds
the ledger entry by its key and returns the same result; a refusal (insufficient funds, no
fund, event already aided) rolls everything back and is a non-retryable Conflict refusal with
its ``code``. Money is kept in integer fen (分)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity

from activities.payments.instructions import write_instruction
from activities.temporary.events import claim_event_in
from activities.temporary.payloads import (
    BankReturns,
    BankReturnsResult,
    CreditResult,
    DebitResult,
    PrepaymentDebit,
    RecoveryCredit,
    temporary_instruction,
)
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_temporary import ReserveFund, ReserveFundEntry, TemporaryRecovery
from jiuzhu.refusals import Refusal, RefusalKind
from rules.money import format_yuan
from workflows.payments.contract import PaymentKind, PaymentStatus
from workflows.temporary.contract import INSUFFICIENT_FUNDS, NO_RESERVE_FUND


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


class FundRefused(Exception):
    """A debit the fund cannot cover (``InsufficientFunds``), or no fund for the township
    (``NoReserveFund``); ``balance`` in yuan."""

    def __init__(self, code: str, message_zh: str, township: str, balance: Decimal) -> None:
        super().__init__(message_zh)
        self.code, self.message_zh, self.township, self.balance = (
            code,
            message_zh,
            township,
            balance,
        )

    def refusal(self) -> Refusal:
        """409 Conflict with ``code``, the balance and the township."""
        return Refusal(
            kind=RefusalKind.CONFLICT,
            message_zh=self.message_zh,
            extra={
                "code": self.code,
                "balance": str(self.balance),
                "township_code": self.township,
            },
        )


def _no_fund(township: str) -> FundRefused:
    message = f"乡镇{township}尚未设立临时救助备用金"
    return FundRefused(NO_RESERVE_FUND, message, township, Decimal(0))


@dataclass(frozen=True)
class LedgerResult:
    entry_id: int
    balance_after: Decimal
    created: bool
    amount: Decimal = Decimal("0.00")


def _entry_result(session: Session, dedupe_key: str) -> LedgerResult | None:
    entry = session.exec(
        select(ReserveFundEntry).where(ReserveFundEntry.dedupe_key == dedupe_key)
    ).first()
    if entry is None or entry.id is None:
        return None
    return LedgerResult(
        entry.id, from_fen(entry.balance_after_fen), False, from_fen(entry.amount_fen)
    )


def _balance_fen(session: Session, township: str) -> int | None:
    fund = session.get(ReserveFund, township, populate_existing=True)
    return None if fund is None else fund.balance_fen


def _add_entry(
    session: Session,
    *,
    direction: str,
    township: str,
    amount_fen: int,
    dedupe_key: str,
    purpose: str,
    case_id: str | None,
    actor: Actor | None,
    note_zh: str,
    payment_key: str | None,
) -> LedgerResult:
    """The ledger line of a debit or credit just applied, with the balance after it."""
    balance_after = _balance_fen(session, township)
    assert balance_after is not None
    entry = ReserveFundEntry(
        dedupe_key=dedupe_key,
        township_code=township,
        county_code=AreaRef.of(township).county,
        direction=direction,
        purpose=purpose,
        amount_fen=amount_fen,
        balance_after_fen=balance_after,
        case_id=case_id,
        payment_idempotency_key=payment_key,
        actor_officer_id=actor.officer_id if actor else None,
        actor_name=actor.name if actor else None,
        note_zh=note_zh,
    )
    session.add(entry)
    session.flush()
    assert entry.id is not None
    return LedgerResult(entry.id, from_fen(balance_after), True, from_fen(amount_fen))


def debit(
    session: Session,
    *,
    township: str,
    amount_fen: int,
    dedupe_key: str,
    purpose: str,
    case_id: str | None,
    actor: Actor | None,
    note_zh: str,
    payment_key: str | None = None,
) -> LedgerResult:
    """Conditional debit plus its ledger entry, inside the caller's transaction. The UPDATE is
    the transaction's first write, so concurrent debits serialise on it and never overdraw.
    Raises ``FundRefused``."""
    now = datetime.now(UTC)
    result = session.execute(
        update(ReserveFund)
        .where(
            col(ReserveFund.township_code) == township,
            col(ReserveFund.balance_fen) >= amount_fen,
        )
        .values(balance_fen=col(ReserveFund.balance_fen) - amount_fen, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        balance = _balance_fen(session, township)
        if balance is None:
            raise _no_fund(township)
        raise FundRefused(
            INSUFFICIENT_FUNDS,
            f"备用金余额不足：乡镇{township}余额{format_yuan(from_fen(balance))}，"
            f"本次需支出{format_yuan(from_fen(amount_fen))}",
            township,
            from_fen(balance),
        )
    return _add_entry(
        session,
        direction="debit",
        township=township,
        amount_fen=amount_fen,
        dedupe_key=dedupe_key,
        purpose=purpose,
        case_id=case_id,
        actor=actor,
        note_zh=note_zh,
        payment_key=payment_key,
    )


def credit(
    session: Session,
    *,
    township: str,
    amount_fen: int,
    dedupe_key: str,
    purpose: str,
    case_id: str | None,
    actor: Actor | None,
    note_zh: str,
    create_fund: bool = False,
    payment_key: str | None = None,
) -> LedgerResult:
    """Credit plus its ledger entry, inside the caller's transaction; idempotent by
    ``dedupe_key``. ``create_fund`` opens the township's fund on its first replenishment;
    ``payment_key`` names the instruction a credit-back returns."""
    seen = _entry_result(session, dedupe_key)
    if seen is not None:
        return seen
    now = datetime.now(UTC)
    result = session.execute(
        update(ReserveFund)
        .where(col(ReserveFund.township_code) == township)
        .values(balance_fen=col(ReserveFund.balance_fen) + amount_fen, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if not create_fund:
            raise _no_fund(township)
        session.add(
            ReserveFund(
                township_code=township,
                county_code=AreaRef.of(township).county,
                balance_fen=amount_fen,
            )
        )
        session.flush()
    return _add_entry(
        session,
        direction="credit",
        township=township,
        amount_fen=amount_fen,
        dedupe_key=dedupe_key,
        purpose=purpose,
        case_id=case_id,
        actor=actor,
        note_zh=note_zh,
        payment_key=payment_key,
    )


def replenish(
    engine: Engine, *, township: str, amount: Decimal, dedupe_key: str, actor: Actor, note_zh: str
) -> LedgerResult:
    """The county replenishes (or opens) a township's fund; idempotent by ``dedupe_key``.
    A concurrent request with the same key (or opening the same fund) may win the insert: the
    second attempt then finds its entry or the fund, and credits once."""
    for attempt in (1, 2):
        try:
            with unit_of_work(engine) as session:
                return credit(
                    session,
                    township=township,
                    amount_fen=to_fen(amount),
                    dedupe_key=dedupe_key,
                    purpose="replenishment",
                    case_id=None,
                    actor=actor,
                    note_zh=note_zh,
                    create_fund=True,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class ReserveFundActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def debit_prepayment(self, req: PrepaymentDebit) -> DebitResult:
        """Event claim + conditional debit + ledger entry + payment instruction, one
        transaction. Refusals (non-retryable Conflict, nothing written): code
        ``InsufficientFunds``/``NoReserveFund``/``EventAlreadyAided``."""
        township = req.area.township
        with unit_of_work(self.engine) as session:
            done = _entry_result(session, f"{req.idempotency_key}:debit")
            if done is not None:  # a retry after the commit: same result, nothing new
                return DebitResult(
                    ledger_entry_id=done.entry_id,
                    amount=done.amount,
                    balance_after=done.balance_after,
                    idempotency_key=req.idempotency_key,
                )
            try:
                ledger = debit(
                    session,
                    township=township,
                    amount_fen=to_fen(req.amount),
                    dedupe_key=f"{req.idempotency_key}:debit",
                    purpose="prepayment",
                    case_id=req.case_id,
                    actor=req.actor,
                    note_zh=req.note_zh,
                    payment_key=req.idempotency_key,
                )
            except FundRefused as refused:
                raise refused.refusal().error() from None
            claim_event_in(session, req.claim)  # raises EventAlreadyAided → rollback
            write_instruction(
                session,
                temporary_instruction(
                    idempotency_key=req.idempotency_key,
                    kind=PaymentKind.PREPAYMENT,
                    case_id=req.case_id,
                    household_id=req.household_id,
                    area=req.area,
                    period=req.period,
                    amount=req.amount,
                    payee=req.payee,
                    funding_source="reserve_fund",
                ),
            )
        activity.logger.info(
            "prepayment debited", extra={"case_id": req.case_id, "township": township}
        )
        return DebitResult(
            ledger_entry_id=ledger.entry_id,
            amount=ledger.amount,
            balance_after=ledger.balance_after,
            idempotency_key=req.idempotency_key,
        )

    @activity.defn
    def credit_recovery(self, req: RecoveryCredit) -> CreditResult:
        """A recovered amount goes back into the fund; the recovery record is updated (and
        closed when fully recovered) in the same transaction. Idempotent by ``dedupe_key``."""
        with unit_of_work(self.engine) as session:
            seen = _entry_result(session, req.dedupe_key)
            if seen is not None:
                return CreditResult(ledger_entry_id=seen.entry_id, balance_after=seen.balance_after)
            ledger = credit(
                session,
                township=req.township_code,
                amount_fen=to_fen(req.amount),
                dedupe_key=req.dedupe_key,
                purpose="recovery",
                case_id=req.case_id,
                actor=req.actor,
                note_zh=req.note_zh,
                create_fund=True,
            )
            rec = session.get(TemporaryRecovery, req.case_id)
            if rec is not None:
                rec.recovered_fen += to_fen(req.amount)
                if req.closes:
                    rec.status = "recovered"
                    rec.closed_at = datetime.now(UTC)
                session.add(rec)
        return CreditResult(ledger_entry_id=ledger.entry_id, balance_after=ledger.balance_after)

    @activity.defn
    def credit_back_failed(self, req: BankReturns) -> BankReturnsResult:
        """A prepayment the bank refused (a ``failed`` or ``flagged`` line of the daily batch
        ``batch_id``, e.g. a closed card account) was never paid: its amount returns to the
        reserve fund it was debited from (民发〔2018〕23号: 备用金专款专用), once per instruction
        (ledger dedupe key ``<instruction key>:bank_return``, the instruction named on the
        entry), all in one transaction. A repeat credits nothing more. The instruction stays
        ``failed`` with the bank's reason: no batch picks it up again (the township grants
        anew on a corrected card account)."""
        select_failed = text(
            "SELECT p.idempotency_key, p.case_id, p.area_code, p.amount, p.failure_reason, "
            "(SELECT e.township_code FROM reserve_fund_entry e WHERE e.payment_idempotency_key "
            "= p.idempotency_key AND e.direction = 'debit') FROM payment_instruction p "
            "WHERE p.payroll_id = :b AND p.funding_source = 'reserve_fund' "
            "AND p.status IN (:failed, :flagged) ORDER BY p.id"
        )
        result = BankReturnsResult()
        with unit_of_work(self.engine) as session:
            rows = session.execute(
                select_failed,
                {
                    "b": req.batch_id,
                    "failed": PaymentStatus.FAILED.value,
                    "flagged": PaymentStatus.FLAGGED.value,
                },
            ).all()
            for key, case_id, area_code, amount, reason, township in rows:
                fen = to_fen(Decimal(str(amount)).quantize(Decimal("0.01")))
                ledger = credit(
                    session,
                    township=township or AreaRef.of(area_code).township,
                    amount_fen=fen,
                    dedupe_key=f"{key}:bank_return",
                    purpose="bank_return",
                    case_id=case_id,
                    actor=None,
                    note_zh=f"先行救助银行代发失败退回备用金（批次{req.batch_id}）：{reason or ''}",
                    payment_key=key,
                )
                result.credited_count += 1
                result.credited_total += from_fen(fen)
                if ledger.created:
                    result.new_count += 1
                    result.new_total += from_fen(fen)
        if result.new_count:
            activity.logger.info(
                "failed prepayments credited back",
                extra={"batch_id": req.batch_id, "count": result.new_count},
            )
        return result
