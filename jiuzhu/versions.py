"""Workflow versioning: the patch ids that let running cases replay across a change.

``light-history`` (2026-11, the domain redesign): short activities run as local activities, one
``Alarm`` timer replaces per-deadline watchers and per-step timer restarts, and Updates return
small results. Cases started before it replay on the legacy path (see
tests/application/histories/*_v1.json)."""

from temporalio import workflow

LIGHT_HISTORY = "light-history"


def light_history() -> bool:
    """True for executions started with this change (memoised by the SDK per execution)."""
    return workflow.patched(LIGHT_HISTORY)
