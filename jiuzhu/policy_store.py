"""Policy layers in force: files in policies/ (validated at start-up) plus versions an admin added
through the API (DOMAIN §9). Read by activities and the API; workflows get a resolved ``Policy``
as an activity result, so a later policy edit never changes a replay."""

from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from jiuzhu.db.models import PolicyVersion
from jiuzhu.policy_files import load_policy_files
from rules.policy import Policy, PolicyLayer, resolve_policy


@lru_cache(maxsize=4)
def file_layers(directory: Path) -> tuple[PolicyLayer, ...]:
    return tuple(load_policy_files(directory))


def api_layers(engine: Engine) -> list[PolicyLayer]:
    with Session(engine) as session:
        rows = session.exec(select(PolicyVersion)).all()
    return [PolicyLayer.model_validate(row.layer) for row in rows]


def all_layers(engine: Engine, directory: Path) -> list[PolicyLayer]:
    return [*file_layers(directory), *api_layers(engine)]


def policy_in_force(engine: Engine, directory: Path, area_code: str, on: date) -> Policy:
    return resolve_policy(all_layers(engine, directory), area_code, on)
