"""Every resource's create, read, update and delete, as the operator's admin, on the real server."""
from __future__ import annotations

import pytest

from .support import PASSWORD, Api, World, unique

pytestmark = pytest.mark.e2e
MISSING = "0" * 32


def test_tenants_crud(alpha: Api) -> None:
    tenant = alpha.ok("POST", "/tenants", 201, json={"name": "Acme Gas"})
    assert set(tenant) == {"id", "name"} and tenant["name"] == "Acme Gas"
    assert alpha.ok("GET", f"/tenants/{tenant['id']}") == tenant
    assert tenant in alpha.ok("GET", "/tenants")
    renamed = alpha.ok("PATCH", f"/tenants/{tenant['id']}", json={"name": "Acme Power"})
    assert renamed["name"] == "Acme Power"
    assert alpha.delete(f"/tenants/{tenant['id']}").status_code == 204
    assert alpha.get(f"/tenants/{tenant['id']}").status_code == 404


def test_a_tenant_with_programs_cannot_be_deleted(alpha: Api) -> None:
    tenant = alpha.ok("POST", "/tenants", 201, json={"name": unique("T")})
    alpha.ok("POST", "/programs", 201, json={"tenant_id": tenant["id"], "name": "Billing"})
    response = alpha.delete(f"/tenants/{tenant['id']}")
    assert response.status_code == 409 and response.json()["error"] == "conflict"


def test_programs_crud_and_default_workflow(world: World) -> None:
    api, tenant = world.admin, world.tenants["A"]
    program = api.ok("POST", "/programs", 201, json={"tenant_id": tenant["id"], "name": "Sales"})
    assert program == {"id": program["id"], "tenant_id": tenant["id"], "name": "Sales", "default_workflow_id": None,
                       "dispositions": []}
    assert api.ok("GET", f"/programs/{program['id']}") == program
    assert program in api.ok("GET", "/programs", params={"tenant_id": tenant["id"]})
    assert program not in api.ok("GET", "/programs", params={"tenant_id": world.tenants["B"]["id"]})
    queue = api.ok("POST", "/queues", 201, json={"program_id": program["id"], "name": "Sales Q"})
    workflow = api.ok("POST", "/workflows", 201, json={"program_id": program["id"], "name": "Sales flow",
                                                       "default_target": {"queue_id": queue["id"]}})
    updated = api.ok("PATCH", f"/programs/{program['id']}", json={"default_workflow_id": workflow["id"]})
    assert updated["default_workflow_id"] == workflow["id"]
    # Another program's workflow is refused.
    refused = api.patch(f"/programs/{program['id']}", json={"default_workflow_id": world.workflows["A"]["id"]})
    assert refused.status_code == 422
    assert api.ok("PATCH", f"/programs/{program['id']}", json={"name": "Sales 2"})["default_workflow_id"] \
        == workflow["id"]  # leaving a field out keeps it
    cleared = api.ok("PATCH", f"/programs/{program['id']}", json={"default_workflow_id": None})
    assert cleared["default_workflow_id"] is None and cleared["name"] == "Sales 2"
    api.ok("DELETE", f"/workflows/{workflow['id']}", 204)
    api.ok("DELETE", f"/queues/{queue['id']}", 204)
    api.ok("DELETE", f"/programs/{program['id']}", 204)
    assert api.get(f"/programs/{program['id']}").status_code == 404


def test_users_crud_never_shows_password_hashes(world: World) -> None:
    api = world.admin
    username = unique("sup")
    user = api.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD, "role": "supervisor",
                                               "display_name": "Sue"})
    assert user["username"] == username and user["role"] == "supervisor" and user["active"] is True
    listed = api.get("/users").text
    assert "argon2" not in listed and "password" not in listed
    assert api.ok("GET", f"/users/{user['id']}") == user
    changed = api.ok("PATCH", f"/users/{user['id']}", json={"password": "another-long-secret", "display_name": "S."})
    assert changed["display_name"] == "S." and "password" not in changed
    Api(api.http).login(username, "another-long-secret")
    duplicate = api.post("/users", json={"username": username, "password": PASSWORD, "role": "admin"})
    assert duplicate.status_code == 409
    api.ok("DELETE", f"/users/{user['id']}", 204)
    assert api.get(f"/users/{user['id']}").status_code == 404
    assert api.delete(f"/users/{api.user['id']}").status_code == 422  # not yourself


@pytest.mark.parametrize("body, field", [
    ({"role": "agent"}, "agent_id"),  # an agent user must be linked to an agent
    ({"role": "client_viewer"}, "tenant_id"),  # a client viewer must belong to a tenant
    ({"role": "admin", "password": "short"}, "body.password"),
    ({"role": "emperor"}, "body.role"),
])
def test_users_are_checked(alpha: Api, body: dict, field: str) -> None:  # type: ignore[type-arg]
    response = alpha.post("/users", json={"username": unique("u"), "password": PASSWORD, **body})
    assert response.status_code == 422
    assert response.json()["details"]["field"] == field


def test_agents_create_read_update_and_no_delete(alpha: Api) -> None:
    agent = alpha.ok("POST", "/agents", 201, json={
        "name": "Ann", "kind": "contractor", "skills": {"billing": 4}, "languages": ["en", "es"],
        "certifications": {"hipaa": "2099-01-01T00:00:00+00:00"}, "home_state": "TX",
        "time_zone": "America/Chicago", "capacity": {"voice": 1, "chat": 2, "email": 0}, "score": 7.5,
        "attributes": {"team": "blue"}})
    assert agent["skills"] == {"billing": 4} and agent["languages"] == ["en", "es"]
    assert agent["capacity"] == {"voice": 1, "chat": 2, "email": 0}
    assert agent["certifications"]["hipaa"].startswith("2099-01-01T00:00:00")
    assert alpha.ok("GET", f"/agents/{agent['id']}") == agent
    assert agent["id"] in [a["id"] for a in alpha.ok("GET", "/agents")]
    patched = alpha.ok("PATCH", f"/agents/{agent['id']}", json={"skills": {"billing": 5, "sales": 1},
                                                                "home_state": None})
    assert patched["skills"] == {"billing": 5, "sales": 1} and patched["home_state"] is None
    assert patched["languages"] == ["en", "es"]  # untouched
    assert alpha.delete(f"/agents/{agent['id']}").status_code == 405


@pytest.mark.parametrize("body, field", [
    ({"skills": {"billing": 6}}, "body.skills.billing"),
    ({"skills": {"billing": True}}, "body.skills.billing"),  # strict: a boolean is not a proficiency
    ({"score": "7"}, "body.score"),
    ({"time_zone": "Mars/Olympus"}, "body.time_zone"),
    ({"certifications": {"x": "2099-01-01T00:00:00"}}, "body.certifications.x"),  # needs a time zone
    ({"capacity": {"voice": 1, "fax": 1}}, "body.capacity.fax"),
    ({"surprise": 1}, "body.surprise"),
])
def test_agents_are_checked_strictly(alpha: Api, body: dict, field: str) -> None:  # type: ignore[type-arg]
    response = alpha.post("/agents", json={"name": "Bad", **body})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid-input" and response.json()["details"]["field"] == field


def test_skills_and_pause_reasons(alpha: Api) -> None:
    name = unique("skill").lower()
    skill = alpha.ok("PUT", f"/skills/{name}", json={"description": "Spanish billing",
                                                      "requires_certification": "es-cert"})
    assert skill == {"name": name, "description": "Spanish billing", "requires_certification": "es-cert"}
    assert alpha.ok("PUT", f"/skills/{name}", json={"description": "again"})["description"] == "again"  # idempotent
    assert name in [s["name"] for s in alpha.ok("GET", "/skills")]
    alpha.ok("DELETE", f"/skills/{name}", 204)
    assert alpha.delete(f"/skills/{name}").status_code == 404
    assert alpha.put("/skills/Not A Slug", json={}).status_code == 422

    reasons = {r["code"] for r in alpha.ok("GET", "/pause-reasons")}
    assert {"break", "lunch", "missed"} <= reasons
    code = unique("nap").lower()
    assert alpha.ok("PUT", f"/pause-reasons/{code}", json={"label": "Power nap", "paid": False}) == {
        "code": code, "label": "Power nap", "paid": False}
    alpha.ok("DELETE", f"/pause-reasons/{code}", 204)
    assert alpha.delete("/pause-reasons/missed").status_code == 422  # routing needs it


def test_queues_crud(world: World) -> None:
    api, program = world.admin, world.programs["A"]
    queue = api.ok("POST", "/queues", 201, json={
        "program_id": program["id"], "name": "Escalations", "strategy": "most_skilled", "skills": {"billing": 3},
        "language": "es", "priority": 5, "ageing_per_minute": 0.5, "service_level_seconds": 30,
        "wrap_up_seconds": 90, "offer_timeout_seconds": 15, "preferred_agent_seconds": 0,
        "default_handle_seconds": 240.0})
    assert queue["tenant_id"] == world.tenants["A"]["id"] and queue["strategy"] == "most_skilled"
    assert api.ok("GET", f"/queues/{queue['id']}") == queue
    assert queue in api.ok("GET", "/queues", params={"program_id": program["id"]})
    patched = api.ok("PATCH", f"/queues/{queue['id']}", json={"strategy": "ring_all", "language": None})
    assert patched["strategy"] == "ring_all" and patched["language"] is None and patched["priority"] == 5
    assert api.patch(f"/queues/{queue['id']}", json={"offer_timeout_seconds": 0}).status_code == 422
    assert api.patch(f"/queues/{queue['id']}", json={"priority": 1.5}).status_code == 422
    api.ok("DELETE", f"/queues/{queue['id']}", 204)
    assert api.get(f"/queues/{queue['id']}").status_code == 404


def test_a_queue_a_workflow_sends_contacts_to_cannot_be_deleted(world: World) -> None:
    api, queue = world.admin, world.queues["A"]  # the world's workflow A targets queue A
    refused = api.delete(f"/queues/{queue['id']}")
    assert refused.status_code == 409
    assert refused.json()["details"]["workflow_id"] == world.workflows["A"]["id"]
    assert api.get(f"/queues/{queue['id']}").status_code == 200


def test_workflows_crud(world: World) -> None:
    api, program, queue = world.admin, world.programs["A"], world.queues["A"]
    body = {"program_id": program["id"], "name": "Triage", "routes": [
        {"name": "spanish", "filter": 'language == "es"',
         "targets": [{"queue_id": queue["id"], "agent_expression": "agent.skills.billing >= 3", "priority": 10,
                      "timeout_seconds": 30, "skip_if": "queue.waiting > 20"}]}],
        "default_target": {"queue_id": queue["id"]}}
    workflow = api.ok("POST", "/workflows", 201, json=body)
    assert workflow["routes"][0]["targets"][0]["agent_expression"] == "agent.skills.billing >= 3"
    assert api.ok("GET", f"/workflows/{workflow['id']}") == workflow
    replaced = api.ok("PUT", f"/workflows/{workflow['id']}", json={
        "name": "Triage 2", "routes": [], "default_target": {"queue_id": queue["id"], "priority": 3}})
    assert replaced["routes"] == [] and replaced["default_target"]["priority"] == 3
    assert replaced["program_id"] == program["id"]
    api.ok("DELETE", f"/workflows/{workflow['id']}", 204)
    assert api.get(f"/workflows/{workflow['id']}").status_code == 404


def test_a_workflow_with_a_bad_expression_is_refused_with_its_position(world: World) -> None:
    queue = world.queues["A"]
    response = world.admin.post("/workflows", json={
        "program_id": world.programs["A"]["id"], "name": "Broken",
        "routes": [{"name": "r", "filter": 'tier == "gold" AND', "targets": [{"queue_id": queue["id"]}]}],
        "default_target": {"queue_id": queue["id"]}})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid-expression"
    assert body["details"]["field"] == "routes[0].filter" and body["details"]["position"] == 18
    bad_agent_expr = world.admin.post("/workflows", json={
        "program_id": world.programs["A"]["id"], "name": "Broken",
        "default_target": {"queue_id": queue["id"], "agent_expression": "agent.skills.x >= "}})
    assert bad_agent_expr.json()["details"]["field"] == "default_target.agent_expression"


def test_a_workflow_cannot_target_another_tenants_queue(world: World) -> None:
    response = world.admin.post("/workflows", json={
        "program_id": world.programs["A"]["id"], "name": "Sneaky",
        "default_target": {"queue_id": world.queues["B"]["id"]}})
    assert response.status_code == 422 and response.json()["details"]["field"] == "default_target.queue_id"


def test_workflow_route_names_are_unique(world: World) -> None:
    queue = world.queues["A"]
    route = {"name": "same", "filter": "true", "targets": [{"queue_id": queue["id"]}]}
    response = world.admin.post("/workflows", json={"program_id": world.programs["A"]["id"], "name": "Dup",
                                                    "routes": [route, route], "default_target": {"queue_id": queue["id"]}})
    assert response.status_code == 422 and response.json()["details"]["field"] == "routes[1].name"


def test_interactions_create_read_list_and_events(world: World) -> None:
    api = world.admin
    created = api.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["A"]["id"], "channel": "chat", "customer": {"name": "Cleo", "phone": "+15550100"},
        "attributes": {"tier": "gold", "language": "en"}, "priority": 2, "workflow_id": world.workflows["A"]["id"]})
    assert created["state"] == "queued" and created["route"] == "vip"
    assert created["queue_id"] == world.queues["A"]["id"] and created["customer"]["name"] == "Cleo"
    assert created["position"] >= 1 and created["estimated_wait_seconds"] is None  # nobody staffed: unknown
    got = api.ok("GET", f"/interactions/{created['id']}")
    assert got["id"] == created["id"] and got["attributes"] == {"tier": "gold", "language": "en"}
    listed = api.ok("GET", "/interactions", params={"queue_id": world.queues["A"]["id"], "state": "queued",
                                                    "channel": "chat", "limit": 500})
    assert created["id"] in [i["id"] for i in listed]
    assert api.ok("GET", "/interactions", params={"channel": "email", "queue_id": world.queues["A"]["id"]}) == []
    names = [e["name"] for e in api.ok("GET", f"/interactions/{created['id']}/events")]
    assert names[:2] == ["InteractionCreated", "InteractionQueued"]
    abandoned = api.ok("POST", f"/interactions/{created['id']}/abandon")
    assert abandoned["state"] == "abandoned"
    assert api.post(f"/interactions/{created['id']}/abandon").status_code in (404, 409)


def test_a_program_default_workflow_routes_new_interactions(world: World) -> None:
    api, program = world.admin, world.programs["B"]
    missing_route = api.post("/interactions", json={"program_id": program["id"], "channel": "voice"})
    assert missing_route.status_code == 422 and missing_route.json()["details"]["field"] == "queue_id"
    api.ok("PATCH", f"/programs/{program['id']}", json={"default_workflow_id": world.workflows["B"]["id"]})
    created = api.ok("POST", "/interactions", 201, json={"program_id": program["id"], "channel": "voice"})
    assert created["workflow_id"] == world.workflows["B"]["id"] and created["route"] == "default"


@pytest.mark.parametrize("body, field", [
    ({"channel": "fax"}, "body.channel"),
    ({"channel": "voice", "priority": False}, "body.priority"),
    ({"channel": "voice", "attributes": {"blob": "x" * 20_000}}, "body.attributes"),
    ({"channel": "voice", "attributes": []}, "body.attributes"),
])
def test_interactions_are_checked(world: World, body: dict, field: str) -> None:  # type: ignore[type-arg]
    response = world.admin.post("/interactions", json={"program_id": world.programs["A"]["id"],
                                                       "queue_id": world.queues["A"]["id"], **body})
    assert response.status_code == 422 and response.json()["details"]["field"] == field


@pytest.mark.parametrize("path", [
    f"/tenants/{MISSING}", f"/programs/{MISSING}", f"/users/{MISSING}", f"/agents/{MISSING}",
    f"/agents/{MISSING}/state", f"/agents/{MISSING}/offers", f"/queues/{MISSING}", f"/workflows/{MISSING}",
    f"/interactions/{MISSING}", f"/interactions/{MISSING}/events",
])
def test_an_unknown_id_is_404(alpha: Api, path: str) -> None:
    response = alpha.get(path)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not-found"


def test_list_limits_are_bounded(alpha: Api) -> None:
    assert alpha.get("/interactions", params={"limit": 501}).status_code == 422
    assert alpha.get("/interactions", params={"limit": 0}).status_code == 422
    assert alpha.get("/interactions", params={"offset": -1}).status_code == 422
