"""Foundation checks: migrations create exactly the models' schema; docker-compose.yml uses only
settings the code reads; logs carry the ids bound in context."""

import importlib
import json
import logging
import pkgutil
from pathlib import Path

import structlog
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import jiuzhu.db
from jiuzhu.logging import configure_logging
from jiuzhu.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_migrations_match_models(engine: Engine) -> None:
    for module in pkgutil.iter_modules(jiuzhu.db.__path__):
        if module.name.startswith("models"):
            importlib.import_module(f"jiuzhu.db.{module.name}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_compose_uses_only_known_settings() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-jiuzhu-env"]
    fields = {f"JIUZHU_{name.upper()}" for name in Settings.model_fields}
    unknown = {k for k in env if k.startswith("JIUZHU_") and k not in fields} - {
        "JIUZHU_DB_PASSWORD"
    }
    assert unknown == set()
    for service in ("worker", "api", "migrate"):
        assert compose["services"][service]["build"] == "."


def test_compose_shares_the_bank_directory() -> None:
    """The worker writes bank files and the API serves them to finance: both mount the one
    volume at the directory ``JIUZHU_BANK_DIR`` names."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    bank_dir = compose["x-jiuzhu-env"]["JIUZHU_BANK_DIR"]
    assert Settings(bank_dir=bank_dir).bank_dir is not None
    for service in ("worker", "api"):
        mounts = compose["services"][service]["volumes"]
        assert f"bank:{bank_dir}" in mounts, (service, mounts)
    assert "bank" in compose["volumes"]


def test_compose_scrapes_the_metrics_ports() -> None:
    """Prometheus scrapes the API's port and the worker's metrics port the settings name; the
    worker exposes that port and both services have a healthcheck on it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-jiuzhu-env"]
    services = compose["services"]
    settings = Settings(
        worker_metrics_port=int(env["JIUZHU_WORKER_METRICS_PORT"]),
        worker_metrics_host=env["JIUZHU_WORKER_METRICS_HOST"],
        metrics_enabled=env["JIUZHU_METRICS_ENABLED"],
    )
    assert settings.metrics_enabled and settings.worker_metrics_host == "0.0.0.0"
    worker_port = str(settings.worker_metrics_port)
    api_port = services["api"]["command"][services["api"]["command"].index("--port") + 1]
    assert f"{api_port}:{api_port}" in [str(p).split()[0] for p in services["api"]["ports"]]
    assert worker_port in [str(p) for p in services["worker"]["expose"]]
    assert f"127.0.0.1:{api_port}/health" in " ".join(services["api"]["healthcheck"]["test"])
    assert f"127.0.0.1:{worker_port}/metrics" in " ".join(services["worker"]["healthcheck"]["test"])

    mount = next(v for v in services["prometheus"]["volumes"] if "prometheus.yml" in v)
    config = yaml.safe_load((ROOT / mount.split(":")[0]).read_text())
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets == {
        "jiuzhu-api": [f"api:{api_port}"],
        "jiuzhu-worker": [f"worker:{worker_port}"],
    }


def test_json_logs_carry_bound_ids(capsys: object) -> None:
    configure_logging("json", "INFO")
    structlog.contextvars.bind_contextvars(application_id="A1", workflow_id="application-A1")
    try:
        logging.getLogger("temporalio.workflow").info("step done")
    finally:
        structlog.contextvars.clear_contextvars()
    err = capsys.readouterr().err.strip().splitlines()[-1]  # type: ignore[attr-defined]
    line = json.loads(err)
    assert line["application_id"] == "A1" and line["event"] == "step done"


def test_json_logs_carry_tracebacks(capsys: object) -> None:
    """``log.exception`` in JSON format keeps the traceback (stdlib and structlog loggers)."""
    configure_logging("json", "INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("jiuzhu.test").exception("stdlib failed")
        structlog.get_logger("jiuzhu.test").exception("structlog failed")
    lines = capsys.readouterr().err.strip().splitlines()  # type: ignore[attr-defined]
    for raw in lines[-2:]:
        line = json.loads(raw)
        assert "exception" in line, line
        assert "ValueError" in json.dumps(line["exception"], ensure_ascii=False)


def test_migrations_are_one_linear_chain(scratch_db_url: str) -> None:
    """One head; a database migrated when the capabilities were separate branches (one
    ``alembic_version`` row per branch head) upgrades to it (on the run's database)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from jiuzhu.db.engine import make_engine
    from jiuzhu.db.migrate import alembic_config, upgrade

    url = scratch_db_url
    cfg = alembic_config(url)
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(r.down_revision is None or isinstance(r.down_revision, str) for r in revisions), (
        "no merge points"
    )
    upgrade(url)
    head = script.get_current_head()
    eng = make_engine(url)
    with eng.begin() as conn:  # the shape an old database had
        conn.execute(text("DELETE FROM alembic_version"))
        for rev in ("0002_temporary", "application_0001", "payments_0001"):
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": rev})
    upgrade(url)
    with eng.connect() as conn:
        rows = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    eng.dispose()
    assert rows == [head]
