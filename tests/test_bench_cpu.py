"""The benchmarks' CPU accounting (bench/cpu.py): which process is which, and that CPU used
between start and stop is counted to the right one. Nothing here is timed."""

import os
import subprocess
import sys
import time

from bench.applications import PROCESS, Rate, ceilings
from bench.cpu import (
    CpuMeter,
    ThreadCpuExecutor,
    label_of_stack_process,
    own_process,
    stack_processes,
)


def burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_own_cpu_is_counted_between_start_and_stop() -> None:
    meter = CpuMeter(lambda: [("me", own_process())])
    meter.start()
    burn(0.2)
    meter.stop()
    assert meter.seconds["me"] >= 0.15
    assert 0.0 <= meter.machine_busy <= 1.0
    line = meter.line(per=10, unit="request")
    assert line.startswith("me ") and "of CPU per request; machine busy" in line


def test_stack_children_are_labelled_by_role() -> None:
    sleeper = "import time; time.sleep(30)"
    argvs = {
        "worker": [sys.executable, "-c", sleeper, "worker.py"],
        "Temporal": [sys.executable, "-c", sleeper, "server", "start-dev"],
        "API": [sys.executable, "-c", sleeper, "scripts/serve_api.py"],
        "other": [sys.executable, "-c", sleeper, "temporal", "ui"],
    }
    procs = {role: subprocess.Popen(argv) for role, argv in argvs.items()}
    try:
        meter = stack_processes(os.getpid())
        # pytest's own children (the suite's dev server) are in the tree too: look at ours only
        ours = {proc.pid for proc in procs.values()}
        found = {proc.pid: label for label, proc in meter.find() if proc.pid in ours}
        assert found == {procs[r].pid: r for r in ("worker", "Temporal", "API")}
        assert label_of_stack_process(own_process()) is None  # pytest is none of the roles
        meter.start()
        meter.stop()
        assert set(meter.seconds) == {"load client", "worker", "Temporal", "API"}
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait()


def test_nothing_counted_says_so() -> None:
    assert CpuMeter(lambda: []).line(per=0, unit="case") == "no CPU figures (nothing counted)"


def test_thread_pool_counts_the_cpu_of_its_calls_as_a_part_of_the_process() -> None:
    with ThreadCpuExecutor(max_workers=2) as pool:
        meter = CpuMeter(lambda: [("me", own_process())], within={"pool": lambda: pool.seconds})
        meter.start()
        assert pool.submit(burn, 0.2).result() is None
        assert pool.submit(sum, [1, 2], start=3).result() == 6  # arguments and result kept
        meter.stop()
    assert meter.parts["pool"] >= 0.15
    assert set(meter.seconds) == {"me"}  # a part is never a process of its own
    assert meter.seconds["me"] >= meter.parts["pool"] - 0.01


def test_the_ceiling_the_activities_set_on_the_ratio() -> None:
    # 10 cases each: the bare workflow 100 ms in this process + 150 ms in the server a case;
    # the applications' activities 50 ms a case against the bare no-ops' 0
    bare = Rate(10, 2.0, {PROCESS: 1.0, "dev server": 1.5}, {"activities": 0.0})
    app = Rate(10, 3.0, {PROCESS: 2.0, "dev server": 1.7}, {"activities": 0.5})
    result: dict[str, object] = {}
    (line,) = ceilings(app, bare, result)
    assert result == {"ceiling_machine": 250 / 300, "ceiling_process": 100 / 150}
    assert "50 ms more CPU a case" in line and "0.83" in line and "0.67" in line
    assert ceilings(bare, bare, {}) == []  # nothing above the no-ops: no ceiling to tell
