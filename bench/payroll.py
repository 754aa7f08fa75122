"""Payroll benchmark: one county's month for N active entitlements, to reconciled, on a persistent
dev server (SQLite file) with the real worker in this process and the application database on
SQLite (default, a temporary file) or PostgreSQL (``--database``: a server URL; a fresh
database is created on it and dropped afterwards).

    .venv/bin/python -m bench.payroll --n 10000
    .venv/bin/python -m bench.payroll --n 100000
    .venv/bin/python -m bench.payroll --n 100000 --database postgresql+psycopg://user@host/postgres
    scripts/pg_cluster.sh run sh -c '.venv/bin/python -m bench.payroll --n 100000 \
        --database "$JIUZHU_TEST_DATABASE_URL"'          # on a throw-away local cluster

The read model is seeded straight in SQL (no workflows), as written a month before the run
(``updated_at``). Between the compile and the funding the register moves as a county's does in
the days between them (not counted): 0.1 % of the entitlement accounts are written again and as
many deaths of people who receive nothing are loaded; the funding's last-moment re-check looks
at those. The run is the real ``PayrollWorkflow``:
death check, compile, funding Update, bank file, embedded bank, reconciliation. Printed: wall
time to a reconciled month (and per step: compile, bank file + bank, reconcile), payments per
second, peak RSS (VmHWM) of the worker (this process) and of the Temporal server, and a second
run of the same month, which must change nothing (it returns the month's existing record).

    .venv/bin/python -m bench.payroll --n 1000000     # goal: funded→reconciled < 45 s, < 400 MiB
"""

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from jiuzhu.contract import Actor, Role, search_attribute_cli_args
from jiuzhu.db.engine import make_engine, normalise_url
from jiuzhu.db.migrate import upgrade
from jiuzhu.db.models_payments import DeathRecord, EntitlementAccount
from jiuzhu.settings import Settings
from worker import make_worker
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.models import FundingConfirmation, PayrollInput
from workflows.payments.payroll import PayrollWorkflow

ROOT = Path(__file__).resolve().parents[1]
COUNTY = "419901"
YEAR, MONTH = 2027, 3


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_file: Path, port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    proc = subprocess.Popen(
        [
            binary,
            "server",
            "start-dev",
            "--db-filename",
            str(db_file),
            "--port",
            str(port),
            "--headless",
            "--log-level",
            "error",
            "--sqlite-pragma",
            "journal_mode=WAL",
            "--sqlite-pragma",
            "synchronous=NORMAL",
            *search_attribute_cli_args(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("dev server did not start")


async def connect(address: str) -> Client:
    """The dev server's port opens before its frontend is healthy: retry for up to 30 s."""
    for _ in range(150):
        try:
            return await Client.connect(address, data_converter=pydantic_data_converter)
        except RuntimeError:  # "Frontend is not healthy yet"
            await asyncio.sleep(0.2)
    return await Client.connect(address, data_converter=pydantic_data_converter)


def database_mib(conn: sa.Connection) -> float:
    """Size of the application database (all tables and indexes), MiB."""
    if conn.dialect.name == "postgresql":
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    else:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        size = pages * conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return int(size) / 2**20


def seed(engine: Engine, n: int) -> float:
    """N active 低保 entitlements of the county, straight into the read model (through the
    table's own insert, so every column type applies as the code's own writes)."""
    t0 = time.perf_counter()
    written = datetime.now(UTC) - timedelta(days=30)
    insert = EntitlementAccount.__table__.insert()  # type: ignore[attr-defined]
    batch: list[dict[str, object]] = []
    with engine.begin() as conn:
        for i in range(n):
            hh = f"HB{i:014d}"
            amount = Decimal(f"{300 + i % 400}.00")
            batch.append(
                {
                    "case_id": f"{hh}-dibao",
                    "workflow_id": f"entitlement-{hh}-dibao",
                    "household_id": hh,
                    "programme": "dibao",
                    "area_code": f"{COUNTY}00{1 + i % 3}001",
                    "county_code": COUNTY,
                    "township_code": f"{COUNTY}00{1 + i % 3}",
                    "status": "active",
                    "centralised": False,
                    "monthly_amount": amount,
                    "payable_amount": amount,
                    "members_total": 2,
                    "members_paid": 2,
                    "start_month": 2026 * 12,
                    "payee_name": f"户主{i}",
                    "payee_id_number": f"{COUNTY}19700101{i % 1000:03d}X",
                    "card_account": f"6217{i:012d}",
                    "bank_code": "",
                    "revision": 1,
                    "updated_at": written,
                }
            )
            if len(batch) == 20_000:
                conn.execute(insert, batch)
                batch = []
        if batch:
            conn.execute(insert, batch)
    return time.perf_counter() - t0


def churn(engine: Engine, n: int) -> int:
    """The register between compile and funding: every 1,000th entitlement account written
    again (a review that changed nothing the month pays) and as many deaths loaded of people
    who receive nothing. Returns how many of each."""
    count = max(1, n // 1000)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            EntitlementAccount.__table__.update()  # type: ignore[attr-defined]
            .where(EntitlementAccount.id % 1000 == 0)  # type: ignore[operator]
            .values(updated_at=now)
        )
        conn.execute(
            DeathRecord.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "id_number": f"{COUNTY}19400101{i % 1000:03d}{i % 10}",
                    "name": f"非救助对象{i}",
                    "date_of_death": date(YEAR, 1, 1),
                    "source": "公安户籍注销",
                    "loaded_by": "bench",
                    "loaded_at": now,
                }
                for i in range(count)
            ],
        )
    return count


async def _watch_sending(handle: object, t0: float, marks: dict[str, float]) -> None:
    """Record when the month is past ``sending`` (bank file written and answered): the first
    state after the funding confirmation may still be ``awaiting_funding``, which is not it."""
    past = (PayrollStatus.RECONCILING, PayrollStatus.RECONCILED, PayrollStatus.BANK_ERROR)
    while True:
        state = await handle.query(PayrollWorkflow.get_state)  # type: ignore[attr-defined]
        if state.status in past and "sent" not in marks:
            marks["sent"] = time.perf_counter() - t0
            return
        await asyncio.sleep(0.1)


async def run_month(
    client: Client,
    queue: str,
    chunk: int,
    marks: dict[str, float] | None = None,
    between: Callable[[], object] | None = None,
) -> tuple[float, float, object]:
    """Start the month, fund it as soon as it is compiled (``between`` run first, its time not
    counted), wait for reconciliation. Returns (seconds to compiled, seconds to reconciled,
    final state)."""
    t0 = time.perf_counter()
    handle = await client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(county_code=COUNTY, year=YEAR, month=MONTH, chunk_size=chunk),
        id=payroll_workflow_id(COUNTY, YEAR, MONTH),
        task_queue=queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    compiled_at = 0.0
    while True:
        state = await handle.query(PayrollWorkflow.get_state)
        if state.status is PayrollStatus.AWAITING_FUNDING and state.compiled is not None:
            compiled_at = time.perf_counter() - t0
            if between is not None:
                paused = time.perf_counter()
                between()
                t0 += time.perf_counter() - paused
            await handle.execute_update(
                PayrollWorkflow.confirm_funding,
                FundingConfirmation(
                    actor=Actor(
                        officer_id="bench-finance", name="财政", role=Role.FINANCE, area_code=COUNTY
                    ),
                    amount=state.compiled.pending_total,
                    reference="BENCH",
                ),
            )
            if marks is not None:
                marks["funded"] = time.perf_counter() - t0
                watcher = asyncio.create_task(_watch_sending(handle, t0, marks))
                final = await handle.result()
                await watcher
                return compiled_at, time.perf_counter() - t0, final
            break
        if state.status in (PayrollStatus.NOTHING_TO_PAY, PayrollStatus.RECONCILED):
            compiled_at = time.perf_counter() - t0
            break
        await asyncio.sleep(0.02)
    final = await handle.result()
    return compiled_at, time.perf_counter() - t0, final


@contextmanager
def bench_database(server: str | None, work: Path, keep: bool) -> Iterator[str]:
    """The benchmark's application database: a SQLite file in ``work``, or a fresh database on
    the PostgreSQL server ``server`` (dropped afterwards unless ``keep``)."""
    if not server:
        yield f"sqlite:///{work / 'jiuzhu.db'}"
        return
    server = normalise_url(server)
    name = f"jiuzhu_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"  kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="active entitlements")
    parser.add_argument("--chunk", type=int, default=25_000, help="compile chunk (rows)")
    parser.add_argument(
        "--database",
        default=None,
        help="a PostgreSQL server URL (postgresql+psycopg://user@host:port/postgres): the bench "
        "creates a fresh database there; default: a SQLite file in a temporary directory",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (and database)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-payroll-"))
    try:
        with bench_database(args.database, work, args.keep) as url:
            await bench(args, work, url)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


async def bench(args: argparse.Namespace, work: Path, url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    seconds_seed = seed(engine, args.n)
    port = free_port()
    server = start_server(work / "temporal.db", port)
    try:
        client = await connect(f"127.0.0.1:{port}")
        settings = Settings(
            environment="test",
            database_url=url,
            bank_dir=work / "bank",
            temporal_address=f"127.0.0.1:{port}",
            task_queue="bench-payroll",
            policies_dir=ROOT / "policies",
            seed_demo_officers=False,
        )
        async with make_worker(client, settings, engine):
            marks: dict[str, float] = {}
            moved: list[int] = []
            compiled, total, final = await run_month(
                client,
                settings.task_queue,
                args.chunk,
                marks,
                between=lambda: moved.append(churn(engine, args.n)),
            )
            _, total2, final2 = await run_month(client, settings.task_queue, args.chunk)
        pid = payroll_workflow_id(COUNTY, YEAR, MONTH)
        with engine.connect() as conn:
            count, paid = conn.execute(
                text(
                    "SELECT COUNT(*), SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) "
                    "FROM payment_instruction WHERE payroll_id = :p"
                ),
                {"p": pid},
            ).one()
            credited = conn.execute(
                text("SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :p"), {"p": pid}
            ).scalar_one()
            size_mib = database_mib(conn)
        state, state2 = final, final2
        assert getattr(state, "status", None) is PayrollStatus.RECONCILED, state
        assert getattr(state2, "rerun_of_existing", False), state2
        assert getattr(state2, "status", None) is PayrollStatus.RECONCILED, state2
        print(
            f"payroll benchmark: {args.n:,} active entitlements, "
            f"county {COUNTY}, {YEAR}-{MONTH:02d}, database {engine.dialect.name}"
        )
        print(f"  seeded read model        {seconds_seed:8.2f} s (not counted)")
        print(f"  compiled (death check + list)  {compiled:6.2f} s")
        print(f"  then {moved[0]:,} accounts written and {moved[0]:,} deaths loaded (not counted)")
        funded, sent = marks.get("funded", compiled), marks.get("sent", total)
        print(f"  funded, sent, reconciled {total - compiled:8.2f} s")
        print(f"    bank file + bank       {sent - funded:8.2f} s")
        print(f"    reconcile              {total - sent:8.2f} s")
        print(f"  wall time to reconciled  {total:8.2f} s   ({args.n / total:,.0f} payments/s)")
        print(f"  instructions {count:,}, paid {paid:,}, credited by the bank {credited:,}")
        print(
            f"  second run of the month  {total2:8.2f} s   returned the existing record "
            f"(status {state2.status.value}, new payments: {count - args.n})"  # type: ignore[attr-defined]
        )
        print(f"  peak RSS worker (this process) {vm_hwm_mb():7.1f} MiB")
        print(f"  peak RSS Temporal dev server   {vm_hwm_mb(server.pid):7.1f} MiB")
        print(f"  application database size      {size_mib:7.1f} MiB")
        assert count == args.n == paid == credited
    finally:
        server.kill()
        server.wait()
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
