"""Referrals to other departments: one assistance chain per household (一户一条救助链)."""
