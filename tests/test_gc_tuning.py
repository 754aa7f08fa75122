"""The long-running processes' garbage-collector settings (``jiuzhu/gc_tuning.py``), checked in
processes of their own: they are process-wide and must not leak into the test session."""

import subprocess
import sys

import pytest

from jiuzhu.gc_tuning import THRESHOLDS

WORKER = "import worker\nfrom jiuzhu.gc_tuning import tune_gc\ntune_gc()\n"
# The API's serving factory, as uvicorn calls it in each process (settings from the
# environment: a development app on a throw-away database, nothing served).
API = "from api.serving import create_served_app\ncreate_served_app()\n"


@pytest.mark.parametrize("start", [WORKER, API], ids=["worker", "api"])
def test_start_up_is_frozen_and_thresholds_raised(start: str, tmp_path: object) -> None:
    code = start + "import gc\nprint(gc.get_freeze_count(), *gc.get_threshold())\n"
    env = {
        "PATH": "/usr/bin:/bin",
        "JIUZHU_ENVIRONMENT": "development",
        "JIUZHU_DATABASE_URL": f"sqlite:///{tmp_path}/gc.db",
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    ).stdout.split()
    frozen, *thresholds = (int(x) for x in out[-4:])
    assert frozen > 100_000  # the SDK or FastAPI, pydantic and the project's modules
    assert tuple(thresholds) == THRESHOLDS
