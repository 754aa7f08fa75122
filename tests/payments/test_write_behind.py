"""The bank step's write-behind (activities/payments/write_behind.py): writes in order, one in
flight, a chunk's heartbeat only after its write, errors raised in the caller's thread, and
nothing still writing once the block is left."""

import threading
import time
from functools import partial

import pytest

from activities.payments.write_behind import WriteBehind


def test_writes_run_in_order_off_the_callers_thread_and_then_follows_each_write() -> None:
    events: list[str] = []
    caller = threading.get_ident()
    threads: set[int] = set()

    def write(n: int) -> None:
        threads.add(threading.get_ident())
        time.sleep(0.01)
        events.append(f"write {n}")

    with WriteBehind() as behind:
        for n in range(5):
            behind.submit(partial(write, n), partial(events.append, f"then {n}"))
            events.append(f"submitted {n}")
    expected_writes = [f"write {n}" for n in range(5)]
    assert [e for e in events if e.startswith("write")] == expected_writes
    for n in range(5):  # each chunk's "then" after its own write, never before
        assert events.index(f"then {n}") > events.index(f"write {n}")
    assert events[-1] == "then 4"  # the block's end waited for the last write
    assert caller not in threads


def test_the_caller_prepares_the_next_chunk_while_a_write_runs() -> None:
    started = threading.Event()
    release = threading.Event()

    def slow_write() -> None:
        started.set()
        release.wait(5)

    with WriteBehind() as behind:
        behind.submit(slow_write)
        assert started.wait(5)
        prepared_while_writing = not release.is_set()  # the caller runs on meanwhile
        release.set()
    assert prepared_while_writing


def test_a_failed_write_is_raised_at_the_next_hand_over_and_its_heartbeat_never_runs() -> None:
    heartbeats: list[int] = []

    def fail() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"), WriteBehind() as behind:
        behind.submit(fail, lambda: heartbeats.append(1))
        behind.submit(lambda: None, lambda: heartbeats.append(2))
    assert heartbeats == []


def test_leaving_on_an_error_waits_for_the_write_in_flight() -> None:
    finished = threading.Event()

    def write() -> None:
        time.sleep(0.05)
        finished.set()

    with pytest.raises(ValueError), WriteBehind() as behind:
        behind.submit(write)
        raise ValueError("the activity failed meanwhile")
    assert finished.is_set()  # nothing writes after the activity has failed
