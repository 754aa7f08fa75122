"""Workflow versioning: the patch ids that let running cases replay across a change.

``light-history`` (2026-11, the domain redesign): short activities run as local activities, one
``Alarm`` timer replaces per-deadline watchers and per-step timer restarts, and Updates return
small results. Cases started before it replay on the legacy path (see
tests/application/histories/*_v1.json).

``one-household-*`` (2026-11, issue 11 item 4): applications of household programmes keep the
household-membership index (``jiuzhu.membership``) — an investigation claims its members, a case
closed without approval releases them, an approval hands them to the entitlement. Cases recorded
before it replay without those activities."""

from temporalio import workflow

LIGHT_HISTORY = "light-history"
# 2026-11: a 一事一议 referral starts the county's decision deadline (policy
# ``special_decision``); cases referred before it replay without one.
SPECIAL_DECISION_DEADLINE = "special-decision-deadline"
# 2026-11: a campaign whose bank answer could not be read waits for finance's ``resubmit``
# instead of ending; campaigns started before it end at ``bank_error`` as they did.
CAMPAIGN_RESUBMIT = "campaign-resubmit"
# 2026-11-30: the resubmit patch above, and the payroll's (workflows/payments/payroll.py), is
# asked after the bank-error escalation, a local activity. A query that split that workflow task
# put the marker in the next task, where a replay (the activity resolved inside the first task)
# no longer found it: a nondeterminism error, seen once in the session replay. New executions ask
# this one instead, before the escalation; those that recorded the old marker replay with it.
CAMPAIGN_RESUBMIT_FIRST = "campaign-resubmit-asked-first"
# 2026-11 (issue 11 item 3): a campaign re-checks deaths and stops before finance confirms its
# total and again before the bank file; campaigns started before it replay without that.
CAMPAIGN_RECHECK = "campaign-recheck"
# 2026-11: one person, one active household per programme (issue 11 item 4) — one id per call
# site, so a site first reached after the change takes it even if another site replayed without.
ONE_HOUSEHOLD_CLAIM = "one-household-claim"
ONE_HOUSEHOLD_RELEASE = "one-household-release"
ONE_HOUSEHOLD_TRANSFER = "one-household-transfer"

# 2026-11 (issue 13 item 6): a case that reaches its outcome upserts the ``DecisionOutcome``
# search attribute; cases that reached it before replay without that upsert.
DECISION_OUTCOME = "decision-outcome-search-attribute"
# 2026-11 (issue 13 item 1): a deadline met on paper on or before its due day withdraws the
# reminder and escalation already posted for it (``void_outbox``); cases that met a deadline
# before replay without that activity.
PAPER_MEET_VOID = "paper-meet-void"
# 2026-11 (issue 13 item 6): a month's payroll starts the next month's ahead (one workflow per
# month, no schedule launcher); months started before it replay without that activity.
PAYROLL_NEXT_MONTH = "payroll-next-month"


class Versions:
    """The patches an execution runs with, asked through one object so that a workflow type can
    fold the patches every new execution takes into one **baseline** patch.

    Each ``workflow.patched`` id an execution takes costs a marker and an upsert of
    ``TemporalChangeVersion`` in its history (the SDK core adds the upsert); an application
    case took seven of them. With ``Versions(baseline, includes)``, built first in the
    workflow's ``__init__`` (the run's first workflow task, which every replay reads the same):

    - an execution started with the baseline records that one marker, and every id in
      ``includes`` answers ``True`` without a marker of its own;
    - an execution started before (its first task has no baseline marker) answers each id with
      ``workflow.patched`` as it always did, so its recorded markers replay unchanged.

    A patch added later is not in ``includes`` and is asked as usual. ``Versions()`` (no
    baseline) is ``workflow.patched`` itself. Operators find the executions of a baseline in
    the Web UI with ``TemporalChangeVersion = '<baseline>'``."""

    def __init__(self, baseline: str | None = None, includes: frozenset[str] = frozenset()) -> None:
        self.baseline = baseline is not None and workflow.patched(baseline)
        self._includes = includes if self.baseline else frozenset()

    def patched(self, patch_id: str) -> bool:
        return patch_id in self._includes or workflow.patched(patch_id)

    def light_history(self) -> bool:
        """True for executions started with ``light-history`` (memoised by the SDK per
        execution)."""
        return self.patched(LIGHT_HISTORY)


# 2026-11 (issue 14 item 6): the rules already written down. A 特困 entitlement loads the
# self-care re-assessment period and, for a minor, the day the coverage age is reached (its
# wake-up opens the in-school review); entitlements started before replay without either.
TEKUN_SELF_CARE = "tekun-self-care-reassessment"
TEKUN_MINOR_COVERAGE = "tekun-minor-coverage"

# 2026-11-30: an ``Alarm`` never cancels a durable timer. A timer started and cancelled within
# one workflow task is dropped by the SDK before it reaches history; when a query split that
# task after a local activity completed, the original history kept the timer while a replay
# (the activity resolved inside the same task) dropped it: a nondeterminism error on the next
# replay. Executions started before replay with the cancelling timer they recorded.
ALARM_KEEPS_TIMERS = "alarm-keeps-timers"
# 2026-12-01: at the start of an Update handler (a workflow task the server sent, the same in
# every replay), an ``Alarm`` cancels the timers started in earlier workflow tasks whose instant
# no wake-up holds any more (a deadline met early), instead of letting each fire for nothing.
# Executions started before let them fire, as they recorded.
ALARM_DROPS_STALE_TIMERS = "alarm-drops-stale-timers"

# 2026-11-30: an entitlement that ends (a stop, the end of a gradual withdrawal, a 特困
# termination, a recognition's validity; a reversed approval ends through a stop) opens the
# receivable of payroll lines already paid for months after its last payable month
# (``RecoveryActivities.open_ending_recovery``). Asked when the run starts (the workflow's
# ``__init__``); runs started before replay without that activity.
RECOVERY_ON_END = "entitlement-recovery-on-end"
# 2026-11-30 (issue 11 item 3, workflows/entitlements/steps/settlement.py): an ending waits
# for the payroll lines a bank still holds (sent, not yet reconciled) before it opens its
# receivable, so a line paid after the end is recovered too; endings recorded before open it at
# once, as they did.
RECOVERY_AFTER_SETTLEMENT = "entitlement-recovery-after-settlement"
# The same for a death's receivable (its own call site, its own id).
DEATH_RECOVERY_AFTER_SETTLEMENT = "entitlement-death-recovery-after-settlement"
# A publicity posted on paper that had already run its course was closed inside the initial
# opinion's step, before the opinion itself was recorded: the timeline read "publicity closed",
# then "initial opinion". New executions record the opinion first.
OPINION_BEFORE_CLOSE = "opinion-recorded-before-publicity-close"
# That patch is asked inside the step after its local activities, where a query splitting the
# workflow task can move the marker (the rule of ``CAMPAIGN_RESUBMIT_FIRST``). New executions ask
# this one at the entry of the opinion's Update instead, before any local activity; those that
# recorded the first replay with it.
OPINION_BEFORE_CLOSE_FIRST = "opinion-recorded-before-publicity-close-asked-first"

# The patches of the shared kernel (``jiuzhu.calls``, ``Alarm``, ``DeadlineBook``,
# ``CasePublisher``) that every baseline includes.
KERNEL_PATCHES = frozenset(
    {LIGHT_HISTORY, ALARM_KEEPS_TIMERS, ALARM_DROPS_STALE_TIMERS, PAPER_MEET_VOID, DECISION_OUTCOME}
)

# 2026-12-01: the application workflow's baseline (``Versions``): a case started with it takes
# every patch above that applies to it, and the publisher no longer upserts an unset
# ``NextDeadline`` and a false ``HasProvisionalDeadline`` the case was never started with. One
# marker instead of seven (and as many ``TemporalChangeVersion`` upserts) per case.
APPLICATION_BASELINE = "application-baseline-2026-12"
# 2026-12-01: the entitlement's baseline, the same for its runs: every patch above that applies
# to an entitlement, one marker per run instead of up to eleven.
ENTITLEMENT_BASELINE = "entitlement-baseline-2026-12"
