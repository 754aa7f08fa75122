"""Database: the case read model, audit log, outbox and reference tables (SQLModel)."""
