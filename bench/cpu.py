"""CPU accounting for the benchmarks: how much processor time each process of a run used, and
how busy the whole machine was meanwhile.

A latency measured on a saturated machine says more about the machine than about the code, and
this machine's speed drifts (the same pure-Python loop took 0.65 s and 1.25 s within minutes).
CPU time per request or per case, and the machine's busy share, are the figures that stay
comparable: they show what a change saves and whether a latency goal was measured with room to
spare or at saturation.

Processes are read with ``psutil`` (pinned in ``pyproject.toml``'s dev extras): the maintained
cross-platform reader of process CPU times, chosen over parsing ``/proc`` by hand.
"""

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import psutil

P = ParamSpec("P")
T = TypeVar("T")


def own_process() -> psutil.Process:
    return psutil.Process()


def label_of_stack_process(proc: psutil.Process) -> str | None:
    """The role of one process of ``scripts/run_stack.py``'s tree (None: not counted).

    API: ``scripts/serve_api.py`` and uvicorn's spawned worker processes; worker: ``worker.py``;
    Temporal: the dev server (``temporal server start-dev``; its Web UI runs in the same
    process)."""
    try:
        cmd = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    if "serve_api.py" in cmd or "multiprocessing" in cmd:
        return "API"
    if "worker.py" in cmd:
        return "worker"
    if "start-dev" in cmd:
        return "Temporal"
    return None


def total_seconds(times: Any) -> float:
    """All seconds of a ``psutil.cpu_times()`` reading (guest time is already in user time)."""
    return float(sum(times)) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


def busy_seconds(times: Any) -> float:
    """Seconds not idle (iowait counted as idle) of a ``psutil.cpu_times()`` reading."""
    return total_seconds(times) - float(times.idle) - float(getattr(times, "iowait", 0.0))


class ThreadCpuExecutor(ThreadPoolExecutor):
    """A thread pool that counts the CPU seconds (``time.thread_time``) of the calls it runs,
    each when it ends (a call running across a reading counts at the next).

    Given to a Temporal worker as its activity executor, or as its workflow-task executor, it
    tells how much of the worker's process went to activities, or to workflow activations, as
    against the event loop (the SDK's polling and payload conversion, a new run's sandbox, which
    temporalio 1.35 builds there, and a client sharing the process)."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._lock = threading.Lock()
        self._seconds = 0.0

    @property
    def seconds(self) -> float:
        """CPU seconds of the calls finished so far."""
        with self._lock:
            return self._seconds

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        def counted() -> T:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                used = time.thread_time() - started
                with self._lock:
                    self._seconds += used

        return super().submit(counted)


@dataclass
class CpuMeter:
    """CPU seconds of labelled processes between ``start()`` and ``stop()``.

    ``find`` lists (label, process) pairs; it is called at both ends so that processes started
    or restarted in between count from their birth (a process gone before ``stop()`` loses the
    time it used after ``start()``). ``within`` reads counters of CPU seconds spent inside one
    of those processes (e.g. a ``ThreadCpuExecutor``'s ``seconds``); their differences go to
    ``parts``, never into ``seconds``."""

    find: Callable[[], Iterable[tuple[str, psutil.Process]]]
    within: Mapping[str, Callable[[], float]] = field(default_factory=dict)
    _before: dict[int, float] = field(default_factory=dict)  # CPU seconds by pid at start
    _parts_before: dict[str, float] = field(default_factory=dict)
    _machine_before: float = 0.0
    _machine_total_before: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    parts: dict[str, float] = field(default_factory=dict)
    machine_busy: float = float("nan")  # share of all cores, 0–1

    @staticmethod
    def _cpu(proc: psutil.Process) -> float | None:
        try:
            t = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return float(t.user + t.system)

    def start(self) -> None:
        self._before = {}
        for _, proc in self.find():
            used = self._cpu(proc)
            if used is not None:
                self._before[proc.pid] = used
        self._parts_before = {label: read() for label, read in self.within.items()}
        machine = psutil.cpu_times()
        self._machine_before = busy_seconds(machine)
        self._machine_total_before = total_seconds(machine)

    def stop(self) -> None:
        self.seconds = {}
        for label, proc in self.find():
            used = self._cpu(proc)
            if used is None:
                continue
            before = self._before.get(proc.pid, 0.0)
            self.seconds[label] = self.seconds.get(label, 0.0) + used - before
        self.parts = {
            label: read() - self._parts_before.get(label, 0.0)
            for label, read in self.within.items()
        }
        machine = psutil.cpu_times()
        total = total_seconds(machine) - self._machine_total_before
        if total > 0:
            self.machine_busy = (busy_seconds(machine) - self._machine_before) / total

    def line(self, per: int, unit: str) -> str:
        """``API 5.1 ms, worker 20.3 ms, … per request; machine busy 96 % of 2 cores``."""
        return cpu_line(self.seconds, per, unit, self.machine_busy)


def cpu_line(
    seconds: dict[str, float],
    per: int,
    unit: str,
    machine_busy: float,
    parts: dict[str, float] | None = None,
    parts_of: str = "",
) -> str:
    """CPU seconds by process as milliseconds per ``unit`` (``per`` of them), with the parts
    of the process ``parts_of`` and the rest of it, and the machine's busy share (0–1)."""
    if per <= 0:
        return "no CPU figures (nothing counted)"

    def ms(value: float) -> str:
        return f"{1000 * value / per:.1f} ms"

    processes = ", ".join(f"{label} {ms(s)}" for label, s in seconds.items())
    line = f"{processes} (together {ms(sum(seconds.values()))}) of CPU per {unit}"
    if parts and parts_of in seconds:
        inside = [f"{label} {ms(s)}" for label, s in parts.items()]
        inside.append(f"the rest {ms(seconds[parts_of] - sum(parts.values()))}")
        line += f"; of the {parts_of}: {', '.join(inside)}"
    return f"{line}; machine busy {100 * machine_busy:.0f} % of {psutil.cpu_count()} cores"


def stack_processes(root_pid: int, client_label: str = "load client") -> CpuMeter:
    """A meter over ``scripts/run_stack.py``'s tree (by role) and this process (the client)."""

    def find() -> Iterable[tuple[str, psutil.Process]]:
        yield client_label, own_process()
        try:
            children = psutil.Process(root_pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            label = label_of_stack_process(child)
            if label is not None:
                yield label, child

    return CpuMeter(find)
