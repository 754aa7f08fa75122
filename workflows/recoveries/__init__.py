"""Overpayment recovery (追回多发救助金): a receivable per household and death, and one per
entitlement and ending."""
