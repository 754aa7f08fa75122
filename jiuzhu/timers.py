"""The one timer primitive of every workflow: an ``Alarm`` holds the case's named wake-ups
(deadline reminders and escalations, the end of a publicity, a lapse, a payment stage …) and
keeps a durable timer aimed at the earliest of them.

A timer is started when an earlier wake-up is set, and is never cancelled: when the earliest
moves later or is cleared, the timer already running fires at its instant, finds nothing due,
and the loop sleeps again. (A timer started and cancelled within one workflow task never reaches
history; a query can split such a task after a local activity, and the replay then disagrees
with the history. Executions recorded before ``alarm-keeps-timers`` replay with the cancelling
timer they used.)
Wake-ups due at the same instant are handed over together, in the order they were set, so a
workflow can let a step trigger (the close of publicity) act before a deadline escalation that
falls at the same instant — no "one second earlier" tricks.

Workflow code only. The wake-ups live in workflow state (rebuilt from it after continue-as-new),
so a restart of worker or server changes nothing: the timer is durable on the server."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

from jiuzhu.versions import ALARM_KEEPS_TIMERS


class Alarm:
    def __init__(self) -> None:
        """Build in the workflow's ``__init__``: the version is asked here, before any command
        of the run, so a replay reads it the same whatever the run's activities did."""
        self._wakes: dict[str, datetime] = {}
        self._timers: dict[datetime, asyncio.Future[None]] = {}
        self._keeps_timers = workflow.patched(ALARM_KEEPS_TIMERS)

    # --- wake-ups ----------------------------------------------------------------------
    def set(self, key: str, at: datetime) -> None:
        """Wake at ``at`` for ``key`` (replacing an earlier setting of the same key)."""
        self._wakes.pop(key, None)
        self._wakes[key] = at

    def clear(self, key: str) -> None:
        self._wakes.pop(key, None)

    def clear_prefix(self, prefix: str) -> None:
        for key in [k for k in self._wakes if k.startswith(prefix)]:
            del self._wakes[key]

    def get(self, key: str) -> datetime | None:
        return self._wakes.get(key)

    def earliest(self) -> datetime | None:
        return min(self._wakes.values()) if self._wakes else None

    def pop_due(self) -> list[str]:
        """The keys whose instant has come, earliest first (ties in the order set); removed."""
        now = workflow.now()
        due = sorted((at, i, key) for i, (key, at) in enumerate(self._wakes.items()) if at <= now)
        for _, _, key in due:
            del self._wakes[key]
        return [key for _, _, key in due]

    # --- sleeping ----------------------------------------------------------------------
    async def sleep(self, stop: Callable[[], bool]) -> None:
        """Sleep until the earliest wake-up is due, an earlier one is set, or ``stop()`` holds.
        One durable timer per instant waited for, started only when there is an earliest
        instant to wait for, never cancelled."""
        target = self.earliest()
        if target is None:
            await workflow.wait_condition(lambda: stop() or self.earliest() is not None)
            return
        delay = (target - workflow.now()).total_seconds()
        if delay <= 0:
            return
        if self._keeps_timers:
            fired = self._timer(target, delay)
            await workflow.wait_condition(
                lambda: stop() or fired.done() or _before(self.earliest(), target)
            )
            return
        try:
            await workflow.wait_condition(
                lambda: stop() or self.earliest() != target, timeout=delay
            )
        except TimeoutError:
            pass

    def _timer(self, target: datetime, delay: float) -> "asyncio.Future[None]":
        """The durable timer that fires at ``target`` (one per instant; those fired are
        forgotten)."""
        for at in [at for at, t in self._timers.items() if t.done()]:
            del self._timers[at]
        fired = self._timers.get(target)
        if fired is None:
            fired = asyncio.ensure_future(asyncio.sleep(delay))
            self._timers[target] = fired
        return fired

    async def serve(
        self,
        done: Callable[[], bool],
        lock: asyncio.Lock,
        on_due: Callable[[list[str]], Awaitable[None]],
    ) -> None:
        """The case's wake loop, until ``done()`` holds: sleep (``sleep``), take the keys that
        have come (``pop_due``) and hand them to ``on_due`` under the case's ``lock`` (so a
        wake-up never interleaves with a step). Usually ``on_due`` is the deadline book's
        ``on_wake``; a workflow with wake-ups of its own acts on its keys first, then hands
        them on. One place for the loop, so every case issues the same commands in the same
        order (a wake with nothing due costs nothing)."""
        while not done():
            await self.sleep(done)
            due = self.pop_due()
            if due:
                async with lock:
                    await on_due(due)


def _before(at: datetime | None, than: datetime) -> bool:
    return at is not None and at < than
