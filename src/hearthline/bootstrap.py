"""The composition root: the one place that builds adapters and services from settings."""
from __future__ import annotations

import socket
from dataclasses import dataclass

from .adapters.mail.parse import Limits
from .adapters.mail.smtp_client import RelayConfig, SmtpRelayMailer
from .adapters.mail.smtp_server import SmtpListener
from .adapters.sql.store import SqlStore
from .adapters.tone import VaderTone
from .config import Settings
from .services.auth import Auth
from .services.bus import InProcessEventBus
from .services.email import EmailChannel, EmailConfig
from .services.platform import Platform
from .services.router import Clock, SystemClock
from .services.webhooks import WebhookDispatcher, attach as attach_webhooks


@dataclass(slots=True)
class Components:
    settings: Settings
    platform: Platform
    auth: Auth
    webhooks: WebhookDispatcher
    email: EmailChannel | None = None  # started and stopped by the web app's lifespan


def build(settings: Settings, *, clock: Clock | None = None) -> Components:
    """Build everything, connecting nothing: call `start()` on the platform (the web lifespan
    does) after `platform.store.start()` and `upgrade()`."""
    store = SqlStore(settings.effective_database_url())
    bus = InProcessEventBus()
    platform = Platform(store, bus, clock or SystemClock(), offer_timeout_seconds=settings.offer_timeout_seconds,
                        tone=VaderTone())
    auth = Auth(platform, login_attempts_per_minute=settings.login_attempts_per_minute,
                session_max_age_seconds=settings.session_max_age_seconds)
    return Components(settings, platform, auth, attach_webhooks(platform, settings), build_email(platform, settings))


def build_email(platform: Platform, settings: Settings) -> EmailChannel:
    """The e-mail component: always there (agents' replies, the outbox, IMAP polling); the SMTP
    listener when `smtp_listen_port` is set; `platform.mailer` when `smtp_relay_host` is."""
    sender = settings.mail_from_address
    domain = settings.mail_domain or (sender.rpartition("@")[2] if "@" in sender else "") or socket.gethostname() \
        or "localhost"
    sender = sender or f"hearthline@{domain}"
    config = EmailConfig(
        limits=Limits(settings.mail_max_attachment_bytes, settings.mail_max_attachments_bytes),
        max_message_bytes=settings.mail_max_message_bytes, poll_interval_seconds=settings.mail_poll_interval_seconds,
        acks_per_sender_per_hour=settings.mail_acks_per_sender_per_hour, max_attempts=settings.mail_max_attempts,
        from_address=sender, message_id_domain=domain)
    if settings.smtp_relay_host:
        platform.mailer = SmtpRelayMailer(RelayConfig(
            settings.smtp_relay_host, settings.smtp_relay_port, settings.smtp_relay_security,
            settings.smtp_relay_username, settings.smtp_relay_password, settings.smtp_relay_timeout_seconds,
            default_from=sender, message_id_domain=domain))
    channel = EmailChannel(platform, config).attach()
    if settings.smtp_listen_port:
        channel.listener = SmtpListener(channel, settings.smtp_listen_host, settings.smtp_listen_port,
                                        max_message_bytes=settings.mail_max_message_bytes, hostname=domain)
    return channel
