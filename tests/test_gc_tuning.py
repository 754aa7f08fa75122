"""The worker's garbage-collector settings (``jiuzhu/gc_tuning.py``), checked in a process of its
own: they are process-wide and must not leak into the test session."""

import subprocess
import sys

from jiuzhu.gc_tuning import WORKER_THRESHOLDS


def test_worker_gc_freezes_start_up_and_raises_the_thresholds() -> None:
    code = (
        "import gc, worker\n"  # the worker's modules, as at its start
        "from jiuzhu.gc_tuning import tune_worker_gc\n"
        "tune_worker_gc()\n"
        "print(gc.get_freeze_count(), *gc.get_threshold())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    frozen, *thresholds = (int(x) for x in out)
    assert frozen > 100_000  # the SDK, pydantic and the project's modules
    assert tuple(thresholds) == WORKER_THRESHOLDS
