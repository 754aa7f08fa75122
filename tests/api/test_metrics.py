"""``/metrics``: HTTP requests by route template and status, the business gauges moving as a case
moves (open applications by status, an escalation waiting, an overdue case), no personal data or
raw id in any label, and the endpoint off by setting."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest_asyncio
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from api.metrics import CLOSED_BY_KIND, is_open, metrics_registry
from jiuzhu.contract import CaseKind
from jiuzhu.settings import Settings
from tests.application.helpers import create, deadline, parse_dt, state, step, wait_outbox

ESCALATION = ("escalation", "county_officer", "419901", "investigation_start")
REMINDER = ("reminder", "township_officer", "419901001", "investigation_start")


@pytest_asyncio.fixture(scope="module")
async def http(
    settings: Settings, engine: Engine, client: Client, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the session's worker, with the business gauges computed at every scrape."""
    app = create_app(
        settings=settings.model_copy(update={"metrics_cache_s": 0}), engine=engine, client=client
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as h:
        yield h


async def scrape(http: httpx.AsyncClient) -> str:
    r = await http.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


def value(text: str, sample: str, **labels: str) -> float:
    """The value of one sample (0 when absent), matched on the labels given."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def open_applications(text: str, status: str) -> float:
    return value(
        text, "jiuzhu_open_cases", case_kind="application", programme="dibao", status=status
    )


async def test_http_requests_by_route_template_and_status(http: httpx.AsyncClient) -> None:
    app_id, body = await create(http)
    await state(http, app_id)
    missing = await http.get("/applications/A0000000000000000000000000", headers={})
    assert missing.status_code == 401
    await http.get("/no/such/path/419901197005171012")
    text = await scrape(http)

    route = "/applications/{application_id}"
    assert value(text, "jiuzhu_http_requests_total", route="/applications", status="201") >= 1
    assert value(text, "jiuzhu_http_requests_total", route=route, status="200") >= 1
    assert value(text, "jiuzhu_http_requests_total", route=route, status="401") >= 1
    assert value(text, "jiuzhu_http_requests_total", route="<unmatched>", status="404") >= 1
    assert value(text, "jiuzhu_http_request_duration_seconds_count", route=route) >= 2

    # No id, name or ID number anywhere in the scrape: labels hold templates and codes only.
    record = await state(http, app_id)
    secrets = {app_id, record["household_id"], "419901197005171012", "/no/such/path"}
    for m in body["household"]:
        secrets |= {m["name"], m["id_number"]}
    leaked = {s for s in secrets if s in text}
    assert leaked == set()


async def test_business_gauges_follow_a_case(
    http: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    before = await scrape(http)
    app_id, _ = await create(http)
    created = await scrape(http)
    assert open_applications(created, "submitted") == open_applications(before, "submitted") + 1

    s = await step(http, app_id, "accept", {})
    accepted = await scrape(http)
    assert open_applications(accepted, "submitted") == open_applications(created, "submitted") - 1
    assert open_applications(accepted, "accepted") == open_applications(created, "accepted") + 1

    # The investigation start is missed: an escalation waits for the county, the case is overdue.
    waiting = {"kind": "escalation", "recipient_role": "county_officer"}
    overdue = {"township_code": "419901001", "case_kind": "application"}
    handle = client.get_workflow_handle(f"application-{app_id}")
    due_at = parse_dt(deadline(s, "investigation_start")["due_at"])
    await env.fast_forward(
        handle, due_at - await env.get_current_time(handle) + timedelta(minutes=1)
    )
    await wait_outbox(engine, app_id, [ESCALATION, REMINDER])
    for _ in range(100):  # the overdue flag is published just after the escalation
        escalated = await scrape(http)
        if value(escalated, "jiuzhu_overdue_cases", **overdue) > value(
            accepted, "jiuzhu_overdue_cases", **overdue
        ):
            break
        await asyncio.sleep(0.05)
    assert value(escalated, "jiuzhu_outbox_waiting", **waiting) == (
        value(accepted, "jiuzhu_outbox_waiting", **waiting) + 1
    )
    assert value(escalated, "jiuzhu_overdue_cases", **overdue) == (
        value(accepted, "jiuzhu_overdue_cases", **overdue) + 1
    )
    # Every business family is exposed, even when it has no sample yet.
    for name in (
        "jiuzhu_payroll_months",
        "jiuzhu_reserve_fund_balance_yuan",
        "jiuzhu_problem_payments",
        "jiuzhu_business_metrics_query_seconds",
    ):
        assert f"# TYPE {name} gauge" in escalated
    assert value(escalated, "jiuzhu_business_metrics_ok") == 1


async def test_business_gauges_are_cached(
    settings: Settings, engine: Engine, client: Client, worker: Worker
) -> None:
    """With the default cache a second scrape straight after the first does not query again."""
    app = create_app(settings=settings, engine=engine, client=client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as h:
        first = await scrape(h)
        await create(h)
        second = await scrape(h)
    assert open_applications(second, "submitted") == open_applications(first, "submitted")
    took = value(first, "jiuzhu_business_metrics_query_seconds")
    assert took == value(second, "jiuzhu_business_metrics_query_seconds")


async def test_metrics_off_by_setting_and_never_in_the_schema(
    settings: Settings, engine: Engine, client: Client, api: httpx.AsyncClient
) -> None:
    schema = (await api.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]
    off = create_app(
        settings=settings.model_copy(update={"metrics_enabled": False}),
        engine=engine,
        client=client,
    )
    transport = httpx.ASGITransport(app=off)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as h:
        assert (await h.get("/metrics")).status_code == 404


def test_business_gauges_survive_a_database_down(tmp_path: Path) -> None:
    """A database that does not answer leaves the scrape working, flagged stale (of the run's
    kind: a SQLite file that cannot be opened, a PostgreSQL server that is not there)."""
    from sqlalchemy import create_engine

    from tests.conftest import free_port
    from tests.databases import on_postgres

    if on_postgres():
        broken = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone")
    else:
        broken = create_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    text = generate_latest(metrics_registry(lambda: broken, 0)).decode()
    assert value(text, "jiuzhu_business_metrics_ok") == 0
    assert "jiuzhu_open_cases" not in text


def test_every_case_kind_says_which_statuses_are_closed() -> None:
    """``jiuzhu_open_cases`` counts a closed complaint, a completed spot check, a visited warning,
    an answered referral or a posted listing as closed (seen counted as open in a trial)."""
    assert set(CaseKind) - set(CLOSED_BY_KIND) == {CaseKind.LAUNCHER}
    for kind, closed, open_ in (
        ("complaint", "closed", "investigating"),
        ("spot_check", "completed", "open"),
        ("warning", "temporary_aid", "awaiting_visit"),
        ("referral", "withdrawn", "awaiting_answer"),
        ("recognition", "ended", "under_review"),
        ("listing", "posted", "update_due"),
        ("campaign", "reconciled", "sending"),
    ):
        assert not is_open(kind, closed) and is_open(kind, open_), kind
