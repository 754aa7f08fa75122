"""Alembic environment: the URL comes from the caller (``jiuzhu.db.migrate``) or from settings."""

import importlib
import pkgutil

from alembic import context
from sqlmodel import SQLModel

import jiuzhu.db
from jiuzhu.settings import get_settings

for module in pkgutil.iter_modules(jiuzhu.db.__path__):
    if module.name.startswith("models"):
        importlib.import_module(f"jiuzhu.db.{module.name}")

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    from jiuzhu.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
