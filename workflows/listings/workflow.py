"""The listing posting workflow (长期公示的张贴更新): one per village, for as long as the village
has households on its long-term public listing.

低保办法 Art. 23–24; 焦民〔2022〕154号 十一 (seed 002: 强化低保对象长期公示 … 保护个人隐私). The
listing itself is rendered from the read model whenever it is asked for (``/listings``); what
needs a clock is the board. When a household starts, changes or stops receiving 低保/特困, the
entitlement's read-model write announces it here (``listing_changed``, signal-with-start). The
first change not yet on the board opens the policy's ``listing_update`` deadline: the township
is reminded before it, the county told when it passes (the deadline book). The village's
assistant or the township records the posting (an Update, with what the posted listing shows);
that meets the deadline on the posting's paper date, and later changes open the next one.

Long-lived: the workflow continues as new when the server suggests it, carrying its state
(pending changes, open deadline, the last posting and a short timeline; the audit log keeps
everything). Deterministic: the policy enters through an activity."""

import asyncio

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.publishing import CasePublisher, CaseSteps
from jiuzhu.timers import Alarm
from workflows.deadlines.book import DeadlineBook

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import DeadlineSpec
    from activities.policy import PolicyActivities, PolicyRequest
    from jiuzhu.areas import AreaRef
    from jiuzhu.clock import workflow_today
    from jiuzhu.contract import CaseKind
    from jiuzhu.records import CaseSnapshot
    from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged
    from workflows.listings.checks import check_posting
    from workflows.listings.contract import (
        BASIS,
        CHANGE_NAMES_ZH,
        GET_STATE,
        LISTING_CHANGED,
        LISTING_WORKFLOW_TYPE,
        POSTING_DEADLINE,
        RECORD_POSTING,
        STATUS_LABELS_ZH,
        ChangeKind,
        ListingChange,
        ListingStatus,
        listing_case_id,
    )
    from workflows.listings.models import (
        TIMELINE_KEEP,
        ListingInput,
        ListingState,
        ListingStepResult,
        PendingChange,
        Posting,
        RecordPosting,
    )


@workflow.defn(name=LISTING_WORKFLOW_TYPE)
class ListingPostingWorkflow(CaseSteps[ListingState]):
    @workflow.init
    def __init__(self, inp: ListingInput) -> None:
        self.state = inp.carried or ListingState(
            village_code=inp.village_code, area=AreaRef.of(inp.village_code)
        )
        self.inp = inp
        self.alarm = Alarm()
        self.book = DeadlineBook(
            self.state.deadlines, listing_case_id(inp.village_code), self._publish, self.alarm
        )
        self.publisher = CasePublisher(CaseKind.LISTING, STATUS_LABELS_ZH)
        self.lock = asyncio.Lock()
        self.ready = False
        self.arrived: list[ListingChange] = []  # signals not yet taken in

    @workflow.run
    async def run(self, inp: ListingInput) -> None:
        s = self.state
        self.publisher.static(programme="listing", area=s.area, household_id="")
        async with self.lock:
            if inp.carried is not None:
                self.book.resume()
            else:
                await self._record("opened", None, "建立本村（社区）长期公示的张贴记录")
        self.ready = True
        while not self._should_continue():
            await self.alarm.sleep(lambda: bool(self.arrived) or self._should_continue())
            due = self.alarm.pop_due()
            async with self.lock:
                await self._take_changes()
                if due:
                    await self.book.on_wake(due)
        await workflow.wait_condition(workflow.all_handlers_finished)
        async with self.lock:
            await self._take_changes()
        s.cycle += 1
        s.timeline = s.timeline[-TIMELINE_KEEP:]
        s.deadlines[:] = [d for d in s.deadlines if d.is_open]
        workflow.continue_as_new(self.inp.model_copy(update={"carried": s}))

    def _audit_seq(self) -> str:
        # The timeline is shortened at continue-as-new: the run keeps audit keys apart.
        return f"{self.state.cycle}:{len(self.state.timeline)}"

    def _should_continue(self) -> bool:
        return workflow.info().is_continue_as_new_suggested()

    async def _take_changes(self) -> None:
        """Changes announced since the last turn: one pending change per case, the latest
        (a repeated signal adds nothing); the first one opens the posting deadline."""
        s = self.state
        arrived, self.arrived = self.arrived, []
        for change in arrived:
            pending = PendingChange(case_id=change.case_id, kind=change.kind, on=change.on)
            same = [p for p in s.pending if p.case_id == change.case_id]
            if pending in same:
                continue
            if change.kind is ChangeKind.CHANGE and any(p.kind is ChangeKind.START for p in same):
                continue  # not on the board yet: it comes on as it is when posted
            s.pending = [p for p in s.pending if p.case_id != change.case_id] + [pending]
            open_ = self.book.get(POSTING_DEADLINE)
            if s.status is ListingStatus.POSTED:
                s.status = ListingStatus.UPDATE_DUE
                await self._open_deadline(change)
            elif open_ is not None and open_.is_open and change.on < open_.spec.start:
                await self._open_deadline(change)  # owed from the earlier change
            await self._record(
                "changed",
                None,
                f"公示内容变更：{CHANGE_NAMES_ZH[change.kind]}（案件{change.case_id}，"
                f"{change.on:%Y-%m-%d}），待张贴更新",
                case_id=change.case_id,
                kind=change.kind.value,
            )

    async def _open_deadline(self, change: ListingChange) -> None:
        s = self.state
        policy = await call(
            PolicyActivities.policy_in_force, PolicyRequest(area_code=s.area.code, on=change.on)
        )
        s.policy_version_id = policy.version_id
        await self.book.start(
            DeadlineSpec.owed_by_township(
                name=POSTING_DEADLINE,
                label_zh=f"张贴更新{s.area.code}的长期公示",
                start=change.on,
                period=policy.listing_update,
                reminder_lead=policy.reminder_lead,
                area=s.area,
                basis=BASIS,
            )
        )

    # --- query, signals, update ------------------------------------------------------------
    @workflow.query(name=GET_STATE)
    def get_state(self) -> ListingState:
        return self.state

    @workflow.signal(name=LISTING_CHANGED)
    def listing_changed(self, change: ListingChange) -> None:
        """A household of the village started, changed or stopped: taken in on the next turn."""
        self.arrived.append(change)

    @workflow.signal(name=CALENDAR_CHANGED)
    async def calendar_changed(self, _: CalendarChanged | None = None) -> None:
        """A year's holiday schedule was loaded: recompute a provisional deadline."""
        async with self.lock:
            await self.book.recompute_provisional()

    @workflow.update(name=RECORD_POSTING)
    async def record_posting(self, cmd: RecordPosting) -> ListingStepResult:
        """The updated listing is on the board: meets the posting deadline on its paper date.
        The changes in effect by ``posted_on`` are on the board from now; one that takes effect
        later stays pending and owes the next posting from its own date."""
        async with self._step():
            await self._take_changes()
            s = self.state
            check_posting(s, cmd, workflow_today())
            # A change that takes effect later (a household paid from next month) is not on
            # this posting: it stays pending and opens the next deadline from its own date.
            later = [c for c in s.pending if c.on > cmd.posted_on]
            changes = len(s.pending) - len(later)
            s.pending = later
            s.status = ListingStatus.UPDATE_DUE if later else ListingStatus.POSTED
            s.postings += 1
            s.last_posting = Posting(
                posted_on=cmd.posted_on,
                households=cmd.households,
                total=cmd.total,
                recorded_by=cmd.actor,
                recorded_at=workflow.now(),
                changes=changes,
            )
            await self.book.meet(POSTING_DEADLINE, on=cmd.posted_on)
            if later:
                first = min(later, key=lambda c: c.on)
                await self._open_deadline(
                    ListingChange(case_id=first.case_id, kind=first.kind, on=first.on)
                )
            note = f"含{changes}项变更"
            if later:
                note += f"；另有{len(later)}项变更自{first.on:%Y-%m-%d}起生效，待再次张贴"
            await self._record(
                "posted",
                cmd.actor,
                f"{cmd.posted_on:%Y-%m-%d}张贴更新后的长期公示：共{cmd.households}户，"
                f"月救助金额合计{cmd.total}元（{note}）",
                posted_on=cmd.posted_on.isoformat(),
                households=cmd.households,
                total=str(cmd.total),
            )
            return ListingStepResult(
                village_code=s.village_code, status=s.status, revision=s.revision
            )

    @record_posting.validator
    def _validate_posting(self, cmd: RecordPosting) -> None:
        state = self.state
        if self.arrived and not state.pending:  # changes arrived, not yet taken in
            pending = [PendingChange(case_id=c.case_id, kind=c.kind, on=c.on) for c in self.arrived]
            state = state.model_copy(update={"pending": pending})
        check_posting(state, cmd, workflow_today())

    # --- publishing ------------------------------------------------------------------------
    def _snapshot(self) -> CaseSnapshot:
        s = self.state
        d = self.book.get(POSTING_DEADLINE)
        last = s.last_posting
        return self._case_snapshot(
            programme="listing",
            area_code=s.area.code,
            household_id="",
            applicant_name="",
            applicant_id_number="",
            household_size=0,
            detail={
                "pending_changes": len(s.pending),
                "due_date": d.due_date.isoformat() if d and d.is_open else None,
                "last_posted_on": last.posted_on.isoformat() if last else None,
                "postings": s.postings,
            },
        )
