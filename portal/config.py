"""Configuration from the environment; secrets never live in code."""
from __future__ import annotations

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portal.core.money import MAX_MONEY

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


MIN_SECRET_KEY_LENGTH = 32


def _instance_secret(instance_path: Path) -> str:
    """A development key, generated once and kept in instance/ so sessions survive restarts."""
    path = instance_path / "secret_key"
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        # Created readable by the owner only from the first byte (no chmod afterwards), and
        # never over a key another process has just written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = path.read_text().strip()
        if not existing:
            raise ConfigError(f"{path} is empty; delete it and a new key is generated") from None
        return existing
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _public_url(value: str | None, production: bool) -> str:
    """The portal's address as partners reach it: every absolute link (invitations, emails) is
    built from it, never from the request's Host header, which a client chooses."""
    if not value:
        if production:
            raise ConfigError("PUBLIC_URL must be set in production, e.g. https://portal.example.com")
        return "http://127.0.0.1:5000"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"PUBLIC_URL must be an http(s) address like https://portal.example.com, not {value!r}")
    if production and parts.scheme != "https":
        raise ConfigError(f"PUBLIC_URL must use https in production, not {value!r}")
    return value.rstrip("/")


def _check_production_secret(key: str | None) -> None:
    how = "e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
    if not key:
        raise ConfigError(f"SECRET_KEY must be set in production (TRELLIS_ENV=production); {how}")
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is too short for production: {len(key)} characters, at least "
            f"{MIN_SECRET_KEY_LENGTH} needed; {how}"
        )


def _whole_number(name: str, default: int, *, minimum: int = 1) -> int:
    """An integer setting from the environment, or a ConfigError that says what is wrong."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {raw!r}")
    return value


def _amount(name: str, default: str, *, minimum: str = "0") -> Decimal:
    """A money setting (PLN, net) from the environment, or a ConfigError that says what is wrong."""
    raw = (os.environ.get(name) or "").strip() or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < Decimal(minimum) or value > MAX_MONEY \
            or value != value.quantize(Decimal("0.01")):
        raise ConfigError(f"{name} must be an amount of at least {minimum} with at most two "
                          f"decimals, not {raw!r}")
    return value


SMTP_SETTINGS = ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM")


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app configuration: defaults, then the environment, then ``overrides``."""
    overrides = dict(overrides or {})
    env = overrides.get("TRELLIS_ENV") or os.environ.get("TRELLIS_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"TRELLIS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    production = env == "production"
    default_db = f"sqlite:///{instance_path / 'trellis.db'}"
    config: dict[str, Any] = {
        "TRELLIS_ENV": env,
        "TESTING": env == "testing",
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        # PostgreSQL: give up (503, "try again") after waiting this long for a lock; 0 = wait.
        "DB_LOCK_TIMEOUT_MS": _whole_number("DB_LOCK_TIMEOUT_MS", 5000, minimum=0),
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        "LOGIN_RATE_LIMIT_IP": os.environ.get("LOGIN_RATE_LIMIT_IP", "20 per 10 minutes"),
        "LOGIN_RATE_LIMIT_EMAIL": os.environ.get("LOGIN_RATE_LIMIT_EMAIL", "5 per 10 minutes"),
        "SESSION_IDLE_MINUTES": _whole_number("SESSION_IDLE_MINUTES", 120),
        "SESSION_MAX_HOURS": _whole_number("SESSION_MAX_HOURS", 12),
        "API_TOKEN_HOURS": _whole_number("API_TOKEN_HOURS", 24),
        "INVITATION_DAYS": _whole_number("INVITATION_DAYS", 7),
        "PASSWORD_RESET_MINUTES": _whole_number("PASSWORD_RESET_MINUTES", 60),
        # Forgotten-password requests (every one counts, found or not): per address, per email.
        "RESET_RATE_LIMIT_IP": os.environ.get("RESET_RATE_LIMIT_IP", "10 per hour"),
        "RESET_RATE_LIMIT_EMAIL": os.environ.get("RESET_RATE_LIMIT_EMAIL", "3 per hour"),
        # The public referral form: per client address and per referral link (any address).
        "REFERRAL_RATE_LIMIT_IP": os.environ.get("REFERRAL_RATE_LIMIT_IP", "10 per hour"),
        "REFERRAL_RATE_LIMIT_CODE": os.environ.get("REFERRAL_RATE_LIMIT_CODE", "30 per hour"),
        # Referrals a signed-in user sends (form and API together).
        "REFERRAL_RATE_LIMIT_USER": os.environ.get("REFERRAL_RATE_LIMIT_USER", "30 per hour"),
        # A referral's reward (portal.referrals.rewards): a credit of this net amount for the
        # referrer, earned when the referred partner has this many delivered orders worth at
        # least this much (net) in all.
        "REFERRAL_REWARD_AMOUNT": _amount("REFERRAL_REWARD_AMOUNT", "200.00", minimum="0.01"),
        "REFERRAL_REWARD_ORDERS": _whole_number("REFERRAL_REWARD_ORDERS", 1),
        "REFERRAL_REWARD_REVENUE": _amount("REFERRAL_REWARD_REVENUE", "0"),
        "TRUSTED_PROXIES": _whole_number("TRUSTED_PROXIES", 0, minimum=0),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "__Host-trellis" if production else "trellis",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "CURRENCY": os.environ.get("TRELLIS_CURRENCY", "PLN"),
        "BABEL_DEFAULT_LOCALE": "en",
        # The wholesaler's time zone: times are stored in UTC and shown (and months counted) here.
        "BABEL_DEFAULT_TIMEZONE": _time_zone(os.environ.get("TRELLIS_TIMEZONE", "Europe/Warsaw")),
        "LANGUAGES": ("en", "pl"),
        "PASSWORD_HASH_PROFILE": "default",
        # Notification emails: SMTP when SMTP_HOST is set, else written to the log (checked by
        # portal.notifications.mailers when `notifications send` starts).
        **{name: os.environ.get(name, "") for name in SMTP_SETTINGS},
        # flask-smorest / OpenAPI
        "API_TITLE": "Trellis API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    config.update(overrides)
    if production:
        _check_production_secret(config.get("SECRET_KEY"))
    config["PUBLIC_URL"] = _public_url(config.get("PUBLIC_URL") or os.environ.get("PUBLIC_URL"), production)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = (
            secrets.token_hex(32) if config["TESTING"] else _instance_secret(instance_path)
        )
    return config


def _time_zone(name: str) -> str:
    """An IANA time zone name, checked now so a typo stops the start-up with a clear message."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(f"TRELLIS_TIMEZONE={name!r} is not a time zone (e.g. Europe/Warsaw).") from exc
    return name
