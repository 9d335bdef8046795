"""Distinct id types. Ids are opaque strings; new ones are random (uuid4 hex, 32 characters)."""
from __future__ import annotations

import uuid
from typing import NewType

OperatorId = NewType("OperatorId", str)
TenantId = NewType("TenantId", str)
ProgramId = NewType("ProgramId", str)
UserId = NewType("UserId", str)
AgentId = NewType("AgentId", str)
QueueId = NewType("QueueId", str)
WorkflowId = NewType("WorkflowId", str)
InteractionId = NewType("InteractionId", str)
OfferId = NewType("OfferId", str)


def new_id() -> str:
    return uuid.uuid4().hex
