"""Activities of referrals: the referral register and its read model."""
