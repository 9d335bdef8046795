"""The referral directory: kept by admins, searched by agents, used to transfer a customer out."""
from __future__ import annotations

import pytest

from .support import Api, World

pytestmark = pytest.mark.e2e

ENERGY_AID = {"name": "Energy Assistance Fund", "phone": "+1 800 555 0100", "url": "https://aid.example.org",
              "when_to_use": "customer cannot pay the bill this month; hardship"}
GAS_LEAK = {"name": "Gas emergency line", "phone": "+1 800 555 0199", "url": None,
            "when_to_use": "smell of gas: refer at once, do not troubleshoot"}


def test_agents_search_their_programs_directory_and_refer_a_caller_out(alpha: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    aid = alpha.ok("POST", "/referrals", 201, json={"program_id": program, **ENERGY_AID})
    gas = alpha.ok("POST", "/referrals", 201, json={"program_id": program, **GAS_LEAK})
    assert aid["target"] == "+1 800 555 0100" and aid["tenant_id"] == world.tenants["A"]["id"]

    agent = world.agent_api
    everything = agent.ok("GET", "/referrals", params={"program_id": program})
    assert [r["name"] for r in everything] == ["Energy Assistance Fund", "Gas emergency line"]  # by name
    found = agent.ok("GET", "/referrals", params={"program_id": program, "q": "cannot PAY"})
    assert [r["id"] for r in found] == [aid["id"]]  # every word, in any case, in name or guidance
    assert agent.ok("GET", "/referrals", params={"program_id": program, "q": "gas"})[0]["id"] == gas["id"]
    assert agent.ok("GET", "/referrals", params={"program_id": program, "q": "pizza"}) == []

    # the desk's "refer" is a transfer to the resource's target, with its name as the note
    agent.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "available", "reason": None})
    call = alpha.ok("POST", "/interactions", 201, json={"program_id": program, "channel": "voice",
                                                       "queue_id": world.queues["A"]["id"]})
    offer = agent.ok("GET", f"/agents/{world.agent['id']}/offers")[0]
    agent.ok("POST", f"/agents/{world.agent['id']}/offers/{offer['id']}/accept")
    referred = agent.ok("POST", f"/interactions/{call['id']}/transfer",
                        json={"kind": "external", "target": gas["target"], "note": gas["name"]})
    assert (referred["state"], referred["disposition"]) == ("completed", "referred")
    assert referred["transfer"]["target"] == "+1 800 555 0199"
    agent.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "offline", "reason": None})


def test_the_directory_is_checked_and_kept_by_admins_only(alpha: Api, beta: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    nowhere = alpha.post("/referrals", json={"program_id": program, "name": "Nowhere", "phone": None, "url": None})
    assert nowhere.status_code == 422 and nowhere.json()["details"]["field"] == "phone"
    bad_url = alpha.post("/referrals", json={"program_id": program, "name": "X", "url": "ftp://x"})
    assert bad_url.status_code == 422 and bad_url.json()["details"]["field"] == "url"
    entry = alpha.ok("POST", "/referrals", 201, json={"program_id": program, **ENERGY_AID})
    assert world.agent_api.put(f"/referrals/{entry['id']}", json=ENERGY_AID).status_code == 403
    assert world.viewer_api.get("/referrals", params={"program_id": program}).status_code == 403
    assert beta.get(f"/referrals/{entry['id']}").status_code == 404  # another operator
    assert beta.get("/referrals", params={"program_id": program}).status_code == 404
    changed = alpha.ok("PUT", f"/referrals/{entry['id']}", json={**ENERGY_AID, "phone": None})
    assert changed["target"] == "https://aid.example.org"  # no phone left: the web address
    alpha.ok("DELETE", f"/referrals/{entry['id']}", 204)
    assert alpha.get(f"/referrals/{entry['id']}").status_code == 404
