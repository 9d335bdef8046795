"""The outbound SMTP relay: the Mailer (domain/mail.py) that sends replies, acknowledgements and
chat transcripts through the relay named in the settings (smtp_relay_*), with aiosmtplib.

One connection per message: a contact center's replies come a few a second at most, and a kept
connection would need care with relays that drop idle sessions. Failures are raised as
MailDeliveryError, `permanent` when the relay refused for good (a 5xx answer) so that the outbox
stops retrying; connection problems, time-outs and 4xx answers are temporary.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

import aiosmtplib

from ...domain.mail import OutgoingMail

log = logging.getLogger(__name__)

# Lines up to RFC 5322's 998 characters: a long References header must not be folded into
# encoded words (which would break the Message-IDs in it).
_POLICY = policy.SMTP.clone(max_line_length=998)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,75}$")
_OWN_HEADERS = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to", "references",
                          "mime-version", "content-type", "content-transfer-encoding"})


class MailDeliveryError(Exception):
    """The relay did not take the message. `permanent`: do not try again (a 5xx refusal)."""

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True, slots=True)
class RelayConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # none, starttls, tls
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_seconds: float = 30.0
    default_from: str = "hearthline@localhost"
    message_id_domain: str = "localhost"


def make_message_id(domain: str) -> str:
    """A new, globally unique Message-ID: 128 random bits at our domain."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def _one_line(value: str) -> str:
    """Header values never carry line breaks (header injection) or NUL."""
    return re.sub(r"[\r\n\x00]+", " ", value).strip()


def build_message(mail: OutgoingMail, *, default_from: str, message_id: str) -> EmailMessage:
    """The MIME message for `mail`: text (and HTML as an alternative), quoted-printable."""
    msg = EmailMessage(policy=_POLICY)
    from_address = _one_line(mail.from_address or default_from)
    msg["From"] = formataddr((_one_line(mail.from_name or ""), from_address)) if mail.from_name else from_address
    msg["To"] = _one_line(mail.to)
    msg["Subject"] = _one_line(mail.subject)[:900]
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = _one_line(message_id)
    if mail.in_reply_to:
        msg["In-Reply-To"] = _one_line(mail.in_reply_to)
    if mail.references:
        msg["References"] = " ".join(_one_line(r) for r in mail.references)
    for name, value in mail.headers.items():
        if _HEADER_NAME.match(name) and name.lower() not in _OWN_HEADERS:
            msg[name] = _one_line(value)
    msg.set_content(mail.text, cte="quoted-printable")
    if mail.html:
        msg.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    return msg


class SmtpRelayMailer:
    """Sends through one SMTP relay. Secrets (the password) never reach a log line."""

    def __init__(self, config: RelayConfig) -> None:
        if config.security not in ("none", "starttls", "tls"):
            raise ValueError(f"unknown SMTP security {config.security!r}")
        self.config = config
        if config.username and config.security == "none":
            log.warning("mail: the SMTP relay %s:%d takes a password without TLS", config.host, config.port)

    def new_message_id(self) -> str:
        return make_message_id(self.config.message_id_domain)

    async def send(self, mail: OutgoingMail) -> str:
        """Send `mail`; returns its Message-ID. Raises MailDeliveryError."""
        c = self.config
        message_id = mail.message_id or self.new_message_id()
        msg = build_message(mail, default_from=c.default_from, message_id=message_id)
        try:
            await aiosmtplib.send(
                msg, sender=_one_line(mail.from_address or c.default_from), recipients=[envelope_address(mail.to)],
                hostname=c.host, port=c.port, username=c.username or None, password=c.password or None,
                use_tls=c.security == "tls", start_tls=True if c.security == "starttls" else False,
                timeout=c.timeout_seconds)
        except aiosmtplib.SMTPRecipientsRefused as err:
            codes = [r.code for r in err.recipients]
            permanent = bool(codes) and all(code >= 500 for code in codes)
            raise MailDeliveryError(f"the relay refused the recipient: {_describe(err)}", permanent=permanent,
                                    code=codes[0] if codes else None) from err
        except aiosmtplib.SMTPResponseException as err:
            raise MailDeliveryError(f"the relay answered {err.code}: {err.message}"[:400],
                                    permanent=err.code >= 500, code=err.code) from err
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
            raise MailDeliveryError(f"could not reach the relay {c.host}:{c.port}: {_describe(err)}") from err
        return message_id


def envelope_address(to: str) -> str:
    """The bare address of `to`, which may be written "Name <address>"."""
    return _one_line(parseaddr(to)[1] or to)


def _describe(err: BaseException) -> str:
    return (str(err) or type(err).__name__)[:300]
