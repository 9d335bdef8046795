"""The schema, as SQLAlchemy Core tables. Alembic migrations are generated from this metadata.

Every row that belongs to an operator carries `operator_id`, and every row that belongs to a
client company carries `tenant_id`: repositories filter on both, always.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
    TypeDecorator, UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out — on SQLite (which keeps no zone) too."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        return value.replace(tzinfo=timezone.utc) if value is not None else None


ID = String(32)

operators = Table(
    "operators", metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("missed_pause_code", String(63), nullable=False, default="missed"),
    Column("created_at", UTCDateTime, nullable=False),
)

tenants = Table(
    "tenants", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

programs = Table(
    "programs", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False, index=True),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("default_workflow_id", ID, nullable=True),
    Column("dispositions", JSON, nullable=False, server_default="[]"),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False, index=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=True),
    Column("agent_id", ID, nullable=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),  # "api" or "session"
    Column("name", String(100), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
)

skills = Table(
    "skills", metadata,
    Column("operator_id", ID, ForeignKey("operators.id"), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("description", String(500), nullable=False, default=""),
    Column("requires_certification", String(100), nullable=True),
)

pause_reasons = Table(
    "pause_reasons", metadata,
    Column("operator_id", ID, ForeignKey("operators.id"), primary_key=True),
    Column("code", String(63), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("paid", Boolean, nullable=False),
)

agents = Table(
    "agents", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("certifications", JSON, nullable=False),
    Column("home_state", String(2), nullable=True),
    Column("time_zone", String(64), nullable=False),
    Column("capacity", JSON, nullable=False),
    Column("score", Float, nullable=False, default=0.0),
    Column("attributes", JSON, nullable=False),
    Column("presence", String(20), nullable=False, default="offline"),
    Column("pause_reason", String(63), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

queues = Table(
    "queues", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False, index=True),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

workflows = Table(
    "workflows", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False, index=True),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

interactions = Table(
    "interactions", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("direction", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("queue_id", ID, nullable=True),
    Column("agent_id", ID, nullable=True),
    Column("priority", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("enqueued_at", UTCDateTime, nullable=True),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("abandoned_at", UTCDateTime, nullable=True),
    Column("customer", JSON, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("routing", JSON, nullable=False),  # workflow position, reservations, deadlines
    Column("disposition", String(63), nullable=True),
    Column("notes", Text, nullable=True),
    Column("transfer", JSON, nullable=True),
    # the customer's id, else phone, else e-mail (lower case): past contacts for the screen-pop
    Column("customer_key", String(320), nullable=True),
    Index("ix_interactions_live", "operator_id", "state"),
    Index("ix_interactions_customer", "tenant_id", "customer_key"),
    Index("ix_interactions_tenant_created", "tenant_id", "created_at"),
)

offers = Table(
    "offers", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("interaction_id", ID, ForeignKey("interactions.id"), nullable=False, index=True),
    Column("agent_id", ID, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Index("ix_offers_pending", "operator_id", "status"),
)

agent_segments = Table(
    "agent_segments", metadata,
    Column("agent_id", ID, ForeignKey("agents.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("reason", String(63), nullable=True),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=True),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, nullable=True),
    Column("name", String(50), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("interaction_id", ID, nullable=True, index=True),
    Column("agent_id", ID, nullable=True),
    Column("queue_id", ID, nullable=True),
    Column("data", JSON, nullable=False),
)

referrals = Table(
    "referrals", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(40), nullable=True),
    Column("url", String(2000), nullable=True),
    Column("when_to_use", String(1000), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

webhooks = Table(
    "webhooks", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("events", JSON, nullable=False),  # event names, or ["*"]
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", ID, primary_key=True),
    Column("webhook_id", ID, ForeignKey("webhooks.id"), nullable=False, index=True),
    Column("operator_id", ID, nullable=False),
    Column("tenant_id", ID, nullable=False),
    Column("event_name", String(50), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("webhook_id", "id"),
)


# ---- conversations (issue 3): the messages of chats and e-mails, and what surrounds them -------
customers = Table(
    "customers", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("external_id", String(200), nullable=True),  # the client's own customer number
    Column("first_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=True),
    Column("email", String(320), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("attributes", JSON, nullable=False),  # account number, plan, address …
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_customers_email", "tenant_id", "email"),
    Index("ix_customers_phone", "tenant_id", "phone"),
    Index("ix_customers_external", "tenant_id", "external_id"),
)

messages = Table(
    "messages", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("interaction_id", ID, ForeignKey("interactions.id"), nullable=False),
    Column("seq", Integer, nullable=False),  # 1, 2, … within the interaction
    Column("sender", String(20), nullable=False),  # customer, agent, system
    Column("agent_id", ID, nullable=True),
    Column("body", Text, nullable=False),  # plain text, as typed or as extracted from the e-mail
    Column("html", Text, nullable=True),  # sanitized HTML of an e-mail, safe to show
    Column("sentiment", Float, nullable=True),  # −1 (angry) … +1 (happy), customer messages only
    Column("client_ref", String(64), nullable=True),  # the sender's id for the message: a resend is not doubled
    Column("email", JSON, nullable=True),  # subject, from, to, cc, message_id, in_reply_to, references
    Column("email_message_id", String(998), nullable=True),  # the Message-ID header, for threading
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("interaction_id", "seq"),
    Index("ix_messages_email_message_id", "operator_id", "email_message_id"),
    Index("ix_messages_client_ref", "interaction_id", "client_ref", unique=True),
)

attachments = Table(
    "attachments", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("message_id", ID, ForeignKey("messages.id"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

chat_sessions = Table(
    "chat_sessions", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False),
    Column("interaction_id", ID, ForeignKey("interactions.id"), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the customer's resume token
    Column("customer_read_seq", Integer, nullable=False, default=0),  # last message seq the customer has read
    Column("agent_read_seq", Integer, nullable=False, default=0),  # last message seq the agent has read
    Column("rating", Integer, nullable=True),  # 1–5 after the chat
    Column("rating_comment", Text, nullable=True),
    Column("transcript_sent_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

mail_addresses = Table(  # inbound e-mail: which address feeds which program (and optionally queue)
    "mail_addresses", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False),
    Column("address", String(320), nullable=False, unique=True),  # lower case
    Column("queue_id", ID, nullable=True),
    Column("display_name", String(200), nullable=True),  # the From name of replies
    Column("auto_acknowledge", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

mailboxes = Table(  # IMAP mailboxes polled for new mail
    "mailboxes", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False),
    Column("host", String(255), nullable=False),
    Column("port", Integer, nullable=False),
    Column("security", String(10), nullable=False),  # none, starttls, tls
    Column("username", String(320), nullable=False),
    Column("password", String(500), nullable=False),
    Column("folder", String(200), nullable=False, default="INBOX"),
    Column("address", String(320), nullable=False),  # the address customers write to (replies come from it)
    Column("uidvalidity", Integer, nullable=True),
    Column("last_uid", Integer, nullable=False, default=0),
    Column("last_polled_at", UTCDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

scripts = Table(  # the agent's script for a program, or for one of its queues
    "scripts", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False, index=True),
    Column("queue_id", ID, nullable=True),
    Column("name", String(200), nullable=False),
    Column("steps", JSON, nullable=False),  # [{id, text, options: [{label, next}]}]
    Column("created_at", UTCDateTime, nullable=False),
)

knowledge_articles = Table(
    "knowledge_articles", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

canned_responses = Table(
    "canned_responses", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("program_id", ID, ForeignKey("programs.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("body", Text, nullable=False),  # with {customer.first_name}-style fields
    Column("created_at", UTCDateTime, nullable=False),
)

alerts = Table(  # supervisor alerts: souring tone, thresholds crossed
    "alerts", metadata,
    Column("id", ID, primary_key=True),
    Column("operator_id", ID, ForeignKey("operators.id"), nullable=False),
    Column("tenant_id", ID, nullable=True),
    Column("kind", String(40), nullable=False),
    Column("severity", String(10), nullable=False),  # info, warning, critical
    Column("message", String(500), nullable=False),
    Column("interaction_id", ID, nullable=True),
    Column("agent_id", ID, nullable=True),
    Column("queue_id", ID, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", ID, nullable=True),
    Index("ix_alerts_open", "operator_id", "acknowledged_at"),
)
