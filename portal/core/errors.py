"""Errors services raise; views turn them into a flash, a form error or a JSON error."""


class ServiceError(Exception):
    """A business rule refused the request; the message is safe to show to the user."""

    code = "invalid"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field
        if code is not None:
            self.code = code


class AuthError(ServiceError):
    code = "unauthorized"


class NotFound(ServiceError):
    """No such row for this caller; ``foreign`` when it exists but belongs to another partner
    (answered the same, but audited as an attempt)."""

    code = "not_found"

    def __init__(self, message: str, *, foreign: bool = False, **kwargs):
        super().__init__(message, **kwargs)
        self.foreign = foreign


class Conflict(ServiceError):
    code = "conflict"
