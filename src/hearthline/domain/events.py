"""Domain events: something that happened, named in the past tense, with its time and data.

Every state change of an interaction or an agent produces one. They are appended to the store's
event table in the same transaction as the change, then published on the bus.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EventName(enum.StrEnum):
    INTERACTION_CREATED = "InteractionCreated"
    INTERACTION_QUEUED = "InteractionQueued"
    INTERACTION_OVERFLOWED = "InteractionOverflowed"
    INTERACTION_OFFERED = "InteractionOffered"
    OFFER_ACCEPTED = "OfferAccepted"
    OFFER_REJECTED = "OfferRejected"
    OFFER_TIMED_OUT = "OfferTimedOut"
    OFFER_WITHDRAWN = "OfferWithdrawn"
    OFFER_REVERTED = "OfferReverted"
    INTERACTION_HELD = "InteractionHeld"
    INTERACTION_RESUMED = "InteractionResumed"
    INTERACTION_WRAP_UP_STARTED = "InteractionWrapUpStarted"
    INTERACTION_COMPLETED = "InteractionCompleted"
    INTERACTION_ABANDONED = "InteractionAbandoned"
    INTERACTION_TRANSFERRED = "InteractionTransferred"
    INTERACTION_REOPENED = "InteractionReopened"
    AGENT_STATE_CHANGED = "AgentStateChanged"
    # conversations (written by services/conversations.py, not the router; stored as messages)
    MESSAGE_ADDED = "MessageAdded"
    MESSAGES_READ = "MessagesRead"
    TYPING = "Typing"
    ALERT_RAISED = "AlertRaised"
    ALERT_ACKNOWLEDGED = "AlertAcknowledged"
    CHAT_RATED = "ChatRated"


# Signals that are published but neither stored as events nor sent to webhooks.
EPHEMERAL = frozenset({EventName.TYPING, EventName.MESSAGES_READ})


@dataclass(frozen=True, slots=True)
class Event:
    name: EventName
    at: datetime
    operator_id: str
    tenant_id: str | None = None
    interaction_id: str | None = None
    agent_id: str | None = None
    queue_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": str(self.name),
            "at": self.at.isoformat(),
            "operator_id": self.operator_id,
            "tenant_id": self.tenant_id,
            "interaction_id": self.interaction_id,
            "agent_id": self.agent_id,
            "queue_id": self.queue_id,
            "data": self.data,
        }
