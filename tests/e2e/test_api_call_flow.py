"""A contact from arrival to completion through the API, as the agent and her supervisor see it."""
from __future__ import annotations

from typing import Any

import pytest

from .support import World

pytestmark = pytest.mark.e2e


def _stats_of(api: Any, queue_id: str) -> dict[str, Any]:
    return next(q for q in api.ok("GET", "/stats/queues") if q["queue_id"] == queue_id)


def _call(world: World, key: str = "A", **extra: Any) -> dict[str, Any]:
    return world.admin.ok("POST", "/interactions", 201, json={
        "program_id": world.programs[key]["id"], "channel": "voice", "queue_id": world.queues[key]["id"],
        "customer": {"name": "Dana", "phone": "+15550123"}, **extra})


def test_a_call_is_offered_accepted_handled_and_counted(world: World) -> None:
    agent, me, queue_id = world.agent_api, world.agent["id"], world.queues["A"]["id"]
    assert agent.ok("PUT", f"/agents/{me}/state", json={"state": "available"})["state"] == "available"

    call = _call(world)
    assert call["state"] == "offered"
    [offer] = agent.ok("GET", f"/agents/{me}/offers")
    assert offer["interaction_id"] == call["id"] and offer["customer"]["name"] == "Dana"
    assert offer["queue_name"] == world.queues["A"]["name"]
    assert agent.ok("GET", f"/interactions/{call['id']}")["state"] == "offered"  # offered to her: she may look

    accepted = agent.ok("POST", f"/agents/{me}/offers/{offer['id']}/accept")
    assert accepted["state"] == "accepted" and accepted["agent_id"] == me and accepted["answered_at"]
    assert agent.ok("GET", f"/agents/{me}/state")["state"] == "busy"
    assert agent.ok("GET", f"/agents/{me}/offers") == []
    assert agent.ok("POST", f"/interactions/{call['id']}/hold")["state"] == "held"
    assert agent.ok("POST", f"/interactions/{call['id']}/resume")["state"] == "accepted"
    wrap = agent.ok("POST", f"/interactions/{call['id']}/end")
    assert wrap["state"] == "wrap_up" and wrap["wrap_up_deadline"]
    assert agent.ok("GET", f"/agents/{me}/state")["state"] == "wrap_up"
    done = agent.ok("POST", f"/interactions/{call['id']}/complete",
                    json={"disposition": "resolved", "notes": "billing question answered"})
    assert done["state"] == "completed" and done["disposition"] == "resolved"
    assert done["notes"] == "billing question answered"
    assert agent.ok("GET", f"/agents/{me}/state")["state"] == "available"

    stats = _stats_of(world.supervisor_api, queue_id)
    assert (stats["offered"], stats["answered"], stats["abandoned"], stats["waiting"]) == (1, 1, 0, 0)
    assert stats["service_level"] == 1.0 and stats["aht_seconds"] is not None
    mine = next(a for a in world.supervisor_api.ok("GET", "/stats/agents") if a["agent_id"] == me)
    assert mine["contacts"] == 1
    names = [e["name"] for e in world.admin.ok("GET", f"/interactions/{call['id']}/events")]
    for name in ("InteractionCreated", "InteractionOffered", "OfferAccepted", "InteractionHeld",
                 "InteractionResumed", "InteractionWrapUpStarted", "InteractionCompleted"):
        assert name in names
    assert [i["id"] for i in agent.ok("GET", "/interactions", params={"state": "completed"})] == [call["id"]]


def test_a_rejected_call_goes_back_and_is_not_offered_to_her_again(world: World) -> None:
    agent, me = world.agent_api, world.agent["id"]
    agent.ok("PUT", f"/agents/{me}/state", json={"state": "available"})
    call = _call(world)
    [offer] = agent.ok("GET", f"/agents/{me}/offers")
    assert agent.post(f"/agents/{me}/offers/{offer['id']}/reject").status_code == 204
    assert world.admin.ok("GET", f"/interactions/{call['id']}")["state"] == "queued"
    assert agent.ok("GET", f"/agents/{me}/offers") == []
    # The offer is closed: accepting it now is not-found.
    assert agent.post(f"/agents/{me}/offers/{offer['id']}/accept").status_code == 404


def test_transfers_to_a_queue_and_to_an_external_number(world: World) -> None:
    agent, me = world.agent_api, world.agent["id"]
    other_queue = world.admin.ok("POST", "/queues", 201, json={"program_id": world.programs["A"]["id"],
                                                               "name": "Second line"})
    agent.ok("PUT", f"/agents/{me}/state", json={"state": "available"})
    call = _call(world)
    [offer] = agent.ok("GET", f"/agents/{me}/offers")
    agent.ok("POST", f"/agents/{me}/offers/{offer['id']}/accept")
    # Another tenant's queue is not there for this contact.
    assert agent.post(f"/interactions/{call['id']}/transfer",
                      json={"kind": "queue", "target": world.queues["B"]["id"]}).status_code == 404
    moved = agent.ok("POST", f"/interactions/{call['id']}/transfer",
                     json={"kind": "queue", "target": other_queue["id"], "note": "wrong line"})
    assert moved["queue_id"] == other_queue["id"] and moved["transfer"]["note"] == "wrong line"
    assert moved["state"] in ("queued", "offered")

    second = _call(world)
    [offer] = agent.ok("GET", f"/agents/{me}/offers")
    assert offer["interaction_id"] in (second["id"], call["id"])
    handled = agent.ok("POST", f"/agents/{me}/offers/{offer['id']}/accept")["id"]
    referred = agent.ok("POST", f"/interactions/{handled}/transfer",
                        json={"kind": "external", "target": "+18005550199"})
    assert referred["state"] == "completed" and referred["transfer"]["kind"] == "external"
    bad = agent.post(f"/interactions/{handled}/transfer", json={"kind": "teleport", "target": "x"})
    assert bad.status_code == 422


def test_commands_in_the_wrong_state_are_409(world: World) -> None:
    call = _call(world)  # nobody available: it waits
    for action, body in (("complete", {}), ("hold", None), ("resume", None)):
        response = world.admin.post(f"/interactions/{call['id']}/{action}", json=body)
        assert response.status_code == 409, (action, response.text)
        assert response.json()["error"] == "invalid-transition"
    assert world.admin.ok("POST", f"/interactions/{call['id']}/end")["state"] == "abandoned"  # it was waiting


def test_pausing_needs_a_known_reason(world: World) -> None:
    agent, me = world.agent_api, world.agent["id"]
    response = agent.put(f"/agents/{me}/state", json={"state": "paused", "reason": "nap"})
    assert response.status_code == 422 and response.json()["details"]["field"] == "reason"
    paused = agent.ok("PUT", f"/agents/{me}/state", json={"state": "paused", "reason": "lunch"})
    assert (paused["state"], paused["reason"]) == ("paused", "lunch")
    assert agent.put(f"/agents/{me}/state", json={"state": "busy"}).status_code == 422
