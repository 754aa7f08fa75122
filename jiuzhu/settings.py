"""Settings read from the environment (prefix ``JIUZHU_``), so one code base runs on the embedded
stack (dev server + SQLite) and on a Temporal cluster with PostgreSQL (docker-compose.yml)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# prometheus_client's multiprocess directory (read when it is imported): set for the API's
# worker processes by ``scripts/serve_api.py`` when ``api_workers`` > 1.
METRICS_DIR_VAR = "PROMETHEUS_MULTIPROC_DIR"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIUZHU_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    # Where an operator's browser reaches the Temporal Web UI: the workbench's county pages link
    # a month's, a fund's or a case's workflow there (``<url>/namespaces/<ns>/workflows/<id>``).
    # Unset, it follows ``temporal_ui_port`` on this host (the embedded UI of `make run`).
    temporal_ui_url: str = "http://localhost:8233"
    temporal_db_file: Path = Path("var/temporal.db")
    embedded_temporal: bool = True  # `make run` starts a dev server unless pointed at a cluster
    task_queue: str = "jiuzhu"
    # An application continues as new once its history passes this many events (the server may
    # suggest it earlier); entitlements and temporary cases have their own bounds.
    application_history_bound: int = Field(default=10_000, ge=100)
    # Each month's payroll starts the next month's ahead, waiting for its 1st (jiuzhu/schedules.py);
    # unset: on, except in the test environment, whose tests start their months themselves.
    payroll_start_ahead: bool | None = None

    database_url: str = "sqlite:///var/jiuzhu.db"
    # Connection pool per process (API and worker each): a request or activity holds a
    # connection only for its short database work; waiting longer than the timeout is a 503.
    db_pool_size: int = 20
    db_max_overflow: int = 20
    db_pool_timeout_s: float = 10.0
    # SQLite's page cache per connection, MiB (it grows only as pages are read). With SQLite's
    # own 2 MiB a province's payroll re-reads its indexes from the file; the 1,000,000-line
    # compile measured 48–57 s with 2 MiB, 25–46 s with 64 MiB on a shared machine, 20–22 s
    # with 64 or 32 MiB on a quiet one. 32: the bank step writes on a second connection while
    # it reads on the first (activities/payments/write_behind.py), and with 64 MiB each the
    # worker peaked at 466 MiB for 1,000,000 lines, 371 MiB with 32 (docs/SCALE.md).
    sqlite_cache_mib: int = Field(default=32, ge=2, le=4096)
    # Where bank files are written and read back (``<bank_dir>/<county>/<batch>.txt``); unset:
    # beside a SQLite database (var/bank for var/jiuzhu.db), else var/bank.
    bank_dir: Path | None = None

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # API processes (``uvicorn --workers``): each has its own interpreter lock, so reads scale
    # with the cores; their HTTP metrics are summed at scrape time (``api/metrics.py``).
    api_workers: int = Field(default=2, ge=1, le=32)
    # Largest request body the API reads (bytes); a longer one is answered 413 before parsing.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    log_level: str = "INFO"
    log_format: Literal["console", "json"] | None = None

    # Metrics (Prometheus text format): the API's ``/metrics`` (HTTP requests and the business
    # gauges, counts only) can be switched off; the business gauges are computed from the
    # database at most once per ``metrics_cache_s``. The worker serves the Temporal SDK's
    # runtime metrics on ``worker_metrics_host:worker_metrics_port`` (0 = off).
    metrics_enabled: bool = True
    metrics_cache_s: float = Field(default=5.0, ge=0)
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    # Traces: OpenTelemetry spans of API requests, workflows and activities, exported by OTLP
    # over HTTP to this endpoint (e.g. ``http://otel-collector:4318``); empty = no tracing.
    otlp_endpoint: str = ""

    # Payload encryption keys (jiuzhu/codec.py): ``id:base64,…`` (last = current), else the
    # key file; development creates the file on first start, production requires one of them.
    codec_keys: SecretStr | None = None
    codec_keys_file: Path = Path("var/codec-keys.json")
    # Column encryption of ID numbers and account numbers (jiuzhu/db/sealing.py): AES-256-GCM
    # keys ``id:base64,…`` (last = current) and the blind-index HMAC key (base64, 32 bytes),
    # both or neither, else the key file; development creates the file on first start, the
    # test environment derives fixed keys, production requires them.
    data_keys: SecretStr | None = None
    data_index_key: SecretStr | None = None
    data_keys_file: Path = Path("var/data-keys.json")
    # Origins allowed to call the codec endpoint from a browser (the Temporal Web UI); empty =
    # the embedded Web UI on this host.
    codec_cors_origins: list[str] = Field(default_factory=list)

    policies_dir: Path = Path("policies")
    demo_tokens_file: Path = Path("var/demo-tokens.json")
    # An officer's bearer token expires this many days after it was issued or rotated.
    token_lifetime_days: int = Field(default=90, ge=1, le=366)
    seed_demo_officers: bool = True
    # A fresh development var/ also gets the demo county's cases (scripts/seed_demo.py).
    seed_demo_cases: bool = True

    @model_validator(mode="after")
    def _no_demo_outside_development(self) -> "Settings":
        if self.environment == "production" and self.seed_demo_officers:
            raise ValueError("JIUZHU_SEED_DEMO_OFFICERS must be false in production")
        return self

    @model_validator(mode="after")
    def _ui_url_follows_port(self) -> "Settings":
        if "temporal_ui_url" not in self.model_fields_set:
            self.temporal_ui_url = f"http://localhost:{self.temporal_ui_port}"
        self.temporal_ui_url = self.temporal_ui_url.rstrip("/")
        return self

    @property
    def plans_payroll_ahead(self) -> bool:
        if self.payroll_start_ahead is not None:
            return self.payroll_start_ahead
        return self.environment != "test"

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "console"


@lru_cache
def get_settings() -> Settings:
    return Settings()
