"""Payroll activities: cut-off dates from the working-day calendar, and the month's payment list
compiled from the entitlement read model in set-based, chunked SQL through the one instruction
writer (``activities/payments/instructions.py``: ``INSERT … SELECT … ON CONFLICT DO NOTHING`` on
the unique idempotency key), so 100,000 entitlements take a few statements, a re-run or a retry
after a crash creates nothing twice, and the list never passes through workflow history."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, bindparam, text
from sqlmodel import Session
from temporalio import activity

from activities.payments import instructions
from activities.payments.bankfile import line_problem
from activities.payments.models import (
    CampaignCompile,
    CampaignCompiled,
    CampaignRow,
    CompileRequest,
    CompileResult,
    CutoffRequest,
    Cutoffs,
    HeldReason,
    LineRange,
    PayrollRunRow,
    ProgrammeTotal,
    RecheckRequest,
    RecheckResult,
)
from jiuzhu.calendar_store import working_calendar
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import UtcDateTime
from jiuzhu.db.models_payments import Campaign, PayrollRun
from workflows.payments.contract import PAYROLL_SETTLED, PaymentKind, PaymentStatus

CENT = Decimal("0.01")
CAMPAIGN_CHUNK = 20_000
CHECK_PAGE = 10_000
SETTLED = frozenset(s.value for s in PAYROLL_SETTLED)
# Heartbeat details[1] of ``compile_payroll`` once the format check is done (a retry skips it).
CHECK_DONE = 1 << 62
# A batch's held lines (``:b``, ``:held``). Every held line carries its reason, so with
# ``failure_reason`` in the condition the partial index of the batch's lines with a problem
# (``ix_payment_instruction_batch_problems``, migration 0018) finds them without reading the
# batch: a million-line month read every line for each held total, 0.5–0.8 s on PostgreSQL.
_HELD = "payroll_id = :b AND status = :held AND failure_reason IS NOT NULL"
# A month pays what up to this many earlier months could not (``_pay_arrears``), looking again
# at this many account ids below each one's reach: on PostgreSQL an account whose insert took
# its id before the month read its reach may commit after it (a few at most; an account that
# was in that month has its line, and the unique key leaves it as it is).
ARREARS_MONTHS = 12
ARREARS_MARGIN = 100


def _dec(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _id_range(session: Session, county: str) -> tuple[int, int]:
    lo, hi = session.execute(
        text("SELECT MIN(id), MAX(id) FROM entitlement_account WHERE county_code = :c"),
        {"c": county},
    ).one()
    return int(lo or 0), int(hi or 0)


def _resume_point(lo: int) -> int:
    """Where a retried attempt resumes: after the last chunk it committed (heartbeat details)."""
    details = activity.info().heartbeat_details
    if details:
        return int(details[0])
    return lo - 1


def _check_resume_point() -> int:
    """Where a retried attempt resumes the format check (heartbeat details[1])."""
    details = activity.info().heartbeat_details
    if details and len(details) > 1:
        return int(details[1])
    return 0


class PayrollActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hold_unwritable(self, batch_id: str, done: int, after: int = 0) -> None:
        """Check every pending line of the batch against the bank file format, a keyset page
        at a time (by id), and hold each line that cannot be written (the reason recorded), so
        the rest of the batch is funded and paid. Heartbeats ``(done, last_id)``."""
        pending = (PaymentStatus.PENDING,)
        for rows in instructions.line_pages(self.engine, batch_id, pending, after, CHECK_PAGE):
            held = [
                (ref, problem)
                for _, ref, account, name, payee_id, _, prog, period in rows
                if (problem := line_problem((ref, account, name, payee_id, prog, period)))
                is not None
            ]
            if held:
                with unit_of_work(self.engine) as session:
                    instructions.hold(session, batch_id, held)
            activity.heartbeat(done, rows[-1][0])

    def hold_stopped(self, req: RecheckRequest, heartbeat: Callable[[], None]) -> None:
        """Hold the batch's lines stopped since they were compiled (``instructions.
        hold_stopped_chunk``: deaths, suspensions, terminations, changed amounts), one id range
        of ``chunk_size`` lines per transaction, then the batch's lines of earlier months
        (``req.arrears``) as of their own month — with ``req.since``, only the lines whose
        account or deaths changed after it —, then the person-level duplicates
        (``instructions.hold_duplicate_persons``) of the month and of each earlier month the batch
        pays. Set-based: nothing is loaded into memory."""
        with Session(self.engine) as session:
            lo, hi = session.execute(
                text("SELECT MIN(id), MAX(id) FROM payment_instruction WHERE payroll_id = :b"),
                {"b": req.payroll_id},
            ).one()
        after, hi = int(lo or 0) - 1, int(hi or 0)
        own = [
            LineRange(
                period_index=req.period_index,
                monthly_key=req.monthly_key,
                quarterly_key=req.quarterly_key,
                after=first,
                upto=min(first + req.chunk_size, hi),
            )
            for first in range(after, hi, max(1, req.chunk_size))
        ]
        for lines in [*own, *req.arrears]:  # earlier months' lines as of their own month
            with unit_of_work(self.engine) as session:
                instructions.hold_stopped_chunk(
                    session,
                    batch_id=req.payroll_id,
                    period_index=lines.period_index,
                    monthly_key=lines.monthly_key,
                    quarterly_key=lines.quarterly_key,
                    after=lines.after,
                    upto=lines.upto,
                    since=req.since,
                )
            heartbeat()
        # the month's own period, then each earlier month the batch pays (一人一户 holds there too)
        periods = {(req.monthly_key, req.quarterly_key)}
        periods |= {(lines.monthly_key, lines.quarterly_key) for lines in req.arrears}
        for monthly_key, quarterly_key in sorted(periods):
            with unit_of_work(self.engine) as session:
                instructions.hold_duplicate_persons(
                    session,
                    batch_id=req.payroll_id,
                    monthly_key=monthly_key,
                    quarterly_key=quarterly_key,
                )

    @activity.defn
    def recheck_batch(self, req: RecheckRequest) -> RecheckResult:
        """The last-moment re-check of a compiled month (after the death check has told each
        entitlement of the deaths on the register): hold what must no longer be paid as
        compiled, and return what remains to pay and everything held, by reason. Idempotent
        (a held line stays held; a repeat holds nothing new)."""
        before = self._held(req.payroll_id)
        if req.since is None or self._changed_since(req.since):
            self.hold_stopped(req, lambda: activity.heartbeat())
        pending = self._pending(req.payroll_id, 0, 0)
        count, total = self._held(req.payroll_id)
        with Session(self.engine) as session:
            rows = session.execute(
                text(
                    "SELECT failure_reason, COUNT(*), SUM(amount) FROM payment_instruction "
                    f"WHERE {_HELD} GROUP BY failure_reason ORDER BY failure_reason"
                ),
                {"b": req.payroll_id, "held": PaymentStatus.HELD.value},
            ).all()
        return RecheckResult(
            newly_held=count - before[0],
            newly_held_total=total - before[1],
            pending_count=pending.pending_count,
            pending_total=pending.pending_total,
            by_programme=pending.by_programme,
            held_count=count,
            held_total=total,
            held_by_reason=[
                HeldReason(reason=str(r[0] or ""), count=int(r[1]), total=_dec(r[2])) for r in rows
            ],
        )

    def _changed_since(self, since: datetime) -> bool:
        """Whether anything the re-check looks at was recorded after ``since``: a death loaded,
        or an entitlement account (its status, amount or members' shares) written. Across
        counties, since a person paid in two households may live in another county."""
        with Session(self.engine) as session:
            for table, column in (
                ("death_record", "loaded_at"),
                ("entitlement_account", "updated_at"),
            ):
                found = session.execute(
                    text(f"SELECT 1 FROM {table} WHERE {column} > :t LIMIT 1").bindparams(
                        bindparam("t", type_=UtcDateTime())
                    ),
                    {"t": since},
                ).first()
                if found is not None:
                    return True
        return False

    def _held(self, batch_id: str) -> tuple[int, Decimal]:
        """How many of the batch's lines are held, and their total (yuan)."""
        with Session(self.engine) as session:
            row = session.execute(
                text(f"SELECT COUNT(*), SUM(amount) FROM payment_instruction WHERE {_HELD}"),
                {"b": batch_id, "held": PaymentStatus.HELD.value},
            ).one()
        return int(row[0] or 0), _dec(row[1])

    @activity.defn
    def payroll_cutoffs(self, req: CutoffRequest) -> Cutoffs:
        """Each cut-off is the Nth, or the last working day before it (holidays, weekends and
        make-up working days from the State Council schedule in force)."""
        cal = working_calendar(self.engine)
        data = cal.nth_of_month_or_earlier(req.year, req.month, req.data_day)
        funds = cal.nth_of_month_or_earlier(req.year, req.month, req.funds_day)
        credit = cal.nth_of_month_or_earlier(req.year, req.month, req.credit_day)
        return Cutoffs(
            data=data.date,
            funds=funds.date,
            credit=credit.date,
            provisional=data.provisional or funds.provisional or credit.provisional,
        )

    @activity.defn
    def compile_payroll(self, req: CompileRequest) -> CompileResult:
        """Record the month's instructions from active entitlements, in chunks of ``chunk_size``
        read-model rows, each committed and heartbeated; then queue earlier failed lines again.
        Idempotent: the unique key (household, programme, period) ignores what exists."""
        with Session(self.engine) as session:
            lo, hi = _id_range(session, req.county_code)
        after = _resume_point(lo)
        now = datetime.now(UTC)
        while after < hi:
            upto = min(after + req.chunk_size, hi)
            with unit_of_work(self.engine) as session:
                instructions.insert_payroll_chunk(
                    session,
                    payroll_id=req.payroll_id,
                    county=req.county_code,
                    after=after,
                    upto=upto,
                    period_index=req.period_index,
                    quarterly=req.quarterly,
                    monthly_key=req.monthly_key,
                    quarterly_key=req.quarterly_key,
                    now=now,
                )
            after = upto
            activity.heartbeat(after)
        arrears = self._pay_arrears(req, lo, hi, now)
        with unit_of_work(self.engine) as session:
            instructions.requeue_failed(session, payroll_id=req.payroll_id, county=req.county_code)
        self.hold_unwritable(req.payroll_id, hi, _check_resume_point())
        self.hold_stopped(
            RecheckRequest(
                payroll_id=req.payroll_id,
                period_index=req.period_index,
                monthly_key=req.monthly_key,
                quarterly_key=req.quarterly_key,
                chunk_size=req.chunk_size,
                arrears=arrears,
            ),
            lambda: activity.heartbeat(hi, CHECK_DONE),
        )
        with Session(self.engine) as session:
            counts = session.execute(
                text(
                    "SELECT SUM(CASE WHEN attempts = 0 THEN 1 ELSE 0 END), "
                    "SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), "
                    "SUM(CASE WHEN attempts = 0 AND period NOT IN (:mkey, :qkey) "
                    "THEN 1 ELSE 0 END) FROM payment_instruction "
                    "WHERE payroll_id = :b AND status IN (:pending, :held)"
                ),
                {
                    "b": req.payroll_id,
                    "pending": PaymentStatus.PENDING.value,
                    "held": PaymentStatus.HELD.value,
                    "mkey": req.monthly_key,
                    "qkey": req.quarterly_key,
                },
            ).one()
        result = self._pending(req.payroll_id, int(counts[0] or 0), int(counts[1] or 0))
        return result.model_copy(
            update={"arrears": int(counts[2] or 0), "arrears_ranges": arrears, "covered_upto": hi}
        )

    def _pay_arrears(self, req: CompileRequest, lo: int, hi: int, now: datetime) -> list[LineRange]:
        """What the county's earlier months (up to ``ARREARS_MONTHS`` back) owed and could not
        pay: an entitlement written after such a month was compiled (a decision recorded late,
        dated on paper before the month; its account id above the month's ``covered_upto``),
        payable in that month, gets that month's line in this batch — the line the month would
        have had (amount in force then, quarterly as it paid), under the same key, so once
        (seed 002: no missing and no double payment). Returns the id range of each month's
        lines, which the re-checks look at as of that month (a death, stop or change recorded
        before the bank file holds them as it holds the month's own)."""
        with Session(self.engine) as session:
            runs = session.execute(
                text(
                    "SELECT period, covered_upto, quarterly_tekun FROM payroll_run "
                    "WHERE county_code = :c AND covered_upto IS NOT NULL"
                ),
                {"c": req.county_code},
            ).all()
        ranges: list[LineRange] = []
        for period, reach, quarterly in runs:
            year, month = (int(part) for part in str(period).split("-"))
            index = year * 12 + month - 1
            if not req.period_index - ARREARS_MONTHS <= index < req.period_index:
                continue
            quarter_key = f"{year:04d}-Q{(month - 1) // 3 + 1}"
            before = self._last_line(req.payroll_id)
            with unit_of_work(self.engine) as session:
                instructions.insert_payroll_chunk(
                    session,
                    payroll_id=req.payroll_id,
                    county=req.county_code,
                    after=max(lo - 1, int(reach) - ARREARS_MARGIN),
                    upto=hi,
                    period_index=index,
                    quarterly=bool(quarterly),
                    monthly_key=str(period),
                    quarterly_key=quarter_key,
                    now=now,
                )
            upto = self._last_line(req.payroll_id)
            if upto > before:
                ranges.append(
                    LineRange(
                        period_index=index,
                        monthly_key=str(period),
                        quarterly_key=quarter_key,
                        after=before,
                        upto=upto,
                    )
                )
        return ranges

    def _last_line(self, batch_id: str) -> int:
        """The batch's highest line id (0 when it has none): new lines are above it."""
        with Session(self.engine) as session:
            last = session.execute(
                text("SELECT MAX(id) FROM payment_instruction WHERE payroll_id = :b"),
                {"b": batch_id},
            ).scalar_one()
        return int(last or 0)

    def _pending(self, batch_id: str, inserted: int, retried: int) -> CompileResult:
        with Session(self.engine) as session:
            rows = session.execute(
                text(
                    "SELECT programme, COUNT(*), SUM(amount) FROM payment_instruction "
                    "WHERE payroll_id = :b AND status IN (:pending, :sent) GROUP BY programme "
                    "ORDER BY programme"
                ),
                {
                    "b": batch_id,
                    "pending": PaymentStatus.PENDING.value,
                    "sent": PaymentStatus.SENT.value,
                },
            ).all()
        held_count, held_total = self._held(batch_id)
        by_programme = [
            ProgrammeTotal(programme=r[0], count=int(r[1]), total=_dec(r[2])) for r in rows
        ]
        return CompileResult(
            inserted=inserted,
            retried=retried,
            pending_count=sum(p.count for p in by_programme),
            pending_total=sum((p.total for p in by_programme), Decimal("0.00")),
            by_programme=by_programme,
            held_count=held_count,
            held_total=held_total,
        )

    @activity.defn
    def compile_campaign(self, req: CampaignCompile) -> CampaignCompiled:
        """One instruction per household and programme for every active entitlement: the
        amount per covered person × persons, provincial and local shares recorded. Idempotent
        on (campaign, household, programme)."""
        with Session(self.engine) as session:
            lo, hi = _id_range(session, req.county_code)
        after = _resume_point(lo)
        now = datetime.now(UTC)
        while after < hi:
            upto = min(after + CAMPAIGN_CHUNK, hi)
            with unit_of_work(self.engine) as session:
                instructions.insert_campaign_chunk(
                    session,
                    campaign_id=req.campaign_id,
                    key_prefix=req.key_prefix,
                    period=req.period,
                    period_index=req.period_index,
                    county=req.county_code,
                    programmes=req.programmes,
                    amount_per_person=req.amount_per_person,
                    provincial_ratio=req.provincial_ratio,
                    after=after,
                    upto=upto,
                    now=now,
                )
            after = upto
            activity.heartbeat(after)
        self.hold_unwritable(req.campaign_id, hi, _check_resume_point())
        return self._campaign_totals(req.campaign_id)

    @activity.defn
    def recheck_campaign(self, req: CampaignCompile) -> CampaignCompiled:
        """The campaign's last-moment re-check (after the death check has told each entitlement
        of the deaths on the register; before finance confirms the total, and again before the
        bank file): ``instructions.recheck_campaign``; the totals as they now stand."""
        with unit_of_work(self.engine) as session:
            instructions.recheck_campaign(
                session,
                campaign_id=req.campaign_id,
                period_index=req.period_index,
                amount_per_person=req.amount_per_person,
                provincial_ratio=req.provincial_ratio,
            )
        return self._campaign_totals(req.campaign_id)

    def _campaign_totals(self, campaign_id: str) -> CampaignCompiled:
        with Session(self.engine) as session:
            held = session.execute(
                text(f"SELECT COUNT(*) FROM payment_instruction WHERE {_HELD}"),
                {"b": campaign_id, "held": PaymentStatus.HELD.value},
            ).scalar_one()
            row = session.execute(
                text(
                    "SELECT COUNT(*), SUM(amount), SUM(provincial_share), SUM(local_share) "
                    "FROM payment_instruction WHERE payroll_id = :b AND kind = :kind "
                    "AND status IN (:pending, :sent)"
                ),
                {
                    "b": campaign_id,
                    "kind": PaymentKind.CAMPAIGN.value,
                    "pending": PaymentStatus.PENDING.value,
                    "sent": PaymentStatus.SENT.value,
                },
            ).one()
        return CampaignCompiled(
            inserted=int(row[0]),
            pending_count=int(row[0]),
            total=_dec(row[1]),
            provincial_total=_dec(row[2]),
            local_total=_dec(row[3]),
            held_count=int(held or 0),
        )

    @activity.defn
    def find_payroll_run(self, payroll_id: str) -> PayrollRunRow | None:
        """The month's recorded run, if any (a re-run returns it unchanged once compiled)."""
        with Session(self.engine) as session:
            existing = session.get(PayrollRun, payroll_id)
            if existing is None:
                return None
            return PayrollRunRow.model_validate(existing.model_dump())

    @activity.defn
    def save_payroll_run(self, row: PayrollRunRow) -> None:
        """Upsert the month's row. A month whose list was compiled (it may have moved money)
        is never overwritten by another run: its totals, bank file and reconciliation stay."""
        with unit_of_work(self.engine) as session:
            existing = session.get(PayrollRun, row.payroll_id)
            if existing is None:
                session.add(PayrollRun(**row.model_dump()))
                return
            if row.run_id == existing.run_id and row.revision < existing.revision:
                return  # a late write of this run
            if row.run_id != existing.run_id and existing.status in SETTLED:
                activity.logger.warning(
                    "payroll %s is %s: another run does not overwrite it",
                    row.payroll_id,
                    existing.status,
                )
                return
            for key, value in row.model_dump().items():
                setattr(existing, key, value)
            existing.updated_at = datetime.now(UTC)
            session.add(existing)

    @activity.defn
    def save_campaign(self, row: CampaignRow) -> None:
        with unit_of_work(self.engine) as session:
            existing = session.get(Campaign, row.campaign_id)
            if existing is None:
                return  # the API creates the row before starting the workflow
            for key, value in row.model_dump().items():
                setattr(existing, key, value)
            existing.updated_at = datetime.now(UTC)
            session.add(existing)
