"""Deadlines: the book every case keeps (policy period + working-day calendar → reminder →
escalation, each once) and the calendar_changed signal."""
