"""Fixtures of the temporary-assistance tests: a township officer for 西山乡 (419901003), whose
reserve fund only the race test uses."""

import pytest
from sqlalchemy import Engine

from jiuzhu.contract import Role
from jiuzhu.officers import create_officer


@pytest.fixture(scope="session")
def township3(engine: Engine) -> dict[str, str]:
    create_officer(
        engine, "officer-temp-township3", "测试西山乡", Role.TOWNSHIP_OFFICER, "419901003", "tt-3"
    )
    return {"Authorization": "Bearer tt-3"}
