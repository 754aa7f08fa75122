"""Payments: the monthly payroll, one-off campaigns, the paying bank and the one writer of
payment instructions (DOMAIN §5)."""
