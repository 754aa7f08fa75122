"""TRANSITION shim while the domains move (removed at the end of the redesign)."""

from activities.deadlines import Deadline, DeadlineSpec

__all__ = ["Deadline", "DeadlineSpec"]
