"""argon2id password hashing (argon2-cffi) and the password policy."""
from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from portal.core.errors import ServiceError

MIN_LENGTH = 12
MAX_LENGTH = 256
_hasher = PasswordHasher()
# A valid hash of a random password: verified against when the email is unknown, so that a
# failed login takes as long whether or not the account exists.
_DUMMY_HASH: str | None = None


def configure(profile: str = "default") -> None:
    """Choose the argon2 cost profile ("cheapest" is for tests only)."""
    global _hasher, _DUMMY_HASH
    params = profiles.CHEAPEST if profile == "cheapest" else profiles.RFC_9106_LOW_MEMORY
    if profile == "default":
        _hasher = PasswordHasher()  # argon2-cffi's defaults: argon2id, t=3, m=64 MiB, p=4
    else:
        _hasher = PasswordHasher.from_parameters(params)
    _DUMMY_HASH = None


def check_policy(password: str) -> None:
    """Raise ServiceError when a new password is not acceptable."""
    if len(password) < MIN_LENGTH:
        raise ServiceError(
            _("Use at least %(n)d characters.", n=MIN_LENGTH), field="password"
        )
    if len(password) > MAX_LENGTH:
        raise ServiceError(_("Use at most %(n)d characters.", n=MAX_LENGTH), field="password")
    if "\x00" in password:
        raise ServiceError(_("The password contains a forbidden character."), field="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; runs a full verification even without a hash."""
    global _DUMMY_HASH
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash("not-a-password-anyone-has")
        password_hash = _DUMMY_HASH
        password = password + "\x00never"
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
