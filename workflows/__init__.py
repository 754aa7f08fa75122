"""Temporal workflows: one durable workflow per case, per entitlement and per payroll month."""
