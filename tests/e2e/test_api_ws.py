"""The live WebSocket, driven by a real WebSocket client against the real server."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .support import PASSWORD, Server, World

pytestmark = pytest.mark.e2e


def _open(server: Server, token: str | None = None, headers: dict[str, str] | None = None) -> ClientConnection:
    url = f"{server.ws_url}/api/v1/ws" + (f"?token={token}" if token else "")
    return connect(url, additional_headers=headers or {}, open_timeout=10, close_timeout=5)


def _until(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool], seconds: float = 10.0) -> dict[str, Any]:
    """The first message that satisfies `wanted`, within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the awaited message did not arrive")
        message = json.loads(ws.recv(timeout=left))
        if wanted(message):
            return message


def _closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_without_valid_credentials_the_socket_closes_with_4401(server: Server, token: str | None) -> None:
    with _open(server, token) as ws:
        assert _closed_with(ws) == 4401


def test_a_supervisor_gets_a_snapshot_at_once_and_after_changes(server: Server, world: World) -> None:
    supervisor, queue_id = world.supervisor_api, world.queues["A"]["id"]
    with _open(server, supervisor.token) as ws:
        first = json.loads(ws.recv(timeout=5))
        assert first["type"] == "snapshot"
        assert queue_id in [q["queue_id"] for q in first["queues"]]
        assert world.agent["id"] in [a["agent_id"] for a in first["agents"]]
        started = time.monotonic()
        world.admin.ok("POST", "/interactions", 201, json={
            "program_id": world.programs["A"]["id"], "channel": "voice", "queue_id": queue_id})
        update = _until(ws, lambda m: m["type"] == "snapshot" and any(
            q["queue_id"] == queue_id and q["waiting"] == 1 for q in m["queues"]))
        assert time.monotonic() - started < 3.0  # pushed on change, not on the 5 s heartbeat
        assert update["agents"]


def test_snapshots_keep_coming_without_changes(server: Server, world: World) -> None:
    with _open(server, world.supervisor_api.token) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
        # at least every 5 s (alerts of other tests' queues may come in between)
        _until(ws, lambda m: m["type"] == "snapshot", seconds=7)


def test_a_client_viewer_sees_her_tenants_queues_and_no_agents(server: Server, world: World) -> None:
    with _open(server, world.viewer_api.token) as ws:
        snapshot = json.loads(ws.recv(timeout=5))
    assert snapshot["type"] == "snapshot" and snapshot["agents"] == []
    assert {q["tenant_id"] for q in snapshot["queues"]} == {world.tenants["A"]["id"]}
    assert world.queues["B"]["id"] not in [q["queue_id"] for q in snapshot["queues"]]


def test_an_agent_receives_her_offer(server: Server, world: World) -> None:
    agent, me = world.agent_api, world.agent["id"]
    with _open(server, agent.token) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "state" and hello["state"]["agent_id"] == me
        agent.ok("PUT", f"/agents/{me}/state", json={"state": "available"})
        changed = _until(ws, lambda m: m["type"] == "event" and m["event"]["name"] == "AgentStateChanged")
        assert changed["event"]["data"]["state"] == "available"
        call = world.admin.ok("POST", "/interactions", 201, json={
            "program_id": world.programs["A"]["id"], "channel": "voice", "queue_id": world.queues["A"]["id"],
            "customer": {"name": "Eve"}})
        offered = _until(ws, lambda m: m["type"] == "event" and m["event"]["name"] == "InteractionOffered")
        assert offered["event"]["interaction_id"] == call["id"] and offered["event"]["agent_id"] == me
        offer = _until(ws, lambda m: m["type"] == "offer")["offer"]
        assert offer["interaction_id"] == call["id"] and offer["customer"]["name"] == "Eve"
        assert offer["id"] == offered["event"]["data"]["offer_id"]
        agent.ok("POST", f"/agents/{me}/offers/{offer['id']}/accept")
        accepted = _until(ws, lambda m: m["type"] == "event" and m["event"]["name"] == "OfferAccepted")
        assert accepted["event"]["interaction_id"] == call["id"]


def test_an_agent_hears_nothing_about_other_agents(server: Server, world: World) -> None:
    other = world.admin.ok("POST", "/agents", 201, json={"name": "Someone else"})
    with _open(server, world.agent_api.token) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "state"
        world.admin.ok("PUT", f"/agents/{other['id']}/state", json={"state": "available"})
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.5)


def test_a_pending_offer_is_sent_when_the_agent_connects(server: Server, world: World) -> None:
    agent, me = world.agent_api, world.agent["id"]
    agent.ok("PUT", f"/agents/{me}/state", json={"state": "available"})
    call = world.admin.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["A"]["id"], "channel": "chat", "queue_id": world.queues["A"]["id"]})
    with _open(server, agent.token) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "state"
        assert json.loads(ws.recv(timeout=5))["offer"]["interaction_id"] == call["id"]


def test_the_session_cookie_authenticates_the_socket_from_our_own_pages(server: Server, world: World) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        http.post("/login", data={"username": world.supervisor_api.user["username"], "password": PASSWORD})
        cookie = f"hearthline_session={http.cookies['hearthline_session']}"
    with _open(server, headers={"Cookie": cookie, "Origin": server.base_url}) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
    with _open(server, headers={"Cookie": cookie, "Origin": "https://evil.example"}) as ws:
        assert _closed_with(ws) == 4401


def test_clients_that_go_away_leave_no_errors_behind(server: Server, world: World) -> None:
    for api in (world.supervisor_api, world.agent_api):
        with _open(server, api.token) as ws:
            ws.recv(timeout=5)
    with _open(server, world.supervisor_api.token) as abrupt:
        abrupt.recv(timeout=5)
        abrupt.socket.close()  # no closing handshake at all
    time.sleep(1.5)
    log = server.log()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
