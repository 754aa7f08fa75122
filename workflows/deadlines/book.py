"""The deadline book: one mechanism for every legal clock (applications, entitlements, payroll,
temporary assistance). Each deadline has a due instant computed by an activity from the policy
period and the working-day calendar, a reminder before it to the responsible role, an
escalation to the supervising level when it passes, and a record of when it was met (DOMAIN §8).

The book lives in workflow state (``Deadline`` models survive continue-as-new). Its wake-ups are
keys ``deadline:<name>`` in the case's ``Alarm`` (``jiuzhu/timers.py``): the workflow's one
timer, so meeting a deadline or taking a step costs no timer command unless the earliest
wake-up changes. A reminder and an escalation each go out once across worker and server
restarts. Executions recorded before ``light-history`` replay with their per-deadline watcher
tasks (``_legacy_*``).

A step entered after the fact meets its deadline on its paper date (``meet(name, on=...)``): on
or before the due day it counts as met in time, and a reminder or escalation the book already
posted for it is withdrawn — marked void in the outbox (issue 13 item 1; 低保办法 Art. 15–21
count the periods from the acts themselves, not from their entry in the system)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.timers import Alarm
from jiuzhu.versions import PAPER_MEET_VOID

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import Deadline, DeadlineActivities, DeadlineSpec, VoidOutbox
    from jiuzhu.contract import ROLE_NAMES_ZH
    from jiuzhu.records import OutboxItem

KEY_PREFIX = "deadline:"


class DeadlineBook:
    """Workflow-side owner of a case's deadlines. ``on_change`` is awaited whenever a deadline is
    added, met, escalated or moved, so the workflow can refresh search attributes and read
    model."""

    def __init__(
        self,
        deadlines: list[Deadline],
        case_id: str,
        on_change: Callable[[], Awaitable[None]],
        alarm: Alarm,
    ) -> None:
        self.items = deadlines
        self.case_id = case_id
        self.alarm = alarm
        self._on_change = on_change
        self._tasks: dict[tuple[str, int], asyncio.Task[None]] = {}

    # --- reading -------------------------------------------------------------------------
    def get(self, name: str) -> Deadline | None:
        for d in reversed(self.items):
            if d.name == name:
                return d
        return None

    def open(self) -> list[Deadline]:
        return [d for d in self.items if d.is_open]

    def next_due(self) -> datetime | None:
        dues = [d.due_at for d in self.open()]
        return min(dues) if dues else None

    def next_open(self) -> Deadline | None:
        """The open deadline due first (whose responsible role acts next), or None."""
        return min(self.open(), key=lambda d: d.due_at, default=None)

    def overdue(self) -> bool:
        now = workflow.now()
        return any(d.is_overdue(now) for d in self.items)

    def has_provisional(self) -> bool:
        return any(d.provisional for d in self.open())

    # --- changing ------------------------------------------------------------------------
    async def start(self, spec: DeadlineSpec) -> Deadline:
        """Open a deadline (replacing an open one of the same name, e.g. a new publicity)."""
        previous = self.get(spec.name)
        if previous is not None and previous.is_open:
            previous.cancelled_at = workflow.now()
        deadline: Deadline = await call(DeadlineActivities.compute_deadline, spec)
        self.items.append(deadline)
        self._watch(deadline)
        await self._on_change()
        return deadline

    async def meet(self, name: str, on: date | None = None) -> Deadline | None:
        """Meet an open deadline now; ``on`` is the act's paper date (a step entered after the
        fact). Met on paper on or before the due day, it was met in time: the reminder and the
        escalation already posted for it are withdrawn (void in the outbox); met later on
        paper, they stand."""
        d = self.get(name)
        if d is None or not d.is_open:
            return None
        d.met_at = workflow.now()
        d.met_on = on
        self.alarm.clear(KEY_PREFIX + name)
        if (
            on is not None
            and on <= d.due_date
            and (d.reminded_at is not None or d.escalated_at is not None)
            and self.alarm.versions.patched(PAPER_MEET_VOID)
        ):
            await call(
                DeadlineActivities.void_outbox,
                VoidOutbox(dedupe_keys=self._posted_keys(d), voided_reason_zh=self._void_reason(d)),
            )
            d.voided_at = workflow.now()
        await self._on_change()
        return d

    def _void_reason(self, d: Deadline) -> str:
        on = d.met_on.isoformat() if d.met_on else ""
        due = d.due_date.isoformat()
        return f"「{d.spec.label_zh}」已于{on}按期办理（到期日{due}），本提醒/督办撤回。"

    def _posted_keys(self, d: Deadline) -> list[str]:
        """Every outbox key the book may have used for this deadline (each generation, each
        kind); the activity voids those that exist."""
        return [
            self._key(d, generation, kind)
            for generation in range(d.generation + 1)
            for kind in ("reminder", "escalation")
        ]

    def _key(self, d: Deadline, generation: int, kind: str) -> str:
        return f"{workflow.info().workflow_id}:{d.name}:{d.spec.start}:{generation}:{kind}"

    async def cancel(self, name: str) -> None:
        d = self.get(name)
        if d is not None and d.is_open:
            d.cancelled_at = workflow.now()
            self.alarm.clear(KEY_PREFIX + name)
            await self._on_change()

    async def cancel_all(self) -> None:
        now = workflow.now()
        for d in self.open():
            d.cancelled_at = now
        self.alarm.clear_prefix(KEY_PREFIX)
        await self._on_change()

    def resume(self) -> None:
        """Re-arm every open deadline after continue-as-new (state came in through the input)."""
        for d in self.open():
            self._watch(d)

    async def recompute_provisional(self) -> None:
        """A year's schedule was loaded: recompute every open provisional deadline."""
        changed = False
        for d in self.open():
            if not d.provisional:
                continue
            fresh: Deadline = await call(DeadlineActivities.compute_deadline, d.spec)
            if (fresh.due_at, fresh.remind_at, fresh.provisional) != (
                d.due_at,
                d.remind_at,
                d.provisional,
            ):
                d.due_date, d.due_at = fresh.due_date, fresh.due_at
                d.remind_at, d.provisional = fresh.remind_at, fresh.provisional
                d.generation += 1
                self._watch(d)
                changed = True
        if changed:
            await self._on_change()

    # --- waking ----------------------------------------------------------------------------
    def _watch(self, d: Deadline) -> None:
        if not self.alarm.versions.light_history():
            self._legacy_watch(d)
            return
        if d.reminded_at is None:
            self.alarm.set(KEY_PREFIX + d.name, d.remind_at)
        elif d.escalated_at is None:
            self.alarm.set(KEY_PREFIX + d.name, d.due_at)

    def owns(self, key: str) -> bool:
        return key.startswith(KEY_PREFIX)

    async def on_wake(self, keys: list[str]) -> None:
        """The alarm handed over due keys: send what is due (reminder, then escalation) for the
        book's own keys, re-arm for the escalation; other keys are ignored."""
        now = workflow.now()
        for key in keys:
            if not self.owns(key):
                continue
            d = self.get(key.removeprefix(KEY_PREFIX))
            if d is None or not d.is_open:
                continue
            if d.reminded_at is None and now >= d.remind_at:
                await self._post(d, "reminder", d.spec.responsible_role, d.spec.responsible_area)
                d.reminded_at = workflow.now()
            if d.escalated_at is None and now >= d.due_at:
                await self._post(d, "escalation", d.spec.escalation_role, d.spec.escalation_area)
                d.escalated_at = workflow.now()
                await self._on_change()
            self._watch(d)

    # --- legacy watchers (executions recorded before light-history) -------------------------
    def _legacy_watch(self, d: Deadline) -> None:
        key = (d.name + "@" + d.spec.start.isoformat(), d.generation)
        if key in self._tasks and not self._tasks[key].done():
            return
        self._tasks[key] = asyncio.create_task(self._legacy_run(d, d.generation))

    async def _legacy_sleep_until(self, d: Deadline, generation: int, instant: datetime) -> bool:
        delay = (instant - workflow.now()).total_seconds()
        if delay > 0:
            try:
                await workflow.wait_condition(
                    lambda: not d.is_open or d.generation != generation,
                    timeout=delay,
                )
            except TimeoutError:
                pass
        return d.is_open and d.generation == generation

    async def _legacy_run(self, d: Deadline, generation: int) -> None:
        if d.reminded_at is None:
            if not await self._legacy_sleep_until(d, generation, d.remind_at):
                return
            await self._post(d, "reminder", d.spec.responsible_role, d.spec.responsible_area)
            d.reminded_at = workflow.now()
        if d.escalated_at is None:
            if not await self._legacy_sleep_until(d, generation, d.due_at):
                return
            await self._post(d, "escalation", d.spec.escalation_role, d.spec.escalation_area)
            d.escalated_at = workflow.now()
            await self._on_change()

    # --- messages ----------------------------------------------------------------------------
    async def _post(self, d: Deadline, kind: str, role: str, area: str) -> None:
        due = d.due_date.isoformat()
        if kind == "reminder":
            text = f"提醒：案件{self.case_id}的「{d.spec.label_zh}」将于{due}到期，请及时办理。"
        else:
            text = (
                f"督办：案件{self.case_id}的「{d.spec.label_zh}」已于{due}逾期未办，"
                f"责任方为{ROLE_NAMES_ZH.get(d.spec.responsible_role, d.spec.responsible_role)}"
                f"（{d.spec.responsible_area}），请督促办理。"
            )
        info = workflow.info()
        item = OutboxItem(
            dedupe_key=self._key(d, d.generation, kind),
            kind=kind,
            recipient_role=role,
            recipient_area=area,
            case_id=self.case_id,
            workflow_id=info.workflow_id,
            deadline_name=d.name,
            message_zh=text,
            due_at=d.due_at,
        )
        await call(DeadlineActivities.post_outbox, item)
