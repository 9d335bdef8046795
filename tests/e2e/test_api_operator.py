"""The operator's own settings: which pause a missed offer lands an agent in."""
from __future__ import annotations

import time

import pytest

from .support import Api, World

pytestmark = pytest.mark.e2e


def test_a_missed_offer_puts_the_agent_in_the_operators_chosen_pause(alpha: Api, world: World) -> None:
    assert alpha.ok("GET", "/operator")["missed_pause_code"] == "missed"
    alpha.ok("PUT", "/pause-reasons/away", json={"label": "Away from desk", "paid": False})
    try:
        assert alpha.ok("PATCH", "/operator", json={"missed_pause_code": "away"})["missed_pause_code"] == "away"
        queue = alpha.ok("POST", "/queues", 201, json={
            "program_id": world.programs["A"]["id"], "name": "Quick ring", "skills": {world.skill: 1},
            "offer_timeout_seconds": 1})
        agent = world.agent["id"]
        alpha.ok("PUT", f"/agents/{agent}/state", json={"state": "available", "reason": None})
        alpha.ok("POST", "/interactions", 201, json={"program_id": world.programs["A"]["id"], "channel": "voice",
                                                    "queue_id": queue["id"]})
        deadline = time.monotonic() + 15
        state = alpha.ok("GET", f"/agents/{agent}/state")
        while state["state"] != "paused" and time.monotonic() < deadline:
            time.sleep(0.2)
            state = alpha.ok("GET", f"/agents/{agent}/state")
        assert (state["state"], state["reason"]) == ("paused", "away")
        # the pause that routing uses cannot be deleted while it is the operator's choice
        refused = alpha.delete("/pause-reasons/away")
        assert refused.status_code == 422 and refused.json()["details"]["field"] == "code"
    finally:
        alpha.ok("PATCH", "/operator", json={"missed_pause_code": "missed"})
        alpha.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "offline", "reason": None})


def test_the_missed_pause_must_be_a_pause_reason_and_only_admins_choose_it(alpha: Api, world: World) -> None:
    bad = alpha.patch("/operator", json={"missed_pause_code": "no-such-pause"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "missed_pause_code"
    assert world.supervisor_api.patch("/operator", json={"name": "Mine now"}).status_code == 403
    assert world.supervisor_api.get("/operator").status_code == 200
    assert world.viewer_api.get("/operator").status_code == 403
