"""The suite's Jiuzhu databases: SQLite files by default; PostgreSQL when
``JIUZHU_TEST_DATABASE_URL`` names a server (``make test-pg`` starts a throw-away one with
``scripts/pg_cluster.sh``). On a server every database the suite asks for is a fresh one
(``jiuzhu_t<hex>``), created at the start and dropped at the end.

- ``fresh_database(dir, name)``: an empty database of the run's kind (the session's database,
  migration tests, anything touching the read model or payments).
- What only exists on SQLite (the embedded ``make run`` stack) keeps its own SQLite files in both
  runs, and says so with the ``sqlite_only`` marker.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from jiuzhu.db.engine import normalise_url

SERVER_ENV = "JIUZHU_TEST_DATABASE_URL"


def server_url() -> str | None:
    """The PostgreSQL server of this run (its maintenance database), or None (SQLite)."""
    url = os.environ.get(SERVER_ENV, "").strip()
    return normalise_url(url) if url else None


def on_postgres() -> bool:
    return server_url() is not None


def database_kind() -> str:
    return "postgresql" if on_postgres() else "sqlite"


def sqlite_database(directory: Path, name: str = "jiuzhu") -> str:
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / f'{name}.db'}"


def _admin_engine(server: str) -> sa.Engine:
    return sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


@contextmanager
def fresh_database(directory: Path, name: str = "jiuzhu") -> Iterator[str]:
    """An empty database for the run: a SQLite file ``<directory>/<name>.db``, or a new
    database on the run's PostgreSQL server, dropped (connections and all) afterwards."""
    server = server_url()
    if server is None:
        yield sqlite_database(directory, name)
        return
    db_name = f"jiuzhu_t{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
        yield make_url(server).set(database=db_name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
