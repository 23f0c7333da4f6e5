"""Referrals: partners recommend retailers; each referral is tracked to a new partner."""
