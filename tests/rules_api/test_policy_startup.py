"""A bad policy file fails start-up of the API and of the worker with the file, the field and
the reason (DOMAIN §9: policies are validated on load)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.main import create_app
from jiuzhu.policy_files import PolicyFileError, default_policies_dir
from jiuzhu.settings import Settings
from tests.conftest import ROOT, free_port

BAD_FILE = "419901@2026-06-01.yaml"


@pytest.fixture
def bad_policies(tmp_path: Path) -> Path:
    """The shipped policies plus a county version with a negative 低保 standard."""
    directory = tmp_path / "policies"
    directory.mkdir()
    for path in default_policies_dir().glob("*.yaml"):
        shutil.copy(path, directory)
    (directory / BAD_FILE).write_text(
        'area_code: "419901"\neffective_from: 2026-06-01\ndibao_standard_urban: "-5.00"\n',
        encoding="utf-8",
    )
    return directory


def assert_names_file_field_reason(text: str) -> None:
    assert BAD_FILE in text
    assert "dibao_standard_urban" in text
    assert "greater than or equal to 0" in text


async def test_api_lifespan_refuses_a_bad_policy_file(
    bad_policies: Path, settings: Settings, engine: Engine, client: Client
) -> None:
    bad = settings.model_copy(update={"policies_dir": bad_policies})
    app = create_app(settings=bad, engine=engine, client=client)
    with pytest.raises(PolicyFileError) as raised:
        async with app.router.lifespan_context(app):
            pass
    assert raised.value.path.name == BAD_FILE
    assert raised.value.field == "dibao_standard_urban"
    assert_names_file_field_reason(str(raised.value))

    good = create_app(settings=settings, engine=engine, client=client)
    async with good.router.lifespan_context(good):
        pass


@pytest.mark.sqlite_only(reason="start-up stops on the policy file before it opens a database")
def test_api_and_worker_processes_exit_on_a_bad_policy_file(
    bad_policies: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "JIUZHU_ENVIRONMENT": "development",
        "JIUZHU_POLICIES_DIR": str(bad_policies),
        "JIUZHU_DATABASE_URL": f"sqlite:///{tmp_path / 'jiuzhu.db'}",
        # Nothing listens here: start-up must stop before it connects.
        "JIUZHU_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "JIUZHU_LOG_FORMAT": "json",
    }
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.main:create_app",
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    worker_out, _ = worker.communicate(timeout=60)
    api_out, _ = api.communicate(timeout=60)
    assert worker.returncode == 2, worker_out
    assert_names_file_field_reason(worker_out.decode())
    assert api.returncode != 0, api_out
    assert_names_file_field_reason(api_out.decode())
    assert "Application startup failed" in api_out.decode()
