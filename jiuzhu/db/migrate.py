"""Schema by migrations, never ``create_all`` on a production path: ``upgrade(url)`` brings the
database to every head (each capability adds its own migration branch)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "heads")


if __name__ == "__main__":
    from jiuzhu.settings import get_settings

    upgrade(get_settings().database_url)
