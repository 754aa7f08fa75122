"""Schema by migrations, never ``create_all`` on a production path: ``upgrade(url)`` brings the
database to the head of one linear chain (0001 foundation → 0002 temporary → 0003 application
→ 0004 payments; each later capability appends one)."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from jiuzhu.db.engine import normalise_url

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    url = normalise_url(url)
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _merge_old_branch_heads(cfg: Config, url: str) -> None:
    """Databases migrated before the chain was made linear record one row per old branch head
    (all of them, since every start upgraded every branch). Keep only the furthest along the
    chain, which implies the others."""
    order = [s.revision for s in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return
            rows = [r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
            if len(rows) <= 1:
                return
            latest = max(rows, key=lambda rev: order.index(rev) if rev in order else -1)
            conn.execute(
                sa.text("DELETE FROM alembic_version WHERE version_num != :v"), {"v": latest}
            )
    finally:
        engine.dispose()


def upgrade(url: str) -> None:
    cfg = alembic_config(url)
    _merge_old_branch_heads(cfg, url)
    command.upgrade(cfg, "head")


if __name__ == "__main__":
    from jiuzhu.settings import get_settings

    upgrade(get_settings().database_url)
