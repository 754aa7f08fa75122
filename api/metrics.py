"""The API's ``/metrics`` (Prometheus text format): HTTP requests by route and status with their
latencies, and the business gauges an officer watches, read from the Jiuzhu database.

Labels hold route templates, statuses, kinds, roles and area codes only — never a raw path, an
id, a name or an ID number. The business gauges are computed at scrape time by a few aggregate
queries (off the event loop: the endpoint is a sync route, run in the threadpool) and kept for
``JIUZHU_METRICS_CACHE_S`` seconds, so a storm of scrapes costs the database one round."""

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiuzhu.contract import CaseKind
from jiuzhu.db.models import CaseRecord, OutboxMessage, PaymentInstruction
from jiuzhu.db.models_payments import PayrollRun
from jiuzhu.db.models_temporary import ReserveFund
from jiuzhu.logging import get_logger
from jiuzhu.settings import METRICS_DIR_VAR
from workflows.applications.contract import CLOSED_STATUSES
from workflows.entitlements.contract import EntitlementStatus
from workflows.listings.contract import ListingStatus
from workflows.monitoring.contract import WarningStatus
from workflows.payments.contract import (
    CampaignStatus,
    DailyBatchStatus,
    PaymentStatus,
    PayrollStatus,
)
from workflows.recognitions.contract import RecognitionStatus
from workflows.recoveries.contract import RecoveryStatus
from workflows.referrals.contract import ReferralStatus
from workflows.supervision.contract import ComplaintStatus, SpotCheckStatus
from workflows.temporary.contract import TemporaryStatus

# The statuses in which a case of each kind is closed: every other status counts as open.
CLOSED_BY_KIND: dict[str, frozenset[str]] = {
    CaseKind.APPLICATION: frozenset(CLOSED_STATUSES),
    CaseKind.ENTITLEMENT: frozenset({EntitlementStatus.ENDED}),
    CaseKind.TEMPORARY: frozenset({TemporaryStatus.CLOSED}),
    CaseKind.RECOVERY: frozenset({RecoveryStatus.RECOVERED, RecoveryStatus.WRITTEN_OFF}),
    CaseKind.PAYROLL: frozenset(
        {PayrollStatus.RECONCILED, PayrollStatus.NOTHING_TO_PAY, PayrollStatus.LAUNCHED}
    ),
    CaseKind.BANK_BATCH: frozenset(
        {DailyBatchStatus.RECONCILED, DailyBatchStatus.NOTHING_TO_PAY, DailyBatchStatus.LAUNCHED}
    ),
    CaseKind.CAMPAIGN: frozenset({CampaignStatus.RECONCILED, CampaignStatus.NOTHING_TO_PAY}),
    CaseKind.SPOT_CHECK: frozenset({SpotCheckStatus.COMPLETED}),
    CaseKind.COMPLAINT: frozenset({ComplaintStatus.CLOSED}),
    # A warning's home visit done: its outcome's own case (if any) carries on.
    CaseKind.WARNING: frozenset(set(WarningStatus) - {WarningStatus.AWAITING_VISIT}),
    CaseKind.REFERRAL: frozenset({ReferralStatus.ANSWERED, ReferralStatus.WITHDRAWN}),
    CaseKind.RECOGNITION: frozenset({RecognitionStatus.ENDED}),
    # A village's listing that is up to date on its board needs nobody.
    CaseKind.LISTING: frozenset({ListingStatus.POSTED}),
}

# Payment instructions that need a person: failed at the bank (retried next run), flagged after
# the last attempt, held out of a bank file.
PROBLEM_PAYMENTS = (PaymentStatus.FAILED, PaymentStatus.FLAGGED, PaymentStatus.HELD)

UNMATCHED_ROUTE = "<unmatched>"

log = get_logger("jiuzhu.metrics")


def is_open(case_kind: str, status: str) -> bool:
    return status not in CLOSED_BY_KIND.get(case_kind, frozenset())


class HttpMetrics:
    """Plain ASGI middleware counting each HTTP request by method, route template (e.g.
    ``/applications/{application_id}``; ``<unmatched>`` when no route matched) and status, and
    timing it. Two dictionary look-ups and a clock read per request."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        # Several API processes: each writes its counts to the multiprocess directory and the
        # scrape sums them (``metrics_registry``); registered here too, they would be counted
        # twice, by this process's values and by the sum.
        own = None if multiprocess() else registry
        self.requests = Counter(
            "jiuzhu_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "jiuzhu_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route.",
            ["method", "route"],
            registry=own,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            method = scope.get("method", "")
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - start)


def _gauge(
    name: str, documentation: str, labels: list[str], rows: Iterable[Any]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *values, amount in rows:
        family.add_metric([str(v) for v in values], float(amount or 0))
    return family


class BusinessGauges(Collector):
    """The business gauges, computed from the database at most once per ``cache_s`` seconds:

    - ``jiuzhu_open_cases{case_kind, programme, status}``: cases not yet closed (an approved
      application is closed: its entitlement case carries on).
    - ``jiuzhu_overdue_cases{township_code, case_kind}``: open cases with a deadline passed.
    - ``jiuzhu_outbox_waiting{kind, recipient_role}``: reminders and escalations not yet
      acknowledged by their recipient.
    - ``jiuzhu_payroll_months{county_code, status}``: monthly payrolls by where they stand.
    - ``jiuzhu_reserve_fund_balance_yuan{county_code, township_code}``: each township's
      reserve fund for emergency prepayments (备用金).
    - ``jiuzhu_problem_payments{kind, status}`` and ``jiuzhu_problem_payments_yuan{kind,
      status}``: payment instructions failed at the bank, flagged or held, and their amounts.
    - ``jiuzhu_business_metrics_query_seconds``: how long the last computation took, and
      ``jiuzhu_business_metrics_ok``: whether it succeeded.
    """

    def __init__(self, engine: Callable[[], Engine], cache_s: float) -> None:
        self.engine = engine
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._families: list[Metric] = []
        self._at = -float("inf")
        self._ok = True

    def describe(self) -> Iterable[Metric]:
        return []  # no query when the collector is registered

    def collect(self) -> Iterator[Metric]:
        with self._lock:  # concurrent scrapes wait for one computation
            if time.monotonic() - self._at >= self.cache_s:
                try:
                    self._families = self._compute()
                    self._ok = True
                except SQLAlchemyError:
                    # The HTTP metrics are still served; the gauges keep their last values
                    # and ``jiuzhu_business_metrics_ok`` says they are stale.
                    log.warning("business metrics not computed", exc_info=True)
                    self._ok = False
                self._at = time.monotonic()
            families = self._families
            ok = GaugeMetricFamily(
                "jiuzhu_business_metrics_ok",
                "1 when the last computation of the business gauges succeeded, 0 when the "
                "database did not answer (the gauges then hold their previous values).",
            )
            ok.add_metric([], 1.0 if self._ok else 0.0)
        yield from families
        yield ok

    def _compute(self) -> list[Metric]:
        start = time.perf_counter()
        with self.engine().connect() as conn:
            case_columns = (
                col(CaseRecord.case_kind),
                col(CaseRecord.programme),
                col(CaseRecord.status),
            )
            cases = conn.execute(select(*case_columns, func.count()).group_by(*case_columns)).all()
            overdue_columns = (
                col(CaseRecord.township_code),
                col(CaseRecord.case_kind),
                col(CaseRecord.status),
            )
            overdue_cases = conn.execute(
                select(*overdue_columns, func.count())
                .where(col(CaseRecord.overdue))
                .group_by(*overdue_columns)
            ).all()
            outbox_columns = (col(OutboxMessage.kind), col(OutboxMessage.recipient_role))
            outbox = conn.execute(
                select(*outbox_columns, func.count())
                .where(col(OutboxMessage.acknowledged_at).is_(None))
                .group_by(*outbox_columns)
            ).all()
            payroll_columns = (col(PayrollRun.county_code), col(PayrollRun.status))
            payrolls = conn.execute(
                select(*payroll_columns, func.count()).group_by(*payroll_columns)
            ).all()
            funds = conn.execute(
                select(
                    col(ReserveFund.county_code),
                    col(ReserveFund.township_code),
                    col(ReserveFund.balance_fen),
                )
            ).all()
            payment_columns = (col(PaymentInstruction.kind), col(PaymentInstruction.status))
            problems = conn.execute(
                select(*payment_columns, func.count(), func.sum(col(PaymentInstruction.amount)))
                .where(
                    col(PaymentInstruction.failure_reason).is_not(None),  # the partial index
                    col(PaymentInstruction.status).in_([s.value for s in PROBLEM_PAYMENTS]),
                )
                # status first: grouped by kind first, SQLite would walk the kind index (the
                # whole table) instead of the partial index of problem lines
                .group_by(*reversed(payment_columns))
            ).all()

        open_cases = {
            (kind, programme, status): count
            for kind, programme, status, count in cases
            if is_open(kind, status)
        }
        overdue: dict[tuple[str, str], int] = {}
        for township, kind, status, count in overdue_cases:
            if is_open(kind, status):
                overdue[(township, kind)] = overdue.get((township, kind), 0) + count
        families: list[Metric] = [
            _gauge(
                "jiuzhu_open_cases",
                "Cases not yet closed, by case kind, programme and status.",
                ["case_kind", "programme", "status"],
                ((*k, n) for k, n in sorted(open_cases.items())),
            ),
            _gauge(
                "jiuzhu_overdue_cases",
                "Open cases with a statutory deadline passed, by township and case kind.",
                ["township_code", "case_kind"],
                ((*k, n) for k, n in sorted(overdue.items())),
            ),
            _gauge(
                "jiuzhu_outbox_waiting",
                "Reminders and escalations not yet acknowledged, by kind and recipient role.",
                ["kind", "recipient_role"],
                outbox,
            ),
            _gauge(
                "jiuzhu_payroll_months",
                "Monthly payrolls by county and status.",
                ["county_code", "status"],
                payrolls,
            ),
            _gauge(
                "jiuzhu_reserve_fund_balance_yuan",
                "Balance of each township's reserve fund for emergency prepayments, in yuan.",
                ["county_code", "township_code"],
                ((c, t, Decimal(fen) / 100) for c, t, fen in funds),
            ),
            _gauge(
                "jiuzhu_problem_payments",
                "Payment instructions failed at the bank, flagged or held, by kind and status.",
                ["kind", "status"],
                ((k, s, n) for k, s, n, _ in problems),
            ),
            _gauge(
                "jiuzhu_problem_payments_yuan",
                "Amount of the payment instructions failed, flagged or held, in yuan.",
                ["kind", "status"],
                ((k, s, total) for k, s, _, total in problems),
            ),
        ]
        took = GaugeMetricFamily(
            "jiuzhu_business_metrics_query_seconds",
            "Time the last computation of the business gauges took.",
        )
        took.add_metric([], time.perf_counter() - start)
        families.append(took)
        return families


def multiprocess() -> bool:
    """Whether this API runs as several processes (``METRICS_DIR_VAR`` set, see settings)."""
    return bool(os.environ.get(METRICS_DIR_VAR))


def metrics_registry(engine: Callable[[], Engine], cache_s: float) -> CollectorRegistry:
    """A registry of one app (tests build several apps in one process): the HTTP metrics are
    added by ``HttpMetrics`` — or, with several API processes, summed over all of them from
    the multiprocess directory —, the business gauges here."""
    registry = CollectorRegistry()
    registry.register(BusinessGauges(engine, cache_s))
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
