"""argon2id password hashing (argon2-cffi) and the password policy."""
from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.core.errors import ServiceError

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable: moderate protection from offline attacks"
MIN_PERSONAL = 4  # shorter pieces of a name or email are too common to forbid
ZXCVBN_MAX = 72
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


def _personal_words(email: str | None, name: str | None) -> list[str]:
    """The parts of a person's email and name a password must not be built from (4+ letters)."""
    words: list[str] = []
    if email:
        local, _sep, domain = email.lower().partition("@")
        words += [local, *re.split(r"[._+-]+", local), domain.split(".")[0]]
    if name:
        words += re.split(r"\W+", name.lower())
    return sorted({word for word in words if len(word) >= MIN_PERSONAL}, key=len, reverse=True)


def check_policy(password: str, *, email: str | None = None, name: str | None = None) -> None:
    """Raise ServiceError when a new password is not acceptable.

    Length (12-256), no NUL; not one of the 30,000 most common passwords, nor guessable from a
    keyboard row, a repeat or a sequence (zxcvbn's estimate, score below 3, ASVS 5.0 6.2.4); not
    built from the person's email or name (ASVS 6.2.11).
    """
    if len(password) < MIN_LENGTH:
        raise ServiceError(
            _("Use at least %(n)d characters.", n=MIN_LENGTH), field="password"
        )
    if len(password) > MAX_LENGTH:
        raise ServiceError(_("Use at most %(n)d characters.", n=MAX_LENGTH), field="password")
    if "\x00" in password:
        raise ServiceError(_("The password contains a forbidden character."), field="password")
    lowered = password.lower()
    if lowered in _common_passwords():
        raise ServiceError(_("This is one of the most commonly used passwords. Choose another."),
                           field="password")
    personal = _personal_words(email, name)
    if any(word in lowered for word in personal):
        raise ServiceError(_("Do not build the password from your name or email address."), field="password")
    # zxcvbn refuses passwords over 72 characters; the start of a long one is what a guesser tries.
    if zxcvbn(password[:ZXCVBN_MAX], user_inputs=personal)["score"] < MIN_SCORE:
        raise ServiceError(
            _("This password is too easy to guess (a keyboard row, a repeated character, or a common "
              "word with digits). A few unrelated words make a strong password."), field="password")


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords of leaked password lists, ranked.
    return frozenset(FREQUENCY_LISTS["passwords"])


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
