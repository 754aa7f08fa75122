"""Temporal activities: every piece of I/O a workflow needs (database, calendar, adapters)."""
