"""Conversations through the real server: the agent writes in a chat she holds, a supervisor
follows it read-only over the WebSocket, the transcript is scoped like the interaction, the
screen-pop and transfer choices of the desk, customer records, and queue thresholds."""
from __future__ import annotations

import json

import pytest

from .support import Api, Server, World
from .test_api_ws import _open, _until

pytestmark = pytest.mark.e2e


def _chat_in_hand(world: World, alpha: Api, **customer: str) -> dict:
    agent = world.agent_api
    agent.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "available", "reason": None})
    chat = alpha.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["A"]["id"], "channel": "chat", "queue_id": world.queues["A"]["id"],
        "customer": customer or {"name": "Dana Smith", "email": "dana@example.org"}})
    offer = agent.ok("GET", f"/agents/{world.agent['id']}/offers")[0]
    agent.ok("POST", f"/agents/{world.agent['id']}/offers/{offer['id']}/accept")
    return chat


def _release(world: World, chat: dict) -> None:
    agent = world.agent_api
    agent.post(f"/interactions/{chat['id']}/end")
    agent.post(f"/interactions/{chat['id']}/complete", json={"disposition": None, "notes": None})
    agent.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "offline", "reason": None})


def test_the_agent_writes_and_a_supervisor_follows_read_only(server: Server, world: World, alpha: Api) -> None:
    chat = _chat_in_hand(world, alpha)
    agent, supervisor = world.agent_api, world.supervisor_api
    with _open(server, supervisor.token) as ws:
        _until(ws, lambda m: m["type"] == "snapshot")
        ws.send(json.dumps({"type": "watch", "interaction_id": chat["id"]}))
        _until(ws, lambda m: m["type"] == "watching" and m["interaction_id"] == chat["id"])
        sent = agent.ok("POST", f"/interactions/{chat['id']}/messages", 201,
                        json={"body": "Hello Dana, how can I help?", "client_ref": "r-1"})
        assert (sent["seq"], sent["sender"], sent["agent_id"]) == (1, "agent", world.agent["id"])
        seen = _until(ws, lambda m: m["type"] == "event" and m["event"]["name"] == "MessageAdded")
        assert seen["event"]["data"]["message"]["body"] == "Hello Dana, how can I help?"
        agent.ok("POST", f"/interactions/{chat['id']}/typing", 204, json={"typing": True})
        typing = _until(ws, lambda m: m["type"] == "event" and m["event"]["name"] == "Typing")
        assert typing["event"]["data"] == {"sender": "agent", "typing": True}
    # sending the same client_ref again does not double the message
    again = agent.ok("POST", f"/interactions/{chat['id']}/messages", 201,
                     json={"body": "Hello Dana, how can I help?", "client_ref": "r-1"})
    assert again["id"] == sent["id"]
    assert [m["seq"] for m in supervisor.ok("GET", f"/interactions/{chat['id']}/messages")] == [1]
    # supervisors read, they do not write to the customer; nor does anyone but the holder
    assert supervisor.post(f"/interactions/{chat['id']}/messages", json={"body": "hi"}).status_code == 403
    other = world.user("agent", agent_id=alpha.ok("POST", "/agents", 201, json={"name": "Other"})["id"])
    assert other.post(f"/interactions/{chat['id']}/messages", json={"body": "hi"}).status_code == 404
    assert other.get(f"/interactions/{chat['id']}/messages").status_code == 404
    _release(world, chat)


def test_a_watch_outside_ones_sight_is_refused(server: Server, world: World, alpha: Api, beta: Api) -> None:
    chat = alpha.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["B"]["id"], "channel": "chat", "queue_id": world.queues["B"]["id"]})
    viewer = world.viewer_api  # tenant A only
    with _open(server, viewer.token) as ws:
        _until(ws, lambda m: m["type"] == "snapshot")
        ws.send(json.dumps({"type": "watch", "interaction_id": chat["id"]}))
        refused = _until(ws, lambda m: m["type"] == "error")
        assert refused["interaction_id"] == chat["id"] and "no such interaction" in refused["error"]
    assert beta.get(f"/interactions/{chat['id']}/messages").status_code == 404  # another operator


def test_bad_messages_are_refused_naming_the_field(world: World, alpha: Api) -> None:
    chat = _chat_in_hand(world, alpha)
    agent = world.agent_api
    for body, field in (({"body": ""}, "body"), ({"body": "   \n "}, "body"), ({"body": "x" * 4001}, "body"),
                        ({"body": "hi", "client_ref": "bad ref!"}, "client_ref"),
                        ({"body": "hi", "subject": "Re: chat"}, "subject")):
        answer = agent.post(f"/interactions/{chat['id']}/messages", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["details"]["field"].endswith(field), answer.text
    assert agent.ok("GET", f"/interactions/{chat['id']}/messages") == []  # nothing half-stored
    _release(world, chat)


def test_screen_pop_and_transfer_choices_on_the_desk(world: World, alpha: Api) -> None:
    email = f"pop-{world.skill}@example.org"
    record = alpha.ok("POST", "/customers", 201, json={
        "tenant_id": world.tenants["A"]["id"], "first_name": "Dana", "last_name": "Smith", "email": email,
        "external_id": "C-1001", "attributes": {"plan": "Green 12"}})
    earlier = alpha.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["A"]["id"], "channel": "email", "queue_id": world.queues["A"]["id"],
        "customer": {"email": email.upper()}})
    alpha.ok("POST", f"/interactions/{earlier['id']}/abandon")  # the customer gave up on it, back then
    chat = _chat_in_hand(world, alpha, name="Dana S", email=email)
    agent = world.agent_api
    pop = agent.ok("GET", f"/interactions/{chat['id']}/customer")
    assert pop["record"]["id"] == record["id"] and pop["record"]["attributes"] == {"plan": "Green 12"}
    assert earlier["id"] in [h["id"] for h in pop["history"]]
    targets = agent.ok("GET", f"/interactions/{chat['id']}/transfer-targets")
    assert world.queues["A"]["id"] in [q["id"] for q in targets["queues"]]
    assert world.queues["B"]["id"] not in [q["id"] for q in targets["queues"]]  # another client's queues
    assert world.agent["id"] not in [a["id"] for a in targets["agents"]]  # not herself
    assert world.viewer_api.get(f"/customers/{record['id']}").status_code == 403
    assert agent.patch(f"/customers/{record['id']}", json={"first_name": "X"}).status_code == 403
    bad = alpha.post("/customers", json={"tenant_id": world.tenants["A"]["id"], "email": "not-an-address"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "email"
    _release(world, chat)


def test_queue_tiles_carry_thresholds_and_levels(world: World, alpha: Api) -> None:
    rare = world.skill + "-rare"  # a skill no agent has: nobody is staffed in the queue
    alpha.ok("PUT", f"/skills/{rare}", json={"description": "nobody has it"})
    queue = alpha.ok("POST", "/queues", 201, json={
        "program_id": world.programs["A"]["id"], "name": "Thresholds", "max_ewt_seconds": 0,
        "target_service_level": 0.9, "skills": {rare: 5}})
    assert (queue["max_ewt_seconds"], queue["target_service_level"]) == (0, 0.9)
    bad = alpha.patch(f"/queues/{queue['id']}", json={"max_abandonment_rate": 1.5})
    assert bad.status_code == 422 and bad.json()["details"]["field"].endswith("max_abandonment_rate")
    alpha.ok("POST", "/interactions", 201, json={"program_id": world.programs["A"]["id"], "channel": "voice",
                                                "queue_id": queue["id"]})
    tile = next(q for q in world.supervisor_api.ok("GET", "/stats/queues") if q["queue_id"] == queue["id"])
    assert tile["thresholds"]["service_level"] == 0.9
    assert tile["levels"]["ewt"] == "bad"  # a contact waits and nobody is staffed
    assert tile["levels"]["service_level"] == "ok"  # nothing answered yet: no figure to be under
