"""`make run`'s stack as a newcomer gets it: scripts/run_stack.py brings /health to 200, an
application created through the API survives SIGKILL of the whole stack, and a new start
resumes it from its state files."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port
from tests.factories import application_body


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


def test_stack_starts_and_resumes_after_kill(tmp_path: Path) -> None:
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
        "JIUZHU_LOG_LEVEL": "WARNING",
    }
    base = f"http://127.0.0.1:{api_port}"
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
    finally:
        os.killpg(stack.pid, signal.SIGINT)  # Ctrl-C: a clean stop
        assert stack.wait(timeout=30) == 0
