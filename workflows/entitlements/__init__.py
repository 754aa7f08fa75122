"""Entitlements: one workflow per household and programme pays from the first month to the last
(DOMAIN §4 termination, §5)."""
