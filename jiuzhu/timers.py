"""The one timer primitive of every workflow: an ``Alarm`` holds the case's named wake-ups
(deadline reminders and escalations, the end of a publicity, a lapse, a payment stage …) and
keeps a durable timer aimed at the earliest of them.

A timer is started when an earlier wake-up is set. It is not cancelled when the earliest moves
later or is cleared: a timer started and cancelled within one workflow task never reaches
history, a query can split such a task after a local activity, and the replay then disagrees
with the history. Instead, an Update handler calls ``drop_stale`` before anything else: it runs
first in a workflow task the server sent (in every replay too), and cancels only timers started
in earlier tasks, whose start is in history — so a deadline met early (an investigation
recorded the day it was accepted) does not leave a timer that wakes the case for nothing days
later. (Executions recorded before ``alarm-keeps-timers`` replay with the cancelling timer they
used; those recorded before ``alarm-drops-stale-timers`` let stale timers fire.)
Wake-ups due at the same instant are handed over together, in the order they were set, so a
workflow can let a step trigger (the close of publicity) act before a deadline escalation that
falls at the same instant — no "one second earlier" tricks.

Workflow code only. The wake-ups live in workflow state (rebuilt from it after continue-as-new),
so a restart of worker or server changes nothing: the timer is durable on the server."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

from jiuzhu.versions import ALARM_DROPS_STALE_TIMERS, ALARM_KEEPS_TIMERS, Versions


class Alarm:
    def __init__(self, versions: Versions | None = None) -> None:
        """Build in the workflow's ``__init__``: the version is asked here, before any command
        of the run, so a replay reads it the same whatever the run's activities did.
        ``versions``: the workflow's (a baseline may answer these patches); the deadline book
        asks its own patches through it too."""
        self.versions = versions or Versions()
        self._wakes: dict[str, datetime] = {}
        # each running timer by its instant, with the history length of the task that started it
        self._timers: dict[datetime, tuple[asyncio.Future[None], int]] = {}
        self._keeps_timers = self.versions.patched(ALARM_KEEPS_TIMERS)
        self._drops_stale = self._keeps_timers and self.versions.patched(ALARM_DROPS_STALE_TIMERS)

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
        for at in [at for at, (t, _) in self._timers.items() if t.done()]:
            del self._timers[at]
        running = self._timers.get(target)
        if running is not None:
            return running[0]
        fired = asyncio.ensure_future(asyncio.sleep(delay))
        self._timers[target] = (fired, workflow.info().get_current_history_length())
        return fired

    def drop_stale(self) -> None:
        """Cancel the running timers that no wake-up needs any more (their instant is no
        wake-up's), if they were started in an earlier workflow task. Call it first thing in an
        Update handler, before any ``await``: that code runs in the workflow task the server
        sent with the Update, the same in the first run and in every replay, so the
        cancellation lands at the same point of history. Anywhere else (after a local activity,
        in a wake-up) a task split by a query would move it. No-op outside an Update handler and
        for executions started before ``alarm-drops-stale-timers``."""
        if not self._drops_stale or workflow.current_update_info() is None:
            return
        task = workflow.info().get_current_history_length()
        needed = set(self._wakes.values())
        for at, (fired, started_in) in list(self._timers.items()):
            if not fired.done() and at not in needed and started_in < task:
                fired.cancel()
                del self._timers[at]

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
