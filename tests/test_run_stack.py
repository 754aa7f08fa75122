"""`make run`'s stack as a newcomer gets it: scripts/run_stack.py brings /health to 200, an
application created through the API survives SIGKILL of the whole stack, and a new start
resumes it from its state files."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from scripts.serve_api import metrics_dir
from tests.conftest import ROOT, free_port
from tests.factories import application_body

# `make run` as a newcomer runs it: the embedded stack on SQLite files under var/ (the README
# walkthrough, tests/test_readme.py, runs the same stack on the run's database).
pytestmark = pytest.mark.sqlite_only(reason="the embedded `make run` stack keeps var/jiuzhu.db")


def start_stack(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "scripts/run_stack.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_healthy(base: str, seconds: float = 45) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"/health not 200 within {seconds} s")


def stack_env(tmp_path: Path) -> tuple[dict[str, str], str]:
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "JIUZHU_ENVIRONMENT": "development",
        "JIUZHU_API_PORT": str(api_port),
        "JIUZHU_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "JIUZHU_TEMPORAL_UI_PORT": str(ui_port),
        "JIUZHU_TEMPORAL_DB_FILE": str(tmp_path / "temporal.db"),
        "JIUZHU_DATABASE_URL": f"sqlite:///{tmp_path / 'jiuzhu.db'}",
        "JIUZHU_DEMO_TOKENS_FILE": str(tmp_path / "tokens.json"),
        "JIUZHU_TASK_QUEUE": "jiuzhu-stack-test",
        "JIUZHU_SEED_DEMO_CASES": "false",
        "JIUZHU_WORKER_METRICS_PORT": str(free_port()),
        "JIUZHU_LOG_LEVEL": "WARNING",
    }
    return env, f"http://127.0.0.1:{api_port}"


def test_stack_starts_and_resumes_after_kill(tmp_path: Path) -> None:
    env, base = stack_env(tmp_path)
    stack = start_stack(env)
    try:
        wait_healthy(base)
        token = json.loads((tmp_path / "tokens.json").read_text())["demo-township"]
        headers = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{base}/applications", json=application_body(), headers=headers)
        assert r.status_code == 201, r.text
        app_id = r.json()["application_id"]
    finally:
        os.killpg(stack.pid, signal.SIGKILL)  # server, worker and API die without shutdown
        stack.wait()

    stack = start_stack(env)
    try:
        wait_healthy(base)
        r = httpx.get(f"{base}/applications/{app_id}", headers=headers, timeout=10)
        assert r.status_code == 200
        assert r.json()["status"] == "submitted"
        assert_metrics_summed_over_processes(base, headers)
    finally:
        os.killpg(stack.pid, signal.SIGINT)  # Ctrl-C: a clean stop
        assert stack.wait(timeout=30) == 0


def requests_counted(base: str, route: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    prefix = f'jiuzhu_http_requests_total{{method="GET",route="{route}",status="200"}} '
    return sum(
        float(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix)
    )


def assert_metrics_summed_over_processes(base: str, headers: dict[str, str]) -> None:
    """The API runs ``api_workers`` (2) processes; ``/metrics``, whichever answers it, counts
    the requests of all of them, once each (a restart starts from 0: the directory is fresh)."""
    port = int(base.rsplit(":", 1)[1])
    sent = 0
    end = time.monotonic() + 30
    # New connections, until both processes have answered some: just after a restart the
    # second may still be importing, and the first then accepts every connection.
    with httpx.Client(headers=headers, timeout=10) as c:
        while True:
            for _ in range(40):
                r = c.get(f"{base}/entitlements", headers={"Connection": "close"})
                assert r.status_code == 200
                sent += 1
            files = list(metrics_dir(port).glob("counter_*.db"))
            if len(files) >= 2 or time.monotonic() > end:
                break
    assert len(files) >= 2, files
    assert [requests_counted(base, "/entitlements") for _ in range(6)] == [float(sent)] * 6


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {seconds} s")


def test_stack_restarts_a_crashed_worker_and_server(tmp_path: Path) -> None:
    """SIGKILL of the worker, then of the dev server: each is started again by the supervisor,
    the API answers throughout (/health says 503 naming Temporal while it is down), and a case
    created after both restarts is served."""
    env, base = stack_env(tmp_path)
    pid_file = tmp_path / "stack-pids.json"
    stack = start_stack(env)
    try:
        wait_healthy(base)
        token = json.loads((tmp_path / "tokens.json").read_text())["demo-township"]
        headers = {"Authorization": f"Bearer {token}"}
        pids = json.loads(pid_file.read_text())

        os.kill(pids["worker"], signal.SIGKILL)
        wait_for(
            lambda: json.loads(pid_file.read_text()).get("worker") not in (None, pids["worker"]),
            30,
            "worker restarted",
        )
        assert httpx.get(f"{base}/health", timeout=5).status_code in (200, 503)

        os.kill(pids["temporal"], signal.SIGKILL)

        def temporal_down() -> bool:
            r = httpx.get(f"{base}/health", timeout=10)
            return r.status_code == 503 and not r.json()["checks"]["temporal"]["ok"]

        wait_for(temporal_down, 20, "/health naming temporal down")
        # Restarted first, then healthy: each API process answers its own monitor's result,
        # so one may still say "ok" for a moment after another has said 503.
        wait_for(
            lambda: (
                json.loads(pid_file.read_text()).get("temporal") not in (None, pids["temporal"])
            ),
            60,
            "dev server restarted",
        )
        wait_healthy(base, 90)
        r = httpx.post(f"{base}/applications", json=application_body(), headers=headers)
        assert r.status_code == 201, r.text
        app_id = r.json()["application_id"]
        r = httpx.get(f"{base}/applications/{app_id}", headers=headers, timeout=10)
        assert r.status_code == 200
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        assert stack.wait(timeout=40) == 0
