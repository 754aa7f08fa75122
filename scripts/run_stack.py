"""`make run`: the embedded stack in one process group — Temporal dev server persisting to
var/temporal.db (WAL, search attributes registered), the worker, and the API. Ctrl-C stops
everything; running it again resumes every open workflow from var/."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jiuzhu.contract import search_attribute_cli_args  # noqa: E402
from jiuzhu.db.engine import make_engine  # noqa: E402
from jiuzhu.db.migrate import upgrade  # noqa: E402
from jiuzhu.logging import configure_logging, get_logger  # noqa: E402
from jiuzhu.officers import DEMO_OFFICERS, seed_demo_officers  # noqa: E402
from jiuzhu.policy_files import PolicyFileError  # noqa: E402
from jiuzhu.settings import get_settings  # noqa: E402
from jiuzhu.startup import check_startup  # noqa: E402

log = get_logger("jiuzhu.run")


STOP: list[str] = []  # non-empty once Ctrl-C/SIGTERM arrived or a process died


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


def main() -> int:
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    settings = get_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    (ROOT / "var").mkdir(exist_ok=True)
    try:
        layers = check_startup(settings)
    except PolicyFileError:
        return 2
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    tokens = (
        seed_demo_officers(engine, settings.demo_tokens_file) if settings.seed_demo_officers else {}
    )
    engine.dispose()

    bin_dir = Path(sys.executable).parent
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    host, _, port = settings.temporal_address.rpartition(":")
    if settings.embedded_temporal:
        settings.temporal_db_file.parent.mkdir(parents=True, exist_ok=True)
        server = subprocess.Popen(
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
                "--log-level",
                "warn",
                "--sqlite-pragma",
                "journal_mode=WAL",
                "--sqlite-pragma",
                "synchronous=NORMAL",
                *search_attribute_cli_args(),
            ],
            cwd=ROOT,
        )
        procs.append(("temporal", server))
        if not wait_for_port(host, int(port), 60):
            log.error(
                "temporal dev server did not open its port", address=settings.temporal_address
            )
            server.terminate()
            return 1
    procs.append(("worker", subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT)))
    procs.append(
        (
            "api",
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "api.main:create_app",
                    "--host",
                    settings.api_host,
                    "--port",
                    str(settings.api_port),
                    "--no-access-log",
                ],
                cwd=ROOT,
            ),
        )
    )
    wait_for_port(settings.api_host, settings.api_port, 30)
    lines = [
        "",
        "Jiuzhu 救助 is running",
        f"  API        http://{settings.api_host}:{settings.api_port}"
        "  (docs: /docs, health: /health)",
        f"  Temporal   {settings.temporal_address}  namespace {settings.temporal_namespace}",
    ]
    if settings.embedded_temporal:
        lines.append(f"  Web UI     http://{host}:{settings.temporal_ui_port}")
        lines.append(f"  state      {settings.temporal_db_file}, {settings.database_url}")
    lines.append(f"  policies   {len(layers)} layers from {settings.policies_dir}/")
    if tokens:
        lines.append("  demo officers (Authorization: Bearer <token>):")
        for officer_id, name, role, area in DEMO_OFFICERS:
            lines.append(f"    {role.value:<18} {area:<13} {name:<6} {tokens[officer_id]}")
    lines.append("  Ctrl-C stops everything; `make run` again resumes from var/.")
    print("\n".join(lines), flush=True)

    while not STOP:
        for name, proc in procs:
            if proc.poll() is not None:
                log.error("process exited; stopping the stack", process=name, code=proc.returncode)
                STOP.append(name)
        time.sleep(0.5)
    for _name, proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for name, proc in reversed(procs):
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log.warning("killing process that did not stop", process=name)
            proc.kill()
    print("Jiuzhu stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
