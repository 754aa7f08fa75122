"""The one timer primitive of every workflow: an ``Alarm`` holds the case's named wake-ups
(deadline reminders and escalations, the end of a publicity, a lapse, a payment stage …) and
keeps **one** durable timer aimed at the earliest of them.

The timer is started again only when the earliest instant changes (an earlier wake-up is set,
or the earliest is cleared); a step that sets a later wake-up or none costs no timer command.
Wake-ups due at the same instant are handed over together, in the order they were set, so a
workflow can let a step trigger (the close of publicity) act before a deadline escalation that
falls at the same instant — no "one second earlier" tricks.

Workflow code only. The wake-ups live in workflow state (rebuilt from it after continue-as-new),
so a restart of worker or server changes nothing: the timer is durable on the server."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow


class Alarm:
    def __init__(self) -> None:
        self._wakes: dict[str, datetime] = {}

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
        """Sleep until the earliest wake-up is due, the earliest instant changes, or ``stop()``
        holds. One durable timer, started only when there is an earliest instant to wait for."""
        target = self.earliest()
        if target is None:
            await workflow.wait_condition(lambda: stop() or self.earliest() is not None)
            return
        delay = (target - workflow.now()).total_seconds()
        if delay <= 0:
            return
        try:
            await workflow.wait_condition(
                lambda: stop() or self.earliest() != target, timeout=delay
            )
        except TimeoutError:
            pass

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
