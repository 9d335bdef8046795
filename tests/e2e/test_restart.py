"""Nothing is lost when the server dies: kill -9 with contacts waiting and offers outstanding,
start again, and everything is back in its place.

The server is the real `hearthline serve` process; the kill is SIGKILL, so no shutdown code runs.
"""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from .support import Api, Server, make_world

pytestmark = pytest.mark.e2e


def _snapshot(api: Api, queue_id: str) -> dict[str, dict[str, Any]]:
    items = api.ok("GET", f"/interactions?queue_id={queue_id}&limit=500")
    return {i["id"]: api.ok("GET", f"/interactions/{i['id']}") for i in items}


def _waiting_order(snapshot: dict[str, dict[str, Any]]) -> list[str]:
    waiting = [i for i in snapshot.values() if i["state"] == "queued"]
    return [i["id"] for i in sorted(waiting, key=lambda i: i["position"])]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sigkill_loses_no_waiting_contact_and_reverts_outstanding_offers(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    database_url = request.getfixturevalue("postgres_database") if backend == "postgres" else ""
    # Offers must still be outstanding when the kill comes: give them a long time-out.
    server = Server(tmp_path, {"HEARTHLINE_OFFER_TIMEOUT_SECONDS": "600",
                               "HEARTHLINE_LOGIN_ATTEMPTS_PER_MINUTE": "1000"}, database_url=database_url).start()
    try:
        with server.client() as http:
            admin = server.admin(http)
            world = make_world(admin)
            queue_id, program_id = world.queues["A"]["id"], world.programs["A"]["id"]
            talking = world.agent["id"]
            ringing = admin.ok("POST", "/agents", 201, json={"name": "Second", "skills": {world.skill: 3}})["id"]

            admin.ok("PUT", f"/agents/{talking}/state", json={"state": "available", "reason": None})
            created = [admin.ok("POST", "/interactions", 201, json={
                "program_id": program_id, "channel": "voice", "queue_id": queue_id,
                "customer": {"name": f"Caller {n}"}, "priority": n % 3}) for n in range(7)]
            offer = admin.ok("GET", f"/agents/{talking}/offers")[0]
            in_hand = admin.ok("POST", f"/agents/{talking}/offers/{offer['id']}/accept")["id"]
            admin.ok("PUT", f"/agents/{ringing}/state", json={"state": "available", "reason": None})
            outstanding = admin.ok("GET", f"/agents/{ringing}/offers")
            assert len(outstanding) == 1
            ringing_contact, old_offer = outstanding[0]["interaction_id"], outstanding[0]["id"]

            before = _snapshot(admin, queue_id)
            order_before = _waiting_order(before)
            assert len(before) == len(created) == 7
            assert len(order_before) == 5  # 7 created − 1 in hand − 1 ringing
            assert [before[i]["position"] for i in order_before] == [1, 2, 3, 4, 5]

        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        server.start()

        with server.client() as http:
            admin = server.admin(http)
            after = _snapshot(admin, queue_id)

            # nothing lost, nothing duplicated
            assert sorted(after) == sorted(before)
            listed = admin.ok("GET", f"/interactions?queue_id={queue_id}&limit=500")
            assert len(listed) == len({i["id"] for i in listed}) == 7
            # every contact keeps its original enqueue time
            assert {i: after[i]["enqueued_at"] for i in after} == {i: before[i]["enqueued_at"] for i in before}
            # the waiting ones are back in the same order
            assert _waiting_order(after) == order_before
            # the call in hand is still in hand
            assert after[in_hand]["state"] == "accepted" and after[in_hand]["agent_id"] == talking
            # the outstanding offer was reverted; the contact went back to the head of the line
            # and, its agent being still available, was offered to her afresh
            events = admin.ok("GET", f"/interactions/{ringing_contact}/events")
            reverted = [e for e in events if e["name"] == "OfferReverted"]
            assert [e["data"]["offer_id"] for e in reverted] == [old_offer]
            new_offers = admin.ok("GET", f"/agents/{ringing}/offers")
            assert [o["interaction_id"] for o in new_offers] == [ringing_contact]
            assert new_offers[0]["id"] != old_offer
    finally:
        server.stop()
