"""Engine construction: SQLite under var/ by default (WAL, busy timeout, so API and worker
processes share it), PostgreSQL by URL (``postgresql+psycopg://…``: psycopg 3 is the driver
installed; a bare ``postgresql://`` or ``postgres://`` URL means it too)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, create_engine

from jiuzhu.db import sealing

if TYPE_CHECKING:
    from jiuzhu.settings import Settings


def normalise_url(url: str) -> str:
    """``postgresql://`` / ``postgres://`` name the installed driver, psycopg 3 (SQLAlchemy's
    default for a bare ``postgresql://`` is psycopg2, which Jiuzhu does not install)."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare) :]
    return url


def make_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int = 20,
    pool_timeout_s: float = 10.0,
    sqlite_cache_mib: int = 32,
) -> Engine:
    """An engine with a bounded pool (sizes from settings: ``db_pool_size``,
    ``db_max_overflow``, ``db_pool_timeout_s``; on SQLite a page cache of ``sqlite_cache_mib``
    per connection). Sealed columns need the process's column
    encryption keys: configured here from ``get_settings()`` unless ``engine_for`` (or a test)
    already did (``jiuzhu/db/sealing.py``)."""
    sealing.ensure_configured()
    url = normalise_url(url)
    # A ping on every checkout guards against a server that dropped idle connections; a SQLite
    # file never does, so it pays the extra query for nothing.
    kwargs: dict[str, Any] = {"pool_pre_ping": not url.startswith("sqlite")}
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if not in_memory:  # an in-memory database has one connection per thread, no pool
        # Last in, first out: the connection just returned (its page cache warm) is used again,
        # and the others stay idle instead of each warming a cache of its own.
        kwargs.update(
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout_s,
            pool_use_lifo=True,
        )
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif url.startswith("postgresql"):
        # No JIT: the payroll's set-based statements work a chunk at a time, and PostgreSQL
        # compiled each one for ~0.6 s to run it in ~0.1 s (the re-check of a 25,000-line
        # chunk: 750 ms with JIT, EXPLAIN ANALYZE; docs/SCALE.md).
        kwargs["connect_args"] = {"options": "-c jit=off"}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA cache_size=-{int(sqlite_cache_mib) * 1024}")  # KiB
            cur.close()

    return engine


def engine_for(settings: "Settings") -> Engine:
    """The engine of a process (API or worker), pool sized from settings; the column
    encryption keys of ``settings`` become the process's (``jiuzhu/db/sealing.py``)."""
    sealing.configure_from(settings)
    return make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout_s=settings.db_pool_timeout_s,
        sqlite_cache_mib=settings.sqlite_cache_mib,
    )


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A state change and its audit record commit together, or not at all."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_for(dialect: str) -> Any:
    """The ``insert`` of a dialect by name (PostgreSQL's or SQLite's), which has
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``: an idempotent write in one
    statement, without a read first."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def dialect_name(session: Session) -> str:
    return str(session.get_bind().dialect.name)


def dialect_insert(session: Session) -> Any:
    """``insert_for`` the session's dialect."""
    return insert_for(dialect_name(session))
