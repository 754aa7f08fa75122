"""The cost of ``/metrics``: one computation of the business gauges on a SQLite database with
100,000 cases, 20,000 outbox messages and 50,000 payment instructions, and the per-request cost
of the HTTP metrics middleware. Prints the figures (README "Metrics and traces").

    .venv/bin/python bench/metrics_scrape.py
"""

import asyncio
import random
import tempfile
import time
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import insert

from api.metrics import HttpMetrics, metrics_registry
from jiuzhu.db.engine import make_engine
from jiuzhu.db.migrate import upgrade
from jiuzhu.db.models import CaseRecord, OutboxMessage, PaymentInstruction

CASES = 100_000
STATUSES = ["submitted", "accepted", "verification", "publicity", "approved", "refused"]


def scrape_ms() -> float:
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(1)
    with engine.begin() as conn:
        conn.execute(
            insert(CaseRecord),
            [
                {
                    "case_id": f"C{i}",
                    "workflow_id": f"application-C{i}",
                    "case_kind": rng.choice(["application", "entitlement"]),
                    "programme": rng.choice(["dibao", "tekun"]),
                    "status": rng.choice(STATUSES),
                    "area_code": "419901001001",
                    "county_code": "419901",
                    "township_code": f"4199010{rng.randint(10, 40)}",
                    "household_id": f"H{i}",
                    "applicant_name": "测试",
                    "applicant_id_number": str(i),
                    "household_size": 2,
                    "overdue": rng.random() < 0.05,
                    "detail": {},
                }
                for i in range(CASES)
            ],
        )
        conn.execute(
            insert(OutboxMessage),
            [
                {
                    "dedupe_key": f"d{i}",
                    "kind": rng.choice(["reminder", "escalation"]),
                    "recipient_role": "county_officer",
                    "recipient_area": "419901",
                    "case_id": f"C{i}",
                    "workflow_id": f"application-C{i}",
                    "message_zh": "提醒",
                }
                for i in range(20_000)
            ],
        )
        conn.execute(
            insert(PaymentInstruction),
            [
                {
                    "idempotency_key": f"k{i}",
                    "kind": "payroll",
                    "case_id": f"C{i}",
                    "household_id": f"H{i}",
                    "programme": "dibao",
                    "area_code": "419901001001",
                    "county_code": "419901",
                    "period": "2027-01",
                    "amount": 100,
                    "payee_name": "测试",
                    "payee_id_number": str(i),
                    "card_account": "6217000000000000",
                    "status": rng.choice(["paid", "failed", "flagged", "held"]),
                }
                for i in range(50_000)
            ],
        )
    registry = metrics_registry(lambda: engine, 0)
    generate_latest(registry)
    runs = 10
    start = time.perf_counter()
    for _ in range(runs):
        generate_latest(registry)
    engine.dispose()
    return (time.perf_counter() - start) / runs * 1000


class _Route:
    path = "/applications/{application_id}"


async def middleware_us() -> float:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        return None

    async def receive() -> Any:
        return {}

    counted = HttpMetrics(app, CollectorRegistry())
    scope = {"type": "http", "method": "GET", "route": _Route()}
    n = 100_000
    start = time.perf_counter()
    for _ in range(n):
        await app(scope, receive, send)
    bare = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(n):
        await counted(scope, receive, send)
    return (time.perf_counter() - start - bare) / n * 1e6


def main() -> None:
    print(f"business gauges, {CASES} cases (SQLite): {scrape_ms():.0f} ms a computation")
    print(f"HTTP metrics middleware: {asyncio.run(middleware_us()):.1f} µs a request")


if __name__ == "__main__":
    main()
