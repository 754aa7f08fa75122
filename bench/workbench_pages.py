"""Workbench page timings: the worklist and N case pages of the demo county as a signed-in
officer, K rounds, against a running Jiuzhu stack.

Goal: p95 < 300 ms for each kind of page (the worklist, a case page).

    make run                                   # in another terminal, then:
    .venv/bin/python -m bench.workbench_pages --base http://127.0.0.1:8000 --cases 20 --rounds 10
    .venv/bin/python -m bench.workbench_pages --start-stack --cases 20 --rounds 10

Without ``--start-stack`` it drives the stack at ``--base`` (loopback only) with the demo tokens
of ``--tokens`` (``make run`` writes ``var/demo-tokens.json``); with it, it starts
``scripts/run_stack.py`` on free loopback ports with a temporary state directory, waits for
``/health`` (the demo county is seeded before the API listens) and stops it afterwards
(``bench.api_load``'s ``own_stack``).

The officer (``--officer``, default the demo county officer, who sees the whole county) signs in
as a browser does: ``POST /workbench/sign-in`` with their token, and the session cookie rides
every page after it. ``--seed-cases M`` first creates and accepts M applications in the demo
township through the API (not measured) so that the worklist holds more than the nine seeded
cases. The case pages are the first N case links of the worklist. Each round GETs the worklist,
then each case page, one request at a time: the time an officer waits for a page, not a load
test (``bench.api_load`` is that). One warm-up round (``--warmup``) is not measured. Printed: per
kind the count, errors (non-200 or exceptions) and p50/p95/max in ms, then one line against the
goal. Figures only: nothing here asserts on time.
"""

import argparse
import asyncio
import random
import re
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.api_load import (
    ROOT,
    STEP_TOKEN,
    Households,
    Recorder,
    Shared,
    create_and_accept,
    default_base,
    drive,
    fmt_ms,
    new_session,
    percentile,
)

GOAL_P95_MS = 300.0
TIMEOUT_S = 10.0
CASE_LINK = re.compile(r'href="/workbench/cases/([^"/?#]+)"')
KINDS = ("worklist", "case")


@dataclass
class Timings:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


async def timed_get(client: httpx.AsyncClient, url: str, into: Timings | None) -> str:
    """GET ``url``; its time and status go into ``into`` (None: warm-up). Returns the body."""
    t0 = time.perf_counter()
    try:
        resp = await client.get(url)
    except httpx.HTTPError as exc:
        if into is not None:
            into.latencies_ms.append((time.perf_counter() - t0) * 1000)
            into.statuses[type(exc).__name__] += 1
            into.errors += 1
        return ""
    ms = (time.perf_counter() - t0) * 1000
    if into is not None:
        into.latencies_ms.append(ms)
        into.statuses[str(resp.status_code)] += 1
        if resp.status_code != 200:
            into.errors += 1
    return resp.text


async def sign_in(client: httpx.AsyncClient, token: str) -> None:
    resp = await client.post("/workbench/sign-in", data={"token": token})
    if resp.status_code != 303 or not client.cookies:
        raise SystemExit(f"sign-in refused ({resp.status_code}): {resp.text[:300]}")


async def seed(base: str, tokens: dict[str, str], n: int) -> int:
    """n applications created and accepted by the demo township officer; returns how many."""
    shared = Shared(
        tokens=tokens, households=Households(random.Random()), run_tag=uuid.uuid4().hex[:8]
    )
    async with new_session(base) as client:
        silent = Recorder()
        for start in range(0, n, 10):
            batch = min(10, n - start)
            await asyncio.gather(*(create_and_accept(client, silent, shared) for _ in range(batch)))
    return len(shared.case_ids)


async def run(args: argparse.Namespace, base: str, tokens: dict[str, str]) -> None:
    if args.officer not in tokens:
        raise SystemExit(f"no token for {args.officer!r}: one of {sorted(tokens)}")
    if args.seed_cases:
        t0 = time.perf_counter()
        made = await seed(base, tokens, args.seed_cases)
        print(
            f"  seed: {made}/{args.seed_cases} applications created and accepted "
            f"(as {STEP_TOKEN}) in {time.perf_counter() - t0:.1f} s, not measured",
            flush=True,
        )
    timings = {kind: Timings() for kind in KINDS}
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, trust_env=False) as client:
        await sign_in(client, tokens[args.officer])
        worklist = await timed_get(client, "/workbench", None)
        case_ids = list(dict.fromkeys(CASE_LINK.findall(worklist)))[: args.cases]
        if not case_ids:
            raise SystemExit("the worklist shows no case: is the demo county seeded?")
        print(
            f"  signed in as {args.officer}; worklist of {len(CASE_LINK.findall(worklist))} "
            f"case links, timing {len(case_ids)} case pages",
            flush=True,
        )
        for round_no in range(args.warmup + args.rounds):
            measured = round_no >= args.warmup
            await timed_get(client, "/workbench", timings["worklist"] if measured else None)
            for case_id in case_ids:
                body = await timed_get(
                    client, f"/workbench/cases/{case_id}", timings["case"] if measured else None
                )
                if measured and case_id not in body:
                    timings["case"].errors += 1  # a 200 that is not the case's page
    report(timings, args)


def report(timings: dict[str, Timings], args: argparse.Namespace) -> None:
    print(f"  {args.rounds} rounds after {args.warmup} warm-up round(s)")
    print(
        f"  {'page':<10}{'count':>7}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  statuses"
    )
    verdict = []
    for kind in KINDS:
        t = timings[kind]
        lat = sorted(t.latencies_ms)
        top = lat[-1] if lat else float("nan")
        codes = " ".join(f"{c}×{n}" for c, n in sorted(t.statuses.items())) or "-"
        print(
            f"  {kind:<10}{len(lat):>7}{t.errors:>8}   {fmt_ms(percentile(lat, 50))}"
            f"   {fmt_ms(percentile(lat, 95))}   {fmt_ms(top)}  {codes}"
        )
        verdict.append(f"{kind} p95 {percentile(lat, 95):.1f} ms, {t.errors} errors")
    ok = all(
        percentile(sorted(timings[k].latencies_ms), 95) < GOAL_P95_MS and timings[k].errors == 0
        for k in KINDS
    )
    outcome = "met" if ok else "NOT met"
    print(f"goal: p95 < {GOAL_P95_MS:.0f} ms, no errors -> {'; '.join(verdict)}: {outcome}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=default_base(), help="API base URL (loopback only)")
    parser.add_argument("--tokens", type=Path, default=ROOT / "var/demo-tokens.json")
    parser.add_argument("--officer", default="demo-county", help="whose demo token signs in")
    parser.add_argument("--cases", type=int, default=20, help="case pages per round (N)")
    parser.add_argument("--rounds", type=int, default=10, help="measured rounds (K)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first")
    parser.add_argument("--seed-cases", type=int, default=0, help="applications created first")
    parser.add_argument("--start-stack", action="store_true", help="start run_stack.py itself")
    parser.add_argument("--keep", action="store_true", help="with --start-stack: keep its state")
    args = parser.parse_args()
    if args.cases < 1 or args.rounds < 1 or args.warmup < 0 or args.seed_cases < 0:
        parser.error("--cases ≥ 1, --rounds ≥ 1, --warmup ≥ 0, --seed-cases ≥ 0")
    print(
        f"Workbench pages: worklist and {args.cases} case pages × {args.rounds} rounds "
        f"as {args.officer}",
        flush=True,
    )
    drive(args, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
