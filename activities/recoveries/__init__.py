"""Activities of overpayment recovery: open a receivable when a death is recorded."""
