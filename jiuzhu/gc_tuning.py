"""The garbage collector of the long-running processes: the worker and the API's processes.

Both build a large heap at start-up (the SDK, pydantic's schemas, SQLAlchemy, FastAPI's routes,
the project's modules) that lives as long as the process, and CPython's default thresholds
(700, 10, 10) make every full collection walk all of it again: a stop-the-world pause for
everything the process is doing.

- *The worker.* Every new case runs in a sandbox of its own: the workflow's modules, classes
  and functions are built again for it (``workflows/sandbox.py``), thousands of objects a case.
  In ``bench.applications --n 100`` (210 cases in one process) the collector ran 1,160 young,
  105 middle and 9 full collections, 1.2 s in all, each full one a pause of 85–95 ms for every
  workflow task and activity; tuned, 410, 36 and 3 (0.4 s), for 27 MiB more peak memory
  (201 → 228 MiB).
- *The API.* Reads alone (``bench.api_load --mix step_create_accept=0``, 100 officers, 40 s):
  each process ran full collections of 170–220 ms (five in one run, across the two processes),
  and every request in flight in that process waited them out; the reads' p99 was 226 ms.
  Tuned, side by side: one full collection of 15–61 ms per process, p99 66 ms.

``tune_gc`` is called once a process has loaded what it serves: ``gc.freeze`` moves what
start-up built into a permanent generation that no collection scans again, and the thresholds
below make collections rarer. Reference cycles are still collected; only later."""

import gc

THRESHOLDS = (50_000, 50, 100)


def tune_gc() -> None:
    """Freeze what is loaded now and set the long-running process's thresholds
    (process-wide)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
