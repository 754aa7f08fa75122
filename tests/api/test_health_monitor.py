"""/health answers from the background monitor's last result while it is fresh, and checks in
the request when there is none (tests that skip the lifespan) or it has gone stale."""

import asyncio
from typing import Any

import httpx
import pytest

from api.routes import health
from api.routes.health import HealthMonitor


async def until_fresh(monitor: HealthMonitor) -> None:
    """Wait (at most a second) until the monitor holds a fresh result."""
    for _ in range(50):
        if monitor.fresh() is not None:
            return
        await asyncio.sleep(0.02)


async def test_monitor_keeps_the_last_result_and_stops() -> None:
    calls: list[int] = []

    async def checks() -> dict[str, Any]:
        calls.append(1)
        return {"status": "ok", "checks": {}, "checked_at": f"#{len(calls)}"}

    monitor = HealthMonitor(checks)
    assert monitor.fresh() is None
    monitor.start()
    await until_fresh(monitor)
    assert monitor.fresh() == {"status": "ok", "checks": {}, "checked_at": "#1"}
    await monitor.stop()
    count = len(calls)
    await asyncio.sleep(health.REFRESH_S + 0.2)
    assert len(calls) == count  # stopped: no further checks


async def test_stale_result_is_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    async def checks() -> dict[str, Any]:
        return {"status": "ok"}

    monitor = HealthMonitor(checks)
    monitor.keep({"status": "unavailable"})
    assert monitor.fresh() == {"status": "unavailable"}
    monkeypatch.setattr(health, "STALE_S", -1.0)
    assert monitor.fresh() is None


async def test_a_check_running_too_long_no_longer_vouches_for_the_last_result() -> None:
    """Against a server killed after the last result, the next check waits out its timeout:
    meanwhile the last "ok" is not answered (the request checks for itself)."""
    release = asyncio.Event()
    calls: list[int] = []

    async def checks() -> dict[str, Any]:
        calls.append(1)
        if len(calls) > 1:
            await release.wait()  # the server stopped answering
        return {"status": "ok"}

    monitor = HealthMonitor(checks)
    monitor.start()
    try:
        for _ in range(100):
            if len(calls) > 1:
                break
            await asyncio.sleep(0.05)
        assert len(calls) > 1 and monitor.fresh() == {"status": "ok"}  # just started: kept
        await asyncio.sleep(health.SLOW_S + 0.2)
        assert monitor.fresh() is None
        release.set()
        await until_fresh(monitor)
        assert monitor.fresh() == {"status": "ok"}  # answered again: fresh again
    finally:
        release.set()
        await monitor.stop()


async def test_health_answers_the_monitor_result(api: httpx.AsyncClient) -> None:
    """A fresh result is answered as kept (the same ``checked_at``), its status as the code."""
    app = api._transport.app  # type: ignore[attr-defined]

    async def never() -> dict[str, Any]:
        raise AssertionError("a fresh result must not be checked again")

    monitor = HealthMonitor(never)
    kept = {"status": "unavailable", "checks": {"worker": {"ok": False}}, "checked_at": "x"}
    monitor.keep(kept)
    app.state.health_monitor = monitor
    try:
        r = await api.get("/health")
        assert r.status_code == 503
        assert r.json() == kept
        monitor.keep({"status": "ok", "checks": {}, "checked_at": "y"})
        assert (await api.get("/health")).status_code == 200
    finally:
        del app.state.health_monitor
    live = await api.get("/health")  # no monitor: checked in the request
    assert live.json()["checked_at"] not in ("x", "y")
    # 200 when some worker polls the task queue (the suite's); 503 naming it when none does
    assert live.status_code == (200 if live.json()["checks"]["worker"]["ok"] else 503)
