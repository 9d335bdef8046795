"""Who may do what: the role rules on every route, tenant isolation, and operator isolation.

An object outside the caller's scope (another tenant for a client viewer, another operator for
anyone) answers 404 whatever the method, exactly like a missing one; inside her scope, a role
that may not do something gets 403.
"""
from __future__ import annotations

from typing import Any

import pytest

from .support import Api, World, unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared(alpha: Api) -> World:
    """One world for the whole module: its agent stays offline, so its contacts stay queued."""
    return World(alpha)


@pytest.fixture(scope="module")
def queued(shared: World) -> dict[str, dict[str, Any]]:
    """A waiting interaction in each tenant."""
    return {key: shared.admin.ok("POST", "/interactions", 201, json={
        "program_id": shared.programs[key]["id"], "channel": "voice", "queue_id": shared.queues[key]["id"]})
        for key in ("A", "B")}


def _status(api: Api, method: str, path: str, body: Any = None) -> int:
    return api.request(method, path, json=body).status_code


# ---- agents --------------------------------------------------------------------------------------
def test_an_agent_cannot_change_configuration(shared: World) -> None:
    agent = shared.agent_api
    response = agent.post("/queues", json={"program_id": shared.programs["A"]["id"], "name": "Mine"})
    assert response.status_code == 403 and response.json()["error"] == "permission-denied"
    for method, path, body in [
        ("POST", "/tenants", {"name": "x"}), ("PUT", "/skills/hacking", {}), ("POST", "/agents", {"name": "x"}),
        ("PATCH", f"/agents/{shared.agent['id']}", {"score": 100.0}),
        ("POST", "/users", {"username": "xyz", "password": "long-enough", "role": "admin"}),
        ("POST", "/interactions", {"program_id": shared.programs["A"]["id"], "channel": "voice"}),
    ]:
        assert _status(agent, method, path, body) == 403, (method, path)


def test_an_agent_sees_herself_and_nothing_of_the_others(shared: World) -> None:
    agent, me = shared.agent_api, shared.agent
    other = shared.admin.ok("POST", "/agents", 201, json={"name": unique("Other")})
    assert [a["id"] for a in agent.ok("GET", "/agents")] == [me["id"]]
    assert agent.ok("GET", f"/agents/{me['id']}")["id"] == me["id"]
    assert agent.ok("GET", f"/agents/{me['id']}/state")["state"] == "offline"
    assert agent.ok("GET", f"/agents/{me['id']}/offers") == []
    for path in (f"/agents/{other['id']}", f"/agents/{other['id']}/state", f"/agents/{other['id']}/offers"):
        assert agent.get(path).status_code == 404, path
    assert agent.put(f"/agents/{other['id']}/state", json={"state": "available"}).status_code == 404
    for path in ("/users", "/tenants", "/programs", "/queues", "/workflows", "/skills", "/stats/queues",
                 "/stats/agents"):
        assert agent.get(path).status_code == 403, path
    assert {"break", "lunch"} <= {r["code"] for r in agent.ok("GET", "/pause-reasons")}


def test_an_agent_does_not_see_contacts_that_are_not_hers(shared: World, queued: dict) -> None:  # type: ignore[type-arg]
    agent = shared.agent_api
    waiting = queued["A"]["id"]
    assert agent.get(f"/interactions/{waiting}").status_code == 404
    assert waiting not in [i["id"] for i in agent.ok("GET", "/interactions")]
    assert agent.ok("GET", "/interactions", params={"agent_id": "someone-else"}) == []
    for action in ("end", "hold", "resume", "abandon"):
        assert agent.post(f"/interactions/{waiting}/{action}").status_code == 404, action


# ---- supervisors ---------------------------------------------------------------------------------
def test_a_supervisor_reads_everything_and_steers_work_but_not_configuration(shared: World) -> None:
    sup = shared.supervisor_api
    for path in ("/tenants", "/programs", "/users", "/agents", "/queues", "/workflows", "/skills",
                 "/pause-reasons", "/interactions", "/stats/queues", "/stats/agents",
                 f"/agents/{shared.agent['id']}", f"/queues/{shared.queues['B']['id']}"):
        assert sup.get(path).status_code == 200, path
    for method, path, body in [
        ("POST", "/tenants", {"name": "x"}), ("PATCH", f"/queues/{shared.queues['A']['id']}", {"priority": 3}),
        ("DELETE", f"/workflows/{shared.workflows['A']['id']}", None), ("PUT", "/pause-reasons/nap",
                                                                         {"label": "Nap", "paid": True}),
        ("POST", "/agents", {"name": "x"}),
    ]:
        assert _status(sup, method, path, body) == 403, (method, path)
    spare = shared.admin.ok("POST", "/agents", 201, json={"name": unique("Spare")})
    assert sup.ok("PUT", f"/agents/{spare['id']}/state", json={"state": "paused", "reason": "break"})["state"] \
        == "paused"
    created = sup.ok("POST", "/interactions", 201, json={"program_id": shared.programs["B"]["id"],
                                                         "channel": "email", "queue_id": shared.queues["B"]["id"]})
    assert sup.ok("POST", f"/interactions/{created['id']}/abandon")["state"] == "abandoned"


# ---- client viewers ------------------------------------------------------------------------------
def test_a_client_viewer_reads_only_her_tenant(shared: World, queued: dict) -> None:  # type: ignore[type-arg]
    viewer, a = shared.viewer_api, "A"
    assert [t["id"] for t in viewer.ok("GET", "/tenants")] == [shared.tenants[a]["id"]]
    assert viewer.ok("GET", f"/tenants/{shared.tenants[a]['id']}")["id"] == shared.tenants[a]["id"]
    for path, key in (("/programs", "programs"), ("/queues", "queues"), ("/workflows", "workflows")):
        ids = {x["id"] for x in viewer.ok("GET", path)}
        assert ids == {getattr(shared, key)[a]["id"]}, path
    assert {i["tenant_id"] for i in viewer.ok("GET", "/interactions")} == {shared.tenants[a]["id"]}
    assert viewer.ok("GET", f"/interactions/{queued[a]['id']}")["id"] == queued[a]["id"]
    assert viewer.ok("GET", f"/interactions/{queued[a]['id']}/events")
    assert {q["queue_id"] for q in viewer.ok("GET", "/stats/queues")} == {shared.queues[a]["id"]}
    for path in ("/users", "/agents", f"/agents/{shared.agent['id']}", "/skills", "/pause-reasons",
                 "/stats/agents", f"/agents/{shared.agent['id']}/state"):
        assert viewer.get(path).status_code == 403, path


def _writes(world: World, key: str, interaction_id: str) -> list[tuple[str, str, Any]]:
    """Every kind of change aimed at tenant `key`'s objects."""
    tenant, program = world.tenants[key]["id"], world.programs[key]["id"]
    queue, workflow = world.queues[key]["id"], world.workflows[key]["id"]
    return [
        ("PATCH", f"/tenants/{tenant}", {"name": "Renamed"}),
        ("DELETE", f"/tenants/{tenant}", None),
        ("POST", "/programs", {"tenant_id": tenant, "name": "New"}),
        ("PATCH", f"/programs/{program}", {"name": "Renamed"}),
        ("DELETE", f"/programs/{program}", None),
        ("POST", "/queues", {"program_id": program, "name": "New"}),
        ("PATCH", f"/queues/{queue}", {"priority": 9}),
        ("DELETE", f"/queues/{queue}", None),
        ("POST", "/workflows", {"program_id": program, "name": "New", "default_target": {"queue_id": queue}}),
        ("PUT", f"/workflows/{workflow}", {"name": "New", "default_target": {"queue_id": queue}}),
        ("DELETE", f"/workflows/{workflow}", None),
        ("POST", "/interactions", {"program_id": program, "channel": "voice", "queue_id": queue}),
        ("POST", f"/interactions/{interaction_id}/transfer", {"kind": "queue", "target": queue}),
        ("POST", f"/interactions/{interaction_id}/complete", {"disposition": "resolved"}),
        ("POST", f"/interactions/{interaction_id}/end", None),
        ("POST", f"/interactions/{interaction_id}/hold", None),
        ("POST", f"/interactions/{interaction_id}/resume", None),
        ("POST", f"/interactions/{interaction_id}/abandon", None),
    ]


def _reads(world: World, key: str, interaction_id: str) -> list[tuple[str, str, Any]]:
    return [("GET", f"/tenants/{world.tenants[key]['id']}", None), ("GET", f"/programs/{world.programs[key]['id']}", None),
            ("GET", f"/queues/{world.queues[key]['id']}", None), ("GET", f"/workflows/{world.workflows[key]['id']}", None),
            ("GET", f"/interactions/{interaction_id}", None), ("GET", f"/interactions/{interaction_id}/events", None)]


def test_a_client_viewer_may_not_change_anything_of_her_tenant(shared: World, queued: dict) -> None:  # type: ignore[type-arg]
    viewer = shared.viewer_api
    for method, path, body in _writes(shared, "A", queued["A"]["id"]) + [
            ("POST", "/tenants", {"name": "Mine"}), ("PUT", "/skills/mine", {})]:
        response = viewer.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "permission-denied"
    assert shared.admin.ok("GET", f"/interactions/{queued['A']['id']}")["state"] == "queued"


def test_another_tenants_objects_do_not_exist_for_a_client_viewer(shared: World, queued: dict) -> None:  # type: ignore[type-arg]
    viewer = shared.viewer_api
    for method, path, body in _reads(shared, "B", queued["B"]["id"]) + _writes(shared, "B", queued["B"]["id"]):
        response = viewer.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "not-found"
    assert viewer.ok("GET", "/programs", params={"tenant_id": shared.tenants["B"]["id"]}) == []
    assert viewer.ok("GET", "/interactions", params={"tenant_id": shared.tenants["B"]["id"]}) == []
    assert viewer.ok("GET", "/interactions", params={"queue_id": shared.queues["B"]["id"]}) == []
    # and nothing changed
    assert shared.admin.ok("GET", f"/interactions/{queued['B']['id']}")["state"] == "queued"
    assert shared.admin.ok("GET", f"/tenants/{shared.tenants['B']['id']}")["name"] == shared.tenants["B"]["name"]


# ---- operators -----------------------------------------------------------------------------------
def test_another_operators_admin_finds_nothing_of_ours(shared: World, queued: dict, beta: Api) -> None:  # type: ignore[type-arg]
    agent_id, interaction_id = shared.agent["id"], queued["A"]["id"]
    user_id = shared.supervisor_api.user["id"]
    attempts = _reads(shared, "A", interaction_id) + _writes(shared, "A", interaction_id) + [
        ("GET", f"/agents/{agent_id}", None), ("PATCH", f"/agents/{agent_id}", {"score": 1.0}),
        ("GET", f"/agents/{agent_id}/state", None), ("PUT", f"/agents/{agent_id}/state", {"state": "available"}),
        ("GET", f"/agents/{agent_id}/offers", None),
        ("POST", f"/agents/{agent_id}/offers/{'1' * 32}/accept", None),
        ("GET", f"/users/{user_id}", None), ("PATCH", f"/users/{user_id}", {"active": False}),
        ("DELETE", f"/users/{user_id}", None),
        ("POST", "/users", {"username": unique("spy"), "password": "long-enough", "role": "client_viewer",
                            "tenant_id": shared.tenants["A"]["id"]}),
        ("POST", "/users", {"username": unique("spy"), "password": "long-enough", "role": "agent",
                            "agent_id": agent_id}),
        ("DELETE", f"/skills/{shared.skill}", None),
    ]
    for method, path, body in attempts:
        response = beta.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    theirs = {x["id"] for path in ("/tenants", "/programs", "/queues", "/workflows", "/agents", "/users",
                                   "/interactions") for x in beta.ok("GET", path)}
    ours = {shared.tenants["A"]["id"], shared.programs["A"]["id"], shared.queues["A"]["id"],
            shared.workflows["A"]["id"], agent_id, user_id, interaction_id}
    assert not theirs & ours
    assert shared.skill not in {s["name"] for s in beta.ok("GET", "/skills")}
    assert not {q["queue_id"] for q in beta.ok("GET", "/stats/queues")} & ours
    assert shared.admin.ok("GET", f"/users/{user_id}")["active"] is True
