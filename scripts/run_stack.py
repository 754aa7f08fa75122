"""`make run`: the embedded stack in one process group — Temporal dev server persisting to
var/temporal.db (WAL, search attributes registered), the worker, and the API — supervised: a
process that dies is logged and started again with backoff (1 s doubling to 30 s, reset after a
minute of running), while the others stay up and `/health` says what is down meanwhile. The
children's pids are kept in `stack-pids.json` beside the Temporal state file. Ctrl-C stops
everything; running it again resumes every open workflow from var/."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jiuzhu.codec import CodecKeyError  # noqa: E402
from jiuzhu.contract import search_attribute_cli_args  # noqa: E402
from jiuzhu.db.engine import make_engine  # noqa: E402
from jiuzhu.db.migrate import upgrade  # noqa: E402
from jiuzhu.logging import configure_logging, get_logger  # noqa: E402
from jiuzhu.officers import DEMO_OFFICERS, seed_demo_officers  # noqa: E402
from jiuzhu.policy_files import PolicyFileError  # noqa: E402
from jiuzhu.settings import get_settings  # noqa: E402
from jiuzhu.startup import check_startup  # noqa: E402
from scripts.seed_demo import seed_demo_once  # noqa: E402

log = get_logger("jiuzhu.run")


STOP: list[str] = []  # non-empty once Ctrl-C/SIGTERM arrived
BACKOFF_START, BACKOFF_MAX, STABLE_AFTER = 1.0, 30.0, 60.0


def _stop(signum: int, _: object) -> None:
    STOP.append(signal.Signals(signum).name)


def wait_for_port(host: str, port: int, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not STOP:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.2)
    return False


class Supervised:
    """One child process and its restart policy."""

    def __init__(self, name: str, argv: list[str], port: tuple[str, int] | None = None) -> None:
        self.name, self.argv, self.port = name, argv, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.backoff = BACKOFF_START
        self.restart_at: float | None = None
        self.restarts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, cwd=ROOT)
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self) -> bool:
        """Restart a dead process once its backoff has passed; True if the pids changed."""
        now = time.monotonic()
        if self.proc is not None and self.proc.poll() is not None:
            code = self.proc.returncode
            if now - self.started_at >= STABLE_AFTER:
                self.backoff = BACKOFF_START
            self.restart_at = now + self.backoff
            log.error("process exited; restarting", process=self.name, code=code, in_s=self.backoff)
            self.backoff = min(self.backoff * 2, BACKOFF_MAX)
            self.proc = None
        if self.proc is None and self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.start()
            log.warning("process restarted", process=self.name, restarts=self.restarts)
            return True
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log.warning("killing process that did not stop", process=self.name)
            self.proc.kill()


def write_pids(path: Path, children: list[Supervised]) -> None:
    """The supervisor's and each child's pid, replaced whole: a reader never sees the file
    half-written (the restart test read it empty once, between truncation and write)."""
    pids = {c.name: c.proc.pid for c in children if c.proc is not None}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"supervisor": os.getpid(), **pids}))
    os.replace(tmp, path)


def main() -> int:
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    settings = get_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    (ROOT / "var").mkdir(exist_ok=True)
    try:
        layers = check_startup(settings)
    except (PolicyFileError, CodecKeyError):
        return 2
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    tokens = (
        seed_demo_officers(
            engine, settings.demo_tokens_file, timedelta(days=settings.token_lifetime_days)
        )
        if settings.seed_demo_officers
        else {}
    )
    engine.dispose()

    bin_dir = Path(sys.executable).parent
    children: list[Supervised] = []
    host, _, port = settings.temporal_address.rpartition(":")
    settings.temporal_db_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file = settings.temporal_db_file.parent / "stack-pids.json"
    if settings.embedded_temporal:
        server = Supervised(
            "temporal",
            [
                str(bin_dir / "temporal"),
                "server",
                "start-dev",
                "--db-filename",
                str(settings.temporal_db_file),
                "--ip",
                host,
                "--port",
                port,
                "--ui-port",
                str(settings.temporal_ui_port),
                # The Web UI decodes payloads only through the API's authenticated codec
                # endpoint (jiuzhu/codec.py; README "Operating in the Web UI").
                "--ui-codec-endpoint",
                f"http://{settings.api_host}:{settings.api_port}/codec",
                "--log-level",
                "warn",
                "--sqlite-pragma",
                "journal_mode=WAL",
                "--sqlite-pragma",
                "synchronous=NORMAL",
                *search_attribute_cli_args(),
            ],
        )
        server.start()
        children.append(server)
        if not wait_for_port(host, int(port), 60):
            log.error(
                "temporal dev server did not open its port", address=settings.temporal_address
            )
            server.stop()
            return 1
    worker = Supervised("worker", [sys.executable, "worker.py"])
    api = Supervised(
        "api",
        [sys.executable, "scripts/serve_api.py"],  # uvicorn, ``api_workers`` processes
    )
    worker.start()
    children.append(worker)
    write_pids(pid_file, children)
    if tokens and settings.environment == "development" and settings.seed_demo_cases:
        # A fresh var/: the demo county is driven through the real workflows (in process,
        # before the API listens), once; its cases are in var/demo-seeded.json.
        seed_demo_once(settings, tokens)
    api.start()
    children.append(api)
    write_pids(pid_file, children)
    wait_for_port(settings.api_host, settings.api_port, 30)
    lines = [
        "",
        "Jiuzhu 救助 is running",
        f"  API        http://{settings.api_host}:{settings.api_port}"
        "  (docs: /docs, health: /health)",
        f"  Workbench  http://{settings.api_host}:{settings.api_port}/workbench"
        "  (officers sign in with their token)",
        f"  Temporal   {settings.temporal_address}  namespace {settings.temporal_namespace}",
    ]
    if settings.metrics_enabled:
        lines.append(f"  metrics    http://{settings.api_host}:{settings.api_port}/metrics (API)")
    if settings.worker_metrics_port:
        lines.append(
            f"             http://{settings.worker_metrics_host}:{settings.worker_metrics_port}"
            "/metrics (worker, Temporal SDK)"
        )
    if settings.embedded_temporal:
        lines.append(
            f"  Web UI     http://{host}:{settings.temporal_ui_port}  (payloads encrypted; "
            f"log in for decoding at http://{settings.api_host}:{settings.api_port}/codec/login)"
        )
        lines.append(f"  state      {settings.temporal_db_file}, {settings.database_url}")
    lines.append(f"  policies   {len(layers)} layers from {settings.policies_dir}/")
    if tokens:
        keys = f"by key in {settings.demo_tokens_file}"
        lines.append(f"  demo officers (Authorization: Bearer <token>; {keys}):")
        for officer_id, name, role, area in DEMO_OFFICERS:
            lines.append(
                f"    {officer_id:<16} {role.value:<18} {area:<13} {name:<6} {tokens[officer_id]}"
            )
    lines.append("  Ctrl-C stops everything; `make run` again resumes from var/.")
    print("\n".join(lines), flush=True)

    while not STOP:
        if any([child.check() for child in children]):
            write_pids(pid_file, children)
        time.sleep(0.5)
    for child in reversed(children):
        child.stop()
    for child in reversed(children):
        child.wait()
    pid_file.unlink(missing_ok=True)
    print("Jiuzhu stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
