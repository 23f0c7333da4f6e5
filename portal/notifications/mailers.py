"""How an email leaves: the log in development, SMTP in production (settings in portal/config.py)."""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Protocol

from flask_babel import gettext as _

from portal.core.errors import ServiceError

log = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, to: list[str], subject: str, body: str) -> None: ...


class LogMailer:
    """The development mailer: writes each message to the application log instead of sending it."""

    def __init__(self, logger: logging.Logger | None = None):
        self.logger = logger or log

    def send(self, to: list[str], subject: str, body: str) -> None:
        self.logger.info("email to %s\nSubject: %s\n\n%s", ", ".join(to), subject, body)


class SmtpMailer:
    """Sends through an SMTP server (STARTTLS on port 587, implicit TLS on 465)."""

    def __init__(self, *, host: str, port: int, sender: str, user: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = 30):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, to: list[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        context = ssl.create_default_context()
        if self.port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls and self.port != 465:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)
        finally:
            # A failure to say goodbye after the message was accepted must not count as a
            # failed send: the notification would be sent again.
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def mailer_from_settings(settings: Mapping[str, str]) -> Mailer:
    """The SMTP mailer when SMTP_HOST is set (e.g. os.environ), else the log mailer."""
    host = (settings.get("SMTP_HOST") or "").strip()
    if not host:
        return LogMailer()
    starttls = (settings.get("SMTP_STARTTLS") or "1").strip().lower() not in (
        "0", "false", "no", "off")
    port_text = (settings.get("SMTP_PORT") or "").strip()
    try:
        port = int(port_text) if port_text else (587 if starttls else 25)
    except ValueError:
        raise ServiceError(_("SMTP_PORT must be a number, not %(value)s.",
                             value=port_text)) from None
    user = (settings.get("SMTP_USER") or "").strip() or None
    sender = (settings.get("SMTP_FROM") or "").strip() or user
    if not sender:
        raise ServiceError(_("Set SMTP_FROM, the sender address of notification emails."))
    return SmtpMailer(host=host, port=port, sender=sender, user=user,
                      password=settings.get("SMTP_PASSWORD") or None, starttls=starttls)


