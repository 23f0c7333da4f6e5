"""Rate limiting: Flask-Limiter with the sign-in limit that every sign-in route shares."""
from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app
from flask_limiter import Limiter

from portal.core.text import normalize_email


class TrellisLimiter(Limiter):
    """Flask-Limiter, plus the per-email sign-in limit that every sign-in route shares."""

    def failed_sign_ins_per_email(self, email: Callable[[], str], *, success_status: int | None = None,
                                  failed: Callable[[Response], bool] | None = None):
        """Limit failed sign-ins per email (LOGIN_RATE_LIMIT_EMAIL), from any address.

        ``email`` reads the email the request signs in as; any answer but ``success_status``
        counts as a failure. One counter per email for all sign-in routes, so the web form and
        the API token endpoint together allow no more guesses than one of them; successes do
        not count, so the account's owner is not locked out by signing in. Nor do our own
        failures (5xx): no password was checked, and with the limiter's storage down, counting
        would fail again after the 503 was answered. ``failed`` instead of ``success_status``
        decides for routes where other answers are not guesses (the account page's wrong current
        password counts, a too-short new password does not).
        """
        if failed is None:
            def failed(response: Response) -> bool:
                return response.status_code not in (success_status, 500, 503)

        return self.shared_limit(
            lambda: current_app.config["LOGIN_RATE_LIMIT_EMAIL"],
            scope="login-email",
            key_func=lambda: "login-email:" + normalize_email(email() or "")[:254],
            methods=["POST"],
            deduct_when=failed,
        )
