"""Entitlement activities: the read model the payroll reads, written notices, the payment
summary and the monthly death check."""
