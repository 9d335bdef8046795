"""Dispositions per program: set by an admin, read by agents, required to complete a contact."""
from __future__ import annotations

import pytest

from .support import Api, World

pytestmark = pytest.mark.e2e

CODES = [{"code": "resolved", "label": "Resolved"}, {"code": "referred", "label": "Referred elsewhere"}]


def test_a_contact_of_a_program_with_dispositions_completes_only_with_one_of_them(alpha: Api, world: World) -> None:
    program = world.programs["A"]
    saved = alpha.ok("PATCH", f"/programs/{program['id']}", json={"dispositions": CODES})
    assert saved["dispositions"] == CODES
    agent = world.agent_api
    assert agent.ok("GET", f"/programs/{program['id']}/dispositions") == CODES  # what her desk offers

    agent.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "available", "reason": None})
    call = alpha.ok("POST", "/interactions", 201, json={"program_id": program["id"], "channel": "voice",
                                                       "queue_id": world.queues["A"]["id"]})
    offer = agent.ok("GET", f"/agents/{world.agent['id']}/offers")[0]
    agent.ok("POST", f"/agents/{world.agent['id']}/offers/{offer['id']}/accept")
    agent.ok("POST", f"/interactions/{call['id']}/end")

    missing = agent.post(f"/interactions/{call['id']}/complete", json={"disposition": None, "notes": None})
    assert missing.status_code == 422
    assert missing.json()["details"]["field"] == "disposition"
    assert missing.json()["details"]["allowed"] == ["resolved", "referred"]
    wrong = agent.post(f"/interactions/{call['id']}/complete", json={"disposition": "sale", "notes": None})
    assert wrong.status_code == 422
    assert alpha.ok("GET", f"/interactions/{call['id']}")["state"] == "wrap_up"  # nothing changed

    done = agent.ok("POST", f"/interactions/{call['id']}/complete", json={"disposition": "referred", "notes": "ok"})
    assert (done["state"], done["disposition"]) == ("completed", "referred")
    agent.ok("PUT", f"/agents/{world.agent['id']}/state", json={"state": "offline", "reason": None})


def test_dispositions_are_checked_and_only_admins_set_them(alpha: Api, world: World) -> None:
    program = world.programs["A"]
    duplicate = alpha.patch(f"/programs/{program['id']}", json={"dispositions": CODES + CODES[:1]})
    assert duplicate.status_code == 422 and duplicate.json()["details"]["field"] == "dispositions[2].code"
    assert alpha.patch(f"/programs/{program['id']}", json={"dispositions": [{"code": "Bad Code", "label": "x"}]}
                       ).status_code == 422
    assert world.supervisor_api.patch(f"/programs/{program['id']}", json={"dispositions": CODES}).status_code == 403
    # the list is for those who handle contacts: a client viewer is shut out of it
    assert world.viewer_api.get(f"/programs/{program['id']}/dispositions").status_code == 403
    # clearing the list: no disposition needed any more
    assert alpha.ok("PATCH", f"/programs/{program['id']}", json={"dispositions": []})["dispositions"] == []
