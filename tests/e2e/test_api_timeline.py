"""An agent's day as a timeline of state segments, read back through the API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .support import Api, World, unique

pytestmark = pytest.mark.e2e


def test_every_state_change_is_a_segment_and_the_segments_leave_no_gaps(alpha: Api, world: World) -> None:
    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    agent = alpha.ok("POST", "/agents", 201, json={"name": unique("Timeline"), "skills": {world.skill: 2}})["id"]
    state = f"/agents/{agent}/state"
    alpha.ok("PUT", state, json={"state": "available", "reason": None})
    alpha.ok("PUT", state, json={"state": "paused", "reason": "lunch"})
    alpha.ok("PUT", state, json={"state": "available", "reason": None})
    contact = alpha.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["A"]["id"], "channel": "voice", "queue_id": world.queues["A"]["id"]})
    offers = alpha.ok("GET", f"/agents/{agent}/offers")
    assert [o["interaction_id"] for o in offers] == [contact["id"]]
    alpha.ok("POST", f"/agents/{agent}/offers/{offers[0]['id']}/accept")
    alpha.ok("POST", f"/interactions/{contact['id']}/end")
    alpha.ok("POST", f"/interactions/{contact['id']}/complete", json={"disposition": "resolved", "notes": None})
    alpha.ok("PUT", state, json={"state": "offline", "reason": None})

    timeline = alpha.ok("GET", f"/agents/{agent}/timeline", params={"start": start.isoformat()})
    assert [(s["state"], s["reason"]) for s in timeline] == [
        ("offline", None), ("available", None), ("paused", "lunch"), ("available", None),
        ("busy", None), ("wrap_up", None), ("available", None), ("offline", None)]
    for before, after in zip(timeline, timeline[1:]):
        assert before["end"] == after["start"]  # one ends where the next begins
    assert timeline[-1]["end"] is None  # still offline now
    assert [s["seq"] for s in timeline] == sorted(s["seq"] for s in timeline)

    # a window in the middle returns only the segments overlapping it
    lunch = timeline[2]
    window = alpha.ok("GET", f"/agents/{agent}/timeline", params={"start": lunch["start"], "end": lunch["end"]})
    assert [s["seq"] for s in window] == [lunch["seq"]]


def test_a_timeline_is_the_agents_own_business(alpha: Api, world: World) -> None:
    since = {"start": "2026-01-01T00:00:00+00:00"}
    other = alpha.ok("POST", "/agents", 201, json={"name": unique("Other")})["id"]
    assert world.agent_api.get(f"/agents/{world.agent['id']}/timeline", params=since).status_code == 200
    assert world.agent_api.get(f"/agents/{other}/timeline", params=since).status_code == 404
    assert world.viewer_api.get(f"/agents/{other}/timeline", params=since).status_code == 403
    naive = alpha.get(f"/agents/{other}/timeline", params={"start": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["error"] == "invalid-input"
