"""Payroll benchmark: one county's month for N active entitlements, to reconciled, on a persistent
dev server (SQLite file) with the real worker in this process and a SQLite application
database.

    .venv/bin/python -m bench.payroll --n 10000
    .venv/bin/python -m bench.payroll --n 100000

The read model is seeded straight in SQL (no workflows). The run is the real ``PayrollWorkflow``:
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
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from jiuzhu.contract import Actor, Role, search_attribute_cli_args
from jiuzhu.db.engine import make_engine
from jiuzhu.db.migrate import upgrade
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


def seed(engine: Engine, n: int) -> float:
    """N active 低保 entitlements of the county, straight into the read model."""
    t0 = time.perf_counter()
    now = datetime.now(UTC).isoformat(sep=" ")
    cols = (
        "case_id, workflow_id, household_id, programme, area_code, county_code, township_code, "
        "status, centralised, monthly_amount, payable_amount, members_total, members_paid, "
        "start_month, payee_name, payee_id_number, card_account, bank_code, revision, updated_at"
    )
    sql = text(
        f"INSERT INTO entitlement_account ({cols}) VALUES (:c, :w, :h, 'dibao', :a, :county, "
        ":t, 'active', 0, :amt, :amt, 2, 2, :start, :name, :idn, :acct, '', 1, :now)"
    )
    batch = []
    with engine.begin() as conn:
        for i in range(n):
            hh = f"HB{i:014d}"
            batch.append(
                {
                    "c": f"{hh}-dibao",
                    "w": f"entitlement-{hh}-dibao",
                    "h": hh,
                    "a": f"{COUNTY}00{1 + i % 3}001",
                    "county": COUNTY,
                    "t": f"{COUNTY}00{1 + i % 3}",
                    "amt": f"{300 + i % 400}.00",
                    "start": 2026 * 12,
                    "name": f"户主{i}",
                    "idn": f"{COUNTY}19700101{i % 1000:03d}X",
                    "acct": f"6217{i:012d}",
                    "now": now,
                }
            )
            if len(batch) == 20_000:
                conn.execute(sql, batch)
                batch = []
        if batch:
            conn.execute(sql, batch)
    return time.perf_counter() - t0


async def _watch_sending(handle: object, t0: float, marks: dict[str, float]) -> None:
    """Record when the month leaves ``sending`` (bank file written and answered)."""
    while True:
        state = await handle.query(PayrollWorkflow.get_state)  # type: ignore[attr-defined]
        if state.status is not PayrollStatus.SENDING and "sent" not in marks:
            marks["sent"] = time.perf_counter() - t0
            return
        await asyncio.sleep(0.1)


async def run_month(
    client: Client, queue: str, chunk: int, marks: dict[str, float] | None = None
) -> tuple[float, float, object]:
    """Start the month, fund it as soon as it is compiled, wait for reconciliation. Returns
    (seconds to compiled, seconds to reconciled, final state)."""
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="active entitlements")
    parser.add_argument("--chunk", type=int, default=25_000, help="compile chunk (rows)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-payroll-"))
    url = f"sqlite:///{work / 'jiuzhu.db'}"
    upgrade(url)
    engine = make_engine(url)
    seconds_seed = seed(engine, args.n)
    port = free_port()
    server = start_server(work / "temporal.db", port)
    try:
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        settings = Settings(
            environment="test",
            database_url=url,
            temporal_address=f"127.0.0.1:{port}",
            task_queue="bench-payroll",
            policies_dir=ROOT / "policies",
            seed_demo_officers=False,
        )
        async with make_worker(client, settings, engine):
            marks: dict[str, float] = {}
            compiled, total, final = await run_month(client, settings.task_queue, args.chunk, marks)
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
        state, state2 = final, final2
        assert getattr(state, "status", None) is PayrollStatus.RECONCILED, state
        assert getattr(state2, "rerun_of_existing", False), state2
        assert getattr(state2, "status", None) is PayrollStatus.RECONCILED, state2
        print(
            f"payroll benchmark: {args.n:,} active entitlements, "
            f"county {COUNTY}, {YEAR}-{MONTH:02d}"
        )
        print(f"  seeded read model        {seconds_seed:8.2f} s (not counted)")
        print(f"  compiled (death check + list)  {compiled:6.2f} s")
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
        assert count == args.n == paid == credited
    finally:
        server.kill()
        server.wait()
        engine.dispose()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
