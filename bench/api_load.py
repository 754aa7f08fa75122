"""API load benchmark: N simulated officers against a running Jiuzhu stack for a fixed time.

Goal: reads (lists, case detail, worklist filters) at 200 rps or more with p99 < 50 ms and no
errors; steps (create an application, accept it) p99 < 500 ms; ``/health`` always < 100 ms.

    make run                                   # in another terminal, then:
    .venv/bin/python -m bench.api_load --base http://127.0.0.1:8000 --officers 100 --duration 30
    .venv/bin/python -m bench.api_load --start-stack --officers 100 --duration 30

Without ``--start-stack`` it drives the stack at ``--base`` with the demo tokens of
``--tokens`` (``make run`` writes ``var/demo-tokens.json``). With ``--start-stack`` it starts
``scripts/run_stack.py`` itself on free loopback ports with a temporary state directory (through
the ``JIUZHU_*`` variables), waits for ``/health``, runs, and stops it with SIGINT.

Phases: seed (``--seed-cases`` applications created and accepted, not measured, so reads and
steps have targets), then the measured phase: every officer loops until ``--duration`` over a
weighted mix (``MIX``; ``--mix detail=0,...`` overrides weights) of lists, case detail,
worklist filters and steps, with an optional ``--think-ms`` pause (0: a closed loop, each
officer sends its next request as soon as the last one answered, i.e. the stack is driven at
saturation). With a pause, each officer also starts after one (uniform in 0–2× the mean), so
that 100 officers do not all send their first request in the same millisecond: that one burst
alone made a p99 of about 580 ms on lists that otherwise answer at a p99 of about 67 ms. A
separate probe GETs ``/health`` every 0.5 s throughout. Reads use the township or
the county officer's token (alternating by officer); steps use the township officer's, whose
area the cases are created in.

One ``aiohttp`` client session (one keep-alive connection) per officer plus one for the health
probe, 10 s timeouts, environment proxies ignored; only loopback bases are accepted. aiohttp
(pinned, dev extras) rather than httpx: the load client shares the two cores with what it
measures, and it spends 0.7–0.8 ms of CPU a request against httpx's 2.6–2.9 ms (the same
requests, alternating), so the stack keeps the CPU httpx would take. Printed: total
requests, rps overall and for reads, per kind the count, errors (non-2xx or exceptions, with
the status codes seen) and p50/p95/p99 latency, then one line against the goal. Figures only:
nothing here asserts on time (exit status 0 unless the run could not start).
"""

import argparse
import asyncio
import ipaddress
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx

from bench.cpu import CpuMeter, own_process, stack_processes
from rules.id_number import make_id_number

ROOT = Path(__file__).resolve().parents[1]

# What an officer does next, by weight (relative; a weight of 0 turns an action off). Reads are
# list_* / detail / worklist_*; step_* create an application then accept it (two requests).
MIX: dict[str, int] = {
    "list_applications": 20,
    "list_entitlements": 8,
    "list_temporary": 6,
    "list_messages": 8,
    "detail": 30,
    "worklist_status": 10,
    "worklist_deadline": 8,
    "step_create_accept": 5,
}
KINDS = ("list", "detail", "worklist", "step", "health")
READ_KINDS = ("list", "detail", "worklist")
AREA = "419901001001"  # a village of the demo township 419901001
READ_TOKENS = ("demo-township", "demo-county")  # officer i reads with READ_TOKENS[i % 2]
STEP_TOKEN = "demo-township"
HEALTH_EVERY_S = 0.5
TIMEOUT_S = 10.0
MAX_ACTIONS_PER_OFFICER = 1_000_000  # a count bound besides --duration
MAX_DETAIL_TARGETS = 2_000
WORKLIST_STATUSES = ("submitted", "accepted", "verification", "awaiting_opinion")
GOAL_READ_RPS, GOAL_READ_P99_MS, GOAL_STEP_P99_MS, GOAL_HEALTH_MS = 200.0, 50.0, 500.0, 100.0


# --- measurements ----------------------------------------------------------------------------
@dataclass
class Samples:
    """Latencies (ms) and outcomes of one kind of request."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # status code or exception name
    by_route: Counter[str] = field(default_factory=Counter)

    def add(self, route: str, ms: float, outcome: str, ok: bool) -> None:
        self.latencies_ms.append(ms)
        self.statuses[outcome] += 1
        self.by_route[route] += 1
        if not ok:
            self.errors += 1


def percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_ms:
        return float("nan")
    rank = max(1, min(len(sorted_ms), math.ceil(q / 100 * len(sorted_ms))))
    return sorted_ms[rank - 1]


class Recorder:
    """Every request of the measured phase, by kind; nothing is recorded while disabled."""

    def __init__(self) -> None:
        self.kinds: dict[str, Samples] = {k: Samples() for k in KINDS}
        self.enabled = False

    def record(self, kind: str, route: str, ms: float, outcome: str, ok: bool) -> None:
        if self.enabled:
            self.kinds[kind].add(route, ms, outcome, ok)


@dataclass(frozen=True)
class Answer:
    """A whole answer, read before the request's time is taken."""

    status: int
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


def new_session(base: str) -> aiohttp.ClientSession:
    """One keep-alive connection, the whole request bounded by TIMEOUT_S, no proxies."""
    return aiohttp.ClientSession(
        base_url=base,
        connector=aiohttp.TCPConnector(limit=1),
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
        trust_env=False,
    )


async def call(
    client: aiohttp.ClientSession,
    rec: Recorder,
    kind: str,
    route: str,
    method: str,
    url: str,
    **kwargs: Any,
) -> Answer | None:
    """One timed request (body read in full); returns the answer, or None when it raised."""
    t0 = time.perf_counter()
    try:
        async with client.request(method, url, **kwargs) as resp:
            answer = Answer(resp.status, await resp.read())
    except (aiohttp.ClientError, TimeoutError) as exc:
        rec.record(kind, route, (time.perf_counter() - t0) * 1000, type(exc).__name__, False)
        return None
    ms = (time.perf_counter() - t0) * 1000
    rec.record(kind, route, ms, str(answer.status), answer.is_success)
    return answer


# --- test data -------------------------------------------------------------------------------
class Households:
    """Distinct two-person households with valid ID numbers: every member of the run gets its
    own (birth date, sequence) pair, from a random base so that repeated runs against the same
    stack do not reuse households."""

    def __init__(self, rng: random.Random) -> None:
        self.base_day = rng.randrange(0, 12_000)  # birth dates from 1950 on
        self.count = 0

    def _next_id(self) -> str:
        n = self.count
        self.count += 1
        birth = date(1950, 1, 1) + timedelta(days=self.base_day + n // 1000)
        return make_id_number(AREA[:6], birth, f"{n % 1000:03d}")

    def body(self) -> dict[str, Any]:
        return {
            "programme": "dibao",
            "area_code": AREA,
            "household": [
                {"name": "张建明", "id_number": self._next_id(), "relation": "applicant"},
                {"name": "李秀兰", "id_number": self._next_id(), "relation": "spouse"},
            ],
        }


@dataclass
class Shared:
    """What the officers share: tokens, known case ids, the household source."""

    tokens: dict[str, str]
    households: Households
    run_tag: str
    case_ids: list[str] = field(default_factory=list)
    listed_total: int = 0
    creates: int = 0

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def remember(self, case_id: str) -> None:
        self.case_ids.append(case_id)
        if len(self.case_ids) > MAX_DETAIL_TARGETS:
            del self.case_ids[: len(self.case_ids) - MAX_DETAIL_TARGETS]


async def create_and_accept(client: aiohttp.ClientSession, rec: Recorder, shared: Shared) -> None:
    """A step: apply for a new household (with an Idempotency-Key), then accept the case."""
    shared.creates += 1
    key = f"bench-{shared.run_tag}-{shared.creates}"
    headers = {**shared.auth(STEP_TOKEN), "Idempotency-Key": key}
    resp = await call(
        client,
        rec,
        "step",
        "POST /applications",
        "POST",
        "/applications",
        json=shared.households.body(),
        headers=headers,
    )
    if resp is None or not resp.is_success:
        return
    case_id = str(resp.json().get("application_id", ""))
    if not case_id:
        return
    resp = await call(
        client,
        rec,
        "step",
        "POST /applications/{id}/accept",
        "POST",
        f"/applications/{case_id}/accept",
        json={},
        headers=shared.auth(STEP_TOKEN),
    )
    if resp is not None and resp.is_success:
        shared.remember(case_id)


# --- the load --------------------------------------------------------------------------------
async def officer(
    index: int,
    client: aiohttp.ClientSession,
    rec: Recorder,
    shared: Shared,
    end: float,
    think_ms: float,
    seed: int,
) -> None:
    rng = random.Random(seed * 100_003 + index)
    actions = [a for a, w in MIX.items() if w > 0]
    weights = [MIX[a] for a in actions]
    auth = shared.auth(READ_TOKENS[index % len(READ_TOKENS)])
    if think_ms > 0:  # officers arrive spread over one pause, not all in the same millisecond
        await asyncio.sleep(rng.uniform(0, 2 * think_ms) / 1000)
    for _ in range(MAX_ACTIONS_PER_OFFICER):
        if time.monotonic() >= end:
            return
        action = rng.choices(actions, weights)[0]
        if action == "detail" and not shared.case_ids:
            action = "list_applications"  # nothing to open yet
        if action == "list_applications":
            pages = max(1, min(shared.listed_total, 1_000) // 20)
            offset = rng.randrange(pages) * 20
            await call(
                client,
                rec,
                "list",
                "GET /applications",
                "GET",
                "/applications",
                params={"limit": 20, "offset": offset},
                headers=auth,
            )
        elif action == "list_entitlements":
            await call(
                client, rec, "list", "GET /entitlements", "GET", "/entitlements", headers=auth
            )
        elif action == "list_temporary":
            await call(
                client,
                rec,
                "list",
                "GET /temporary-cases",
                "GET",
                "/temporary-cases",
                headers=auth,
            )
        elif action == "list_messages":
            await call(client, rec, "list", "GET /me/messages", "GET", "/me/messages", headers=auth)
        elif action == "detail":
            case_id = rng.choice(shared.case_ids)
            await call(
                client,
                rec,
                "detail",
                "GET /applications/{id}",
                "GET",
                f"/applications/{case_id}",
                headers=auth,
            )
        elif action == "worklist_status":
            await call(
                client,
                rec,
                "worklist",
                "GET /applications?status=",
                "GET",
                "/applications",
                params={"status": rng.choice(WORKLIST_STATUSES), "limit": 20},
                headers=auth,
            )
        elif action == "worklist_deadline":
            before = datetime.now(UTC) + timedelta(days=rng.choice((3, 7, 14, 30)))
            await call(
                client,
                rec,
                "worklist",
                "GET /applications?deadline_before=",
                "GET",
                "/applications",
                params={"deadline_before": before.isoformat(), "limit": 20},
                headers=auth,
            )
        elif action == "step_create_accept":
            await create_and_accept(client, rec, shared)
        if think_ms > 0:
            pause = rng.uniform(0, 2 * think_ms) / 1000
            await asyncio.sleep(max(0.0, min(pause, end - time.monotonic())))


async def health_probe(client: aiohttp.ClientSession, rec: Recorder, end: float) -> None:
    """GET /health every HEALTH_EVERY_S until the end (bounded by the count that fits)."""
    ticks = int((end - time.monotonic()) / HEALTH_EVERY_S) + 1
    start = time.monotonic()
    for i in range(ticks):
        await call(client, rec, "health", "GET /health", "GET", "/health")
        next_at = start + (i + 1) * HEALTH_EVERY_S
        if next_at >= end or time.monotonic() >= end:
            return
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def seed_cases(client: aiohttp.ClientSession, shared: Shared, n: int) -> tuple[int, int]:
    """Known case ids from the first pages of the list, plus n new accepted cases (10 at a
    time). Not measured. Returns (listed, created and accepted)."""
    async with client.get(
        "/applications", params={"limit": 200}, headers=shared.auth(STEP_TOKEN)
    ) as resp:
        resp.raise_for_status()
        page = await resp.json()
    for item in page["items"]:
        shared.remember(str(item["application_id"]))
    listed = len(shared.case_ids)
    silent = Recorder()
    before = len(shared.case_ids)
    for start in range(0, n, 10):
        batch = min(10, n - start)
        await asyncio.gather(*(create_and_accept(client, silent, shared) for _ in range(batch)))
    async with client.get(
        "/applications", params={"limit": 1}, headers=shared.auth(STEP_TOKEN)
    ) as resp:
        resp.raise_for_status()
        shared.listed_total = int((await resp.json())["total"])
    return listed, len(shared.case_ids) - before


# --- the stack -------------------------------------------------------------------------------
def ensure_loopback(base: str) -> str:
    parts = urlsplit(base)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise SystemExit(f"--base must be an http(s) URL: {base!r}")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise SystemExit(f"--base must be a loopback address (127.0.0.0/8, ::1): {base!r}")
    return base.rstrip("/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if httpx.get(f"{base}/health", timeout=2, trust_env=False).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{base}/health was not 200 within {seconds:.0f} s")


@contextmanager
def own_stack(keep: bool) -> Iterator[tuple[str, Path, int]]:
    """scripts/run_stack.py on free loopback ports with a temporary state directory; yields
    (base URL, tokens file, the stack's pid); stops it with SIGINT (SIGKILL after 40 s)."""
    work = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-api-"))
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "JIUZHU_ENVIRONMENT": "development",
        "JIUZHU_API_HOST": "127.0.0.1",
        "JIUZHU_API_PORT": str(api_port),
        "JIUZHU_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "JIUZHU_TEMPORAL_UI_PORT": str(ui_port),
        "JIUZHU_TEMPORAL_DB_FILE": str(work / "temporal.db"),
        "JIUZHU_DATABASE_URL": f"sqlite:///{work / 'jiuzhu.db'}",
        "JIUZHU_DEMO_TOKENS_FILE": str(work / "tokens.json"),
        "JIUZHU_TASK_QUEUE": "jiuzhu-bench-api",
        "JIUZHU_LOG_LEVEL": "WARNING",
    }
    base = f"http://127.0.0.1:{api_port}"
    with (work / "stack.log").open("wb") as log:
        stack = subprocess.Popen(
            [sys.executable, "scripts/run_stack.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        took = wait_healthy(base, 90)
        print(f"  stack started in {took:.1f} s: {base} (state and log in {work})", flush=True)
        yield base, work / "tokens.json", stack.pid
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        try:
            code = stack.wait(timeout=40)
            print(f"  stack stopped (exit {code})", flush=True)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()
            print("  stack did not stop within 40 s: killed", flush=True)
        if keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# --- report ----------------------------------------------------------------------------------
def fmt_ms(v: float) -> str:
    return "   n/a" if v != v else f"{v:6.1f}"


def report(rec: Recorder, elapsed: float, officers: int) -> None:
    total = sum(len(s.latencies_ms) for s in rec.kinds.values())
    reads = [ms for k in READ_KINDS for ms in rec.kinds[k].latencies_ms]
    read_errors = sum(rec.kinds[k].errors for k in READ_KINDS)
    print(f"  measured {elapsed:.1f} s, {officers} officers")
    print(f"  total requests {total:,}   {total / elapsed:,.1f} rps overall")
    print(f"  reads          {len(reads):,}   {len(reads) / elapsed:,.1f} rps")
    print(
        f"  {'kind':<9}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses"
    )
    for kind in KINDS:
        s = rec.kinds[kind]
        lat = sorted(s.latencies_ms)
        codes = " ".join(f"{c}×{n}" for c, n in sorted(s.statuses.items())) or "-"
        print(
            f"  {kind:<9}{len(lat):>8,}{s.errors:>8,}   {fmt_ms(percentile(lat, 50))}"
            f"   {fmt_ms(percentile(lat, 95))}   {fmt_ms(percentile(lat, 99))}  {codes}"
        )
        if len(s.by_route) > 1:
            for route, n in sorted(s.by_route.items()):
                print(f"      {route:<36}{n:>8,}")
    reads.sort()
    steps = sorted(rec.kinds["step"].latencies_ms)
    health = rec.kinds["health"].latencies_ms
    health_max = max(health) if health else float("nan")
    print(
        f"goal: reads {GOAL_READ_RPS:.0f} rps p99<{GOAL_READ_P99_MS:.0f} ms 0 errors; "
        f"steps p99<{GOAL_STEP_P99_MS:.0f} ms; health<{GOAL_HEALTH_MS:.0f} ms -> "
        f"reads {len(reads) / elapsed:.0f} rps p99 {percentile(reads, 99):.1f} ms "
        f"errors {read_errors}; steps p99 {percentile(steps, 99):.1f} ms; "
        f"health max {health_max:.1f} ms"
    )


# --- main ------------------------------------------------------------------------------------
def load_tokens(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise SystemExit(f"no demo tokens at {path}: start the stack with `make run` first")
    tokens: dict[str, str] = json.loads(path.read_text())
    missing = [t for t in (*READ_TOKENS, STEP_TOKEN) if t not in tokens]
    if missing:
        raise SystemExit(f"{path} lacks demo tokens {missing}")
    return tokens


async def run(args: argparse.Namespace, base: str, tokens: dict[str, str]) -> None:
    rng = random.Random(args.seed)
    shared = Shared(tokens=tokens, households=Households(rng), run_tag=uuid.uuid4().hex[:8])

    # One session (one keep-alive connection) per officer: a single pool shared by a hundred
    # connections costs the load generator more CPU per request than the API spends on it.
    clients = [new_session(base) for _ in range(args.officers + 1)]  # the last: health probe
    try:
        t0 = time.perf_counter()
        async with new_session(base) as seeder:
            listed, seeded = await seed_cases(seeder, shared, args.seed_cases)
        print(
            f"  seed: {listed} cases listed, {seeded}/{args.seed_cases} created and accepted "
            f"in {time.perf_counter() - t0:.1f} s (not measured); "
            f"{shared.listed_total} applications visible",
            flush=True,
        )
        rec = Recorder()
        rec.enabled = True
        meter = cpu_meter(args.stack_pid)
        meter.start()
        start = time.monotonic()
        end = start + args.duration
        tasks = [
            officer(i, clients[i], rec, shared, end, args.think_ms, args.seed)
            for i in range(args.officers)
        ]
        # Requests in flight at the end finish (each within TIMEOUT_S) and are counted; a step
        # is two requests, so nothing should be left after 2 × TIMEOUT_S more.
        running = [asyncio.create_task(c) for c in (health_probe(clients[-1], rec, end), *tasks)]
        _, pending = await asyncio.wait(running, timeout=args.duration + 2 * TIMEOUT_S + 5)
        elapsed = time.monotonic() - start
        meter.stop()
        rec.enabled = False
        for task in pending:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    failed = [t.exception() for t in running if not t.cancelled() and t.exception()]
    if pending or failed:
        print(f"  {len(pending)} officers cut off at the end, {len(failed)} failed: {failed[:3]}")
    report(rec, elapsed, args.officers)
    requests = sum(len(s.latencies_ms) for s in rec.kinds.values())
    print(f"  cpu: {meter.line(requests, 'request')}")


def cpu_meter(stack_pid: int | None) -> CpuMeter:
    """The stack's processes by role and this one, when the benchmark started the stack; this
    process alone otherwise (a stack started elsewhere is not looked for)."""
    if stack_pid is not None:
        return stack_processes(stack_pid)
    return CpuMeter(lambda: [("load client", own_process())])


def drive(
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace, str, dict[str, str]], Coroutine[Any, Any, None]],
) -> None:
    """Run a benchmark's ``run(args, base, tokens)`` against its own stack (``--start-stack``,
    ``--keep``) or the one at ``--base`` with the tokens of ``--tokens``."""
    if args.start_stack:
        with own_stack(args.keep) as (base, tokens_file, pid):
            args.stack_pid = pid
            asyncio.run(run(args, base, load_tokens(tokens_file)))
    else:
        base = ensure_loopback(args.base)
        print(f"  against {base}", flush=True)
        args.stack_pid = None
        asyncio.run(run(args, base, load_tokens(args.tokens)))


def default_base() -> str:
    port = os.environ.get("JIUZHU_API_PORT")
    return f"http://127.0.0.1:{port}" if port else "http://127.0.0.1:8000"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=default_base(), help="API base URL (loopback only)")
    parser.add_argument("--tokens", type=Path, default=ROOT / "var/demo-tokens.json")
    parser.add_argument("--officers", type=int, default=100, help="concurrent officers")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--seed-cases", type=int, default=20, help="cases created first")
    parser.add_argument("--think-ms", type=float, default=0.0, help="mean pause between actions")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the mix")
    parser.add_argument(
        "--mix", default="", help="override MIX weights, e.g. detail=0,step_create_accept=10"
    )
    parser.add_argument("--start-stack", action="store_true", help="start run_stack.py itself")
    parser.add_argument("--keep", action="store_true", help="with --start-stack: keep its state")
    args = parser.parse_args()
    if args.officers < 1 or args.duration <= 0 or args.seed_cases < 0 or args.think_ms < 0:
        parser.error("--officers ≥ 1, --duration > 0, --seed-cases ≥ 0, --think-ms ≥ 0")
    for item in filter(None, args.mix.split(",")):
        name, _, weight = item.partition("=")
        if name not in MIX or not weight.isdigit():
            parser.error(f"--mix: {item!r} is not one of {sorted(MIX)} = a whole weight")
        MIX[name] = int(weight)
    if not any(MIX.values()):
        parser.error("--mix: every weight is 0")
    print(
        f"API load benchmark: {args.officers} officers, {args.duration:g} s, "
        f"mix {', '.join(f'{a} {w}' for a, w in MIX.items())}",
        flush=True,
    )
    drive(args, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
