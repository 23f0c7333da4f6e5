"""Rate limits of the referral forms and API that are shared between them."""
from __future__ import annotations

from flask import current_app

from portal.extensions import limiter
from portal.web.guards import actor


def per_user_limit():
    """Referrals a signed-in user may send per hour (the form and the API together): a duplicate
    is answered "already known", so without a limit a partner user could test which companies
    buy from the wholesaler by the thousand."""
    return limiter.shared_limit(lambda: current_app.config["REFERRAL_RATE_LIMIT_USER"], "referral-user",
                                methods=["POST"], key_func=lambda: f"referral-user:{actor().user_id}")
