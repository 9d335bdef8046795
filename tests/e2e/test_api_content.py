"""Scripts, knowledge articles and canned responses over the API: kept by admins, read by agents
for their own contacts with the contact's fields filled in, searched together with the referral
directory; and the workflow dry run the admin pages validate with."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from hearthline.adapters.sql import tables as t

from .support import Api, InProcess, World, unique

pytestmark = pytest.mark.e2e

STEPS = [
    {"id": "greet", "title": "Greeting",
     "text": "Hello {customer.first_name}, thanks for calling {program.name}. I am {agent.first_name}.",
     "options": [{"label": "Billing question", "next": "billing"}, {"label": "Something else", "next": "other"}]},
    {"id": "billing", "title": "Billing", "text": "Your reference is {interaction.reference}; plan {customer.plan}.",
     "options": [{"label": "Resolved", "next": None}]},
    {"id": "other", "title": "Other", "text": "Account {attributes.account_no}. Use {{braces}} literally.",
     "options": []},
]


def _script(program_id: str, **extra: Any) -> dict[str, Any]:
    return {"program_id": program_id, "name": unique("Script"), "steps": STEPS, **extra}


def _take_call(alpha: Api, world: World, **customer: Any) -> dict[str, Any]:
    """A voice call into queue A, offered to and accepted by the world's agent."""
    agent, agent_id = world.agent_api, world.agent["id"]
    agent.ok("PUT", f"/agents/{agent_id}/state", json={"state": "available", "reason": None})
    call = alpha.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["A"]["id"], "channel": "voice", "queue_id": world.queues["A"]["id"],
        "customer": customer, "attributes": {"account_no": "A-17", "verified": True}})
    offer = agent.ok("GET", f"/agents/{agent_id}/offers")[0]
    agent.ok("POST", f"/agents/{agent_id}/offers/{offer['id']}/accept")
    return call


def _let_go(world: World, call: dict[str, Any]) -> None:
    world.agent_api.ok("POST", f"/interactions/{call['id']}/end")
    world.agent_api.ok("POST", f"/interactions/{call['id']}/complete", json={})
    world.agent_api.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "offline", "reason": None})


# ---- scripts ------------------------------------------------------------------------------------------
def test_admin_keeps_a_branching_script_and_staff_read_it(alpha: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    created = alpha.ok("POST", "/scripts", 201, json=_script(program))
    assert created["start"] == "greet" and created["queue_id"] is None
    assert created["tenant_id"] == world.tenants["A"]["id"]
    assert created["steps"][0]["options"][1] == {"label": "Something else", "next": "other"}

    for reader in (world.agent_api, world.supervisor_api):
        assert [s["id"] for s in reader.ok("GET", "/scripts", params={"program_id": program})] == [created["id"]]
        assert reader.ok("GET", f"/scripts/{created['id']}")["steps"] == created["steps"]

    steps = [*STEPS[:2], {**STEPS[2], "options": [{"label": "Back", "next": "greet"}]}]
    changed = alpha.ok("PUT", f"/scripts/{created['id']}", json={"name": "Renamed", "steps": steps,
                                                                  "queue_id": world.queues["A"]["id"]})
    assert (changed["name"], changed["queue_id"]) == ("Renamed", world.queues["A"]["id"])
    assert alpha.ok("GET", f"/scripts/{created['id']}")["steps"][2]["options"] == [{"label": "Back", "next": "greet"}]
    alpha.ok("DELETE", f"/scripts/{created['id']}", 204)
    assert alpha.get(f"/scripts/{created['id']}").status_code == 404
    assert alpha.ok("GET", "/scripts", params={"program_id": program}) == []


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"steps": [*STEPS[:2], {**STEPS[2], "options": [{"label": "Go", "next": "nowhere"}]}]},
     "invalid-input", "steps[2].options[0].next"),
    ({"steps": [STEPS[0] | {"id": "greet"}, STEPS[0] | {"options": []}]}, "invalid-input", "steps[1].id"),
    ({"steps": [STEPS[0] | {"id": "Not A Slug"}]}, "invalid-input", "body.steps.0.id"),
    ({"steps": [STEPS[2] | {"text": "x" * 5001}]}, "invalid-input", "body.steps.0.text"),
    ({"steps": [STEPS[2] | {"options": [{"label": "y" * 201, "next": None}]}]}, "invalid-input",
     "body.steps.0.options.0.label"),
    ({"steps": []}, "invalid-input", "body.steps"),
    ({"name": " "}, "invalid-input", "body.name"),
    ({"surprise": 1}, "invalid-input", "body.surprise"),
])
def test_a_bad_script_is_refused_naming_the_field(alpha: Api, world: World, change: dict[str, Any], code: str,
                                                  field: str) -> None:
    response = alpha.post("/scripts", json=_script(world.programs["A"]["id"]) | change)
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["details"]["field"]) == (code, field)


def test_a_script_names_a_queue_of_its_own_program_and_each_queue_has_one_script(alpha: Api, world: World) -> None:
    program, queue = world.programs["A"]["id"], world.queues["A"]["id"]
    other_programs_queue = alpha.post("/scripts", json=_script(program, queue_id=world.queues["B"]["id"]))
    assert other_programs_queue.status_code == 422 and other_programs_queue.json()["details"]["field"] == "queue_id"
    alpha.ok("POST", "/scripts", 201, json=_script(program, queue_id=queue))
    twice = alpha.post("/scripts", json=_script(program, queue_id=queue))
    assert twice.status_code == 409 and twice.json()["details"]["field"] == "queue_id"
    alpha.ok("POST", "/scripts", 201, json=_script(program))  # the whole program's: a different one


def test_only_admins_write_client_viewers_see_nothing_other_operators_get_404(alpha: Api, beta: Api,
                                                                           world: World) -> None:
    program = world.programs["A"]["id"]
    script = alpha.ok("POST", "/scripts", 201, json=_script(program))
    agent, supervisor, viewer = world.agent_api, world.supervisor_api, world.viewer_api
    for reader in (agent, supervisor):
        assert reader.post("/scripts", json=_script(program)).status_code == 403
        assert reader.put(f"/scripts/{script['id']}", json={"name": "x", "steps": STEPS}).status_code == 403
        assert reader.delete(f"/scripts/{script['id']}").status_code == 403
    assert viewer.get("/scripts", params={"program_id": program}).status_code == 403
    assert viewer.get(f"/scripts/{script['id']}").status_code == 403
    # another operator's admin: as if it did not exist, whatever she tries
    assert beta.get(f"/scripts/{script['id']}").status_code == 404
    assert beta.put(f"/scripts/{script['id']}", json={"name": "x", "steps": STEPS}).status_code == 404
    assert beta.delete(f"/scripts/{script['id']}").status_code == 404
    assert beta.get("/scripts", params={"program_id": program}).status_code == 404
    assert beta.post("/scripts", json=_script(program)).status_code == 404
    assert alpha.ok("GET", f"/scripts/{script['id']}")["name"] == script["name"]  # untouched


# ---- a contact's script and canned responses ------------------------------------------------------
def test_a_contacts_script_is_its_queues_filled_in_with_its_fields(alpha: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    general = alpha.ok("POST", "/scripts", 201, json=_script(program, name="General"))
    for_queue = alpha.ok("POST", "/scripts", 201, json=_script(program, name="Queue A",
                                                               queue_id=world.queues["A"]["id"]))
    canned = alpha.ok("POST", "/canned-responses", 201, json={
        "program_id": program, "name": "Thanks", "body": "Thanks {customer.first_name}, ref {interaction.reference}."})
    call = _take_call(alpha, world, name="Rita Mae Caller", email="rita@example.com")
    program_name = world.programs["A"]["name"]

    script = world.agent_api.ok("GET", f"/interactions/{call['id']}/script")
    assert (script["id"], script["name"]) == (for_queue["id"], "Queue A")  # the queue's wins
    greet, billing, other = script["steps"]
    first_name = world.agent["name"].split()[0]
    assert greet["text"] == f"Hello Rita, thanks for calling {program_name}. I am {first_name}."
    assert billing["text"] == f"Your reference is {call['id'][:8].upper()}; plan {{customer.plan}}."  # not on file
    assert other["text"] == "Account A-17. Use {braces} literally."
    assert script["fields"]["customer.email"] == "rita@example.com"
    assert script["fields"]["attributes.verified"] == "true"

    [thanks] = world.agent_api.ok("GET", f"/interactions/{call['id']}/canned-responses")
    assert (thanks["id"], thanks["body"]) == (canned["id"], f"Thanks Rita, ref {call['id'][:8].upper()}.")
    assert alpha.ok("GET", f"/canned-responses/{canned['id']}")["body"].startswith("Thanks {customer.first_name}")

    alpha.ok("DELETE", f"/scripts/{for_queue['id']}", 204)
    assert alpha.ok("GET", f"/interactions/{call['id']}/script")["id"] == general["id"]  # else the program's
    alpha.ok("DELETE", f"/scripts/{general['id']}", 204)
    missing = alpha.get(f"/interactions/{call['id']}/script")
    assert missing.status_code == 404 and missing.json()["details"]["kind"] == "script for interaction"
    _let_go(world, call)


def test_an_agent_gets_no_script_for_a_contact_that_is_not_hers(alpha: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    alpha.ok("POST", "/scripts", 201, json=_script(program))
    waiting = alpha.ok("POST", "/interactions", 201, json={"program_id": program, "channel": "chat",
                                                          "queue_id": world.queues["A"]["id"]})
    assert world.agent_api.get(f"/interactions/{waiting['id']}/script").status_code == 404
    assert world.agent_api.get(f"/interactions/{waiting['id']}/canned-responses").status_code == 404
    assert world.viewer_api.get(f"/interactions/{waiting['id']}/script").status_code == 403
    assert alpha.get(f"/interactions/{waiting['id']}/script").status_code == 200  # staff see any
    assert world.supervisor_api.get(f"/interactions/{waiting['id']}/script").status_code == 200
    alpha.ok("POST", f"/interactions/{waiting['id']}/abandon")


def test_a_filled_in_step_may_grow_past_the_limits_of_what_is_written(alpha: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    alpha.ok("POST", "/scripts", 201, json={"program_id": program, "name": "Long", "steps": [
        {"id": "only", "title": "Dear {customer.name}", "text": "x" * 4985 + "{customer.name}"}]})
    call = alpha.ok("POST", "/interactions", 201, json={"program_id": program, "channel": "chat",
                                                       "queue_id": world.queues["A"]["id"],
                                                       "customer": {"name": "N" * 200}})
    [step] = alpha.ok("GET", f"/interactions/{call['id']}/script")["steps"]
    assert (len(step["title"]), len(step["text"])) == (205, 5185)
    alpha.ok("POST", f"/interactions/{call['id']}/abandon")


def test_the_customer_record_on_file_fills_the_customer_fields(app_client: InProcess) -> None:
    """In-process, to put a record in the customers table directly (records are another slice's API)."""
    admin = app_client.admin()
    world = World(admin)
    program = world.programs["A"]["id"]
    store = app_client.client.app.state.components.platform.store
    store.insert_row(t.customers, {
        "id": unique("cust").replace("-", ""), "operator_id": app_client.seeded.operators["alpha"],
        "tenant_id": world.tenants["A"]["id"], "external_id": "C-1001", "first_name": "Margaret",
        "last_name": "Caller", "email": "margaret@example.com", "phone": "+15550100",
        "attributes": {"plan": "Gold"}, "created_at": datetime.now(timezone.utc)})
    admin.ok("POST", "/scripts", 201, json=_script(program))
    for customer in ({"email": "MARGARET@example.com"}, {"id": "C-1001"}, {"phone": "+15550100", "name": "Peggy"}):
        call = admin.ok("POST", "/interactions", 201, json={"program_id": program, "channel": "email",
                                                           "queue_id": world.queues["A"]["id"], "customer": customer})
        script = admin.ok("GET", f"/interactions/{call['id']}/script")
        assert script["fields"]["customer.name"] == "Margaret Caller"
        assert script["steps"][0]["text"].startswith("Hello Margaret,")
        assert script["steps"][1]["text"].endswith("plan Gold.")


# ---- knowledge and search ---------------------------------------------------------------------------
def test_knowledge_articles_are_kept_by_admins_and_searched_with_the_referral_directory(alpha: Api, beta: Api,
                                                                                         world: World) -> None:
    program = world.programs["A"]["id"]
    outage = alpha.ok("POST", "/knowledge", 201, json={
        "program_id": program, "title": "Power outage", "tags": ["emergency", " outage "],
        "body": "Check the outage map first. " * 20 + "If wires are down, refer to the emergency line."})
    assert outage["tags"] == ["emergency", "outage"]
    bill = alpha.ok("POST", "/knowledge", 201, json={"program_id": program, "title": "Reading a bill",
                                                     "body": "Meter reading, fees, and the due date."})
    line = alpha.ok("POST", "/referrals", 201, json={"program_id": program, "name": "Emergency line",
                                                     "phone": "+1 800 555 0199", "when_to_use": "wires down, gas"})
    agent = world.agent_api
    assert [a["id"] for a in agent.ok("GET", "/knowledge", params={"program_id": program})] == [outage["id"], bill["id"]]

    found = agent.ok("GET", "/search", params={"program_id": program, "q": "EMERGENCY"})
    assert [(r["kind"], r["id"]) for r in found] == [("referral", line["id"]), ("article", outage["id"])]
    assert found[0]["target"] == "+1 800 555 0199"
    found = agent.ok("GET", "/search", params={"program_id": program, "q": "wires down"})
    assert [r["id"] for r in found] == [line["id"], outage["id"]]
    assert len(found[1]["snippet"]) <= 200 and "wires are down" in found[1]["snippet"]
    assert agent.ok("GET", "/search", params={"program_id": program, "q": "pizza"}) == []
    assert len(agent.ok("GET", "/search", params={"program_id": program, "limit": 2})) == 2

    assert agent.put(f"/knowledge/{bill['id']}", json={"title": "x"}).status_code == 403
    assert world.viewer_api.get("/search", params={"program_id": program}).status_code == 403
    assert beta.get(f"/knowledge/{bill['id']}").status_code == 404
    assert beta.get("/search", params={"program_id": program}).status_code == 404
    bad = alpha.put(f"/knowledge/{bill['id']}", json={"title": "Bill", "tags": ["x" * 41]})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "body.tags.0"
    changed = alpha.ok("PUT", f"/knowledge/{bill['id']}", json={"title": "Your bill", "body": "b", "tags": ["bill"]})
    assert (changed["title"], changed["tags"]) == ("Your bill", ["bill"])
    alpha.ok("DELETE", f"/knowledge/{bill['id']}", 204)
    assert alpha.get(f"/knowledge/{bill['id']}").status_code == 404


def test_canned_responses_are_kept_by_admins(alpha: Api, beta: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    empty = alpha.post("/canned-responses", json={"program_id": program, "name": "Empty", "body": ""})
    assert empty.status_code == 422 and empty.json()["details"]["field"] == "body.body"
    canned = alpha.ok("POST", "/canned-responses", 201, json={"program_id": program, "name": "Bye", "body": "Bye!"})
    assert world.supervisor_api.ok("GET", "/canned-responses", params={"program_id": program})[0]["id"] == canned["id"]
    assert world.agent_api.delete(f"/canned-responses/{canned['id']}").status_code == 403
    assert beta.put(f"/canned-responses/{canned['id']}", json={"name": "x", "body": "y"}).status_code == 404
    assert alpha.ok("PUT", f"/canned-responses/{canned['id']}", json={"name": "Bye", "body": "Goodbye!"})["body"] \
        == "Goodbye!"
    alpha.ok("DELETE", f"/canned-responses/{canned['id']}", 204)
    assert alpha.get(f"/canned-responses/{canned['id']}").status_code == 404


# ---- workflow dry run ---------------------------------------------------------------------------------
def test_a_workflow_draft_is_checked_without_being_saved(alpha: Api, beta: Api, world: World) -> None:
    program, queue = world.programs["A"]["id"], world.queues["A"]["id"]
    draft = {"program_id": program, "routes": [{"name": "vip", "filter": 'tier == "gold"',
                                                "targets": [{"queue_id": queue, "agent_expression": "agent.skills.x >= 3"}]}],
             "default_target": {"queue_id": queue}}
    assert alpha.ok("POST", "/workflows/validate", json=draft) == {"valid": True}
    before = alpha.ok("GET", "/workflows", params={"program_id": program})

    draft["routes"][0]["targets"][0]["agent_expression"] = "agent.skills.x >= "
    bad = alpha.post("/workflows/validate", json=draft)
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid-expression"
    assert bad.json()["details"]["field"] == "routes[0].targets[0].agent_expression"
    assert bad.json()["details"]["position"] == len("agent.skills.x >= ")
    draft["routes"][0]["targets"][0] = {"queue_id": world.queues["B"]["id"]}  # another tenant's queue
    other = alpha.post("/workflows/validate", json=draft)
    assert other.status_code == 422 and other.json()["details"]["field"] == "routes[0].targets[0].queue_id"

    assert alpha.ok("GET", "/workflows", params={"program_id": program}) == before  # nothing saved
    assert world.supervisor_api.post("/workflows/validate", json=draft).status_code == 403
    assert beta.post("/workflows/validate", json=draft).status_code == 404
