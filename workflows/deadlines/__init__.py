"""Deadlines: the book every case keeps (policy period + working-day calendar → reminder →
escalation, each once) and the calendar_changed signal."""

# TRANSITION re-export while the domains move (removed at the end of the redesign).
from workflows.deadlines.book import DeadlineBook  # noqa: F401
