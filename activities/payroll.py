"""Payroll activities: cut-off dates from the working-day calendar, and the month's payment list
compiled from the entitlement read model in set-based, chunked SQL (``INSERT … SELECT … ON
CONFLICT DO NOTHING`` on the unique idempotency key), so 100,000 entitlements take a few
statements, a re-run or a retry after a crash creates nothing twice, and the list never passes
through workflow history."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Engine, TextClause, bindparam, text
from sqlmodel import Session
from temporalio import activity

from jiuzhu.calendar_store import working_calendar
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_payments import Campaign, PayrollRun
from workflows.payroll_models import (
    CampaignCompile,
    CampaignCompiled,
    CampaignRow,
    CompileRequest,
    CompileResult,
    CutoffRequest,
    Cutoffs,
    PayrollRunRow,
    ProgrammeTotal,
)

CENT = Decimal("0.01")


def _with_now(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("now", type_=DateTime(timezone=True)))


PAYING = "('active', 'withdrawal', 'terminating')"
CASH_PROGRAMMES = "('dibao', 'tekun')"

# One chunk of the month's list. ``q`` marks dispersed 特困 paid quarterly: in the quarter's first
# month (or in its first payable month when it starts mid-quarter), for the months of the
# quarter it covers. The amount in force for the month is the adjusted one once its month came.
COMPILE_SQL = _with_now(
    f"""
WITH c AS (
  SELECT e.*,
    CASE WHEN :quarterly = 1 AND e.programme = 'tekun' AND e.centralised = 0
         THEN 1 ELSE 0 END AS q,
    CASE WHEN e.next_amount_from IS NOT NULL AND :p >= e.next_amount_from
         THEN e.next_amount ELSE e.payable_amount END AS amt
  FROM entitlement_account e
  WHERE e.county_code = :county AND e.id > :after AND e.id <= :upto
    AND e.status IN {PAYING} AND e.programme IN {CASH_PROGRAMMES}
    AND e.start_month <= :p AND (e.end_month IS NULL OR e.end_month >= :p)
)
INSERT INTO payment_instruction (
  idempotency_key, kind, case_id, household_id, programme, area_code, county_code, period,
  amount, payee_name, payee_id_number, card_account, funding_source, payroll_id, status,
  attempts, created_at)
SELECT
  'payroll:' || c.household_id || ':' || c.programme || ':'
    || (CASE WHEN c.q = 1 THEN :qkey ELSE :mkey END),
  'payroll', c.case_id, c.household_id, c.programme, c.area_code, c.county_code,
  CASE WHEN c.q = 1 THEN :qkey ELSE :mkey END,
  ROUND(c.amt * (CASE WHEN c.q = 1 THEN
      (CASE WHEN c.end_month IS NOT NULL AND c.end_month < :q_end THEN c.end_month
            ELSE :q_end END)
      - (CASE WHEN c.start_month > :q_start THEN c.start_month ELSE :q_start END) + 1
    ELSE 1 END), 2),
  c.payee_name, c.payee_id_number, c.card_account, 'county', :payroll_id, 'pending', 0, :now
FROM c
WHERE (c.q = 0 OR :p = :q_start OR c.start_month = :p) AND c.amt > 0
ON CONFLICT (idempotency_key) DO NOTHING
"""
)

# Failed lines of earlier runs are paid by this run, on the card account now on record.
REQUEUE_SQL = text(
    """
UPDATE payment_instruction
SET payroll_id = :payroll_id, status = 'pending', failure_reason = NULL,
    card_account = COALESCE((SELECT e.card_account FROM entitlement_account e
                             WHERE e.case_id = payment_instruction.case_id), card_account)
WHERE kind = 'payroll' AND county_code = :county AND status = 'failed'
  AND payroll_id <> :payroll_id
"""
)

CAMPAIGN_SQL = _with_now(
    f"""
INSERT INTO payment_instruction (
  idempotency_key, kind, case_id, household_id, programme, area_code, county_code, period,
  amount, payee_name, payee_id_number, card_account, funding_source, provincial_share,
  local_share, payroll_id, status, attempts, created_at)
SELECT
  :prefix || ':' || e.household_id || ':' || e.programme,
  'campaign', e.case_id, e.household_id, e.programme, e.area_code, e.county_code, :period,
  ROUND(:amount * e.members_paid, 2), e.payee_name, e.payee_id_number, e.card_account,
  'provincial_local',
  ROUND(:amount * e.members_paid * :ratio, 2),
  ROUND(:amount * e.members_paid, 2) - ROUND(:amount * e.members_paid * :ratio, 2),
  :batch, 'pending', 0, :now
FROM entitlement_account e
WHERE e.county_code = :county AND e.id > :after AND e.id <= :upto
  AND e.status IN {PAYING} AND e.programme IN :programmes
  AND e.start_month <= :p AND (e.end_month IS NULL OR e.end_month >= :p)
  AND e.members_paid > 0
ON CONFLICT (idempotency_key) DO NOTHING
"""
)


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


class PayrollActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
        q_start = req.period_index - req.period_index % 3
        with Session(self.engine) as session:
            lo, hi = _id_range(session, req.county_code)
        after = _resume_point(lo)
        now = datetime.now(UTC)
        while after < hi:
            upto = min(after + req.chunk_size, hi)
            with unit_of_work(self.engine) as session:
                session.execute(
                    COMPILE_SQL,
                    {
                        "county": req.county_code,
                        "after": after,
                        "upto": upto,
                        "p": req.period_index,
                        "quarterly": 1 if req.quarterly else 0,
                        "q_start": q_start,
                        "q_end": q_start + 2,
                        "mkey": req.monthly_key,
                        "qkey": req.quarterly_key,
                        "payroll_id": req.payroll_id,
                        "now": now,
                    },
                )
            after = upto
            activity.heartbeat(after)
        with unit_of_work(self.engine) as session:
            requeued = session.execute(
                REQUEUE_SQL, {"payroll_id": req.payroll_id, "county": req.county_code}
            )
            retried = max(requeued.rowcount or 0, 0)  # type: ignore[attr-defined]
        with Session(self.engine) as session:
            inserted = int(
                session.execute(
                    text(
                        "SELECT COUNT(*) FROM payment_instruction WHERE payroll_id = :b "
                        "AND status = 'pending' AND attempts = 0"
                    ),
                    {"b": req.payroll_id},
                ).scalar_one()
            )
        return self._pending(req.payroll_id, inserted, retried)

    def _pending(self, batch_id: str, inserted: int, retried: int) -> CompileResult:
        with Session(self.engine) as session:
            rows = session.execute(
                text(
                    "SELECT programme, COUNT(*), SUM(amount) FROM payment_instruction "
                    "WHERE payroll_id = :b AND status IN ('pending', 'sent') GROUP BY programme "
                    "ORDER BY programme"
                ),
                {"b": batch_id},
            ).all()
        by_programme = [
            ProgrammeTotal(programme=r[0], count=int(r[1]), total=_dec(r[2])) for r in rows
        ]
        return CompileResult(
            inserted=inserted,
            retried=retried,
            pending_count=sum(p.count for p in by_programme),
            pending_total=sum((p.total for p in by_programme), Decimal("0.00")),
            by_programme=by_programme,
        )

    @activity.defn
    def compile_campaign(self, req: CampaignCompile) -> CampaignCompiled:
        """One instruction per household and programme for every active entitlement: the
        amount per covered person × persons, provincial and local shares recorded. Idempotent
        on (campaign, household, programme)."""
        stmt = CAMPAIGN_SQL.bindparams(bindparam("programmes", expanding=True))
        with Session(self.engine) as session:
            lo, hi = _id_range(session, req.county_code)
        after = _resume_point(lo)
        now = datetime.now(UTC)
        while after < hi:
            upto = min(after + 20_000, hi)
            with unit_of_work(self.engine) as session:
                session.execute(
                    stmt,
                    {
                        "prefix": req.key_prefix,
                        "period": req.period,
                        "amount": float(req.amount_per_person),
                        "ratio": float(req.provincial_ratio),
                        "batch": req.campaign_id,
                        "now": now,
                        "county": req.county_code,
                        "after": after,
                        "upto": upto,
                        "programmes": req.programmes,
                        "p": req.period_index,
                    },
                )
            after = upto
            activity.heartbeat(after)
        with Session(self.engine) as session:
            row = session.execute(
                text(
                    "SELECT COUNT(*), SUM(amount), SUM(provincial_share), SUM(local_share) "
                    "FROM payment_instruction WHERE payroll_id = :b AND kind = 'campaign' "
                    "AND status IN ('pending', 'sent')"
                ),
                {"b": req.campaign_id},
            ).one()
        return CampaignCompiled(
            inserted=int(row[0]),
            pending_count=int(row[0]),
            total=_dec(row[1]),
            provincial_total=_dec(row[2]),
            local_total=_dec(row[3]),
        )

    @activity.defn
    def save_payroll_run(self, row: PayrollRunRow) -> None:
        with unit_of_work(self.engine) as session:
            existing = session.get(PayrollRun, row.payroll_id)
            if existing is None:
                session.add(PayrollRun(**row.model_dump()))
                return
            if row.run_id == existing.run_id and row.revision < existing.revision:
                return  # a late write of this run; a new run of the month always wins
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
