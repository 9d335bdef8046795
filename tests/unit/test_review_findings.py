"""Regression tests from a code review of the routing core: reservations released when the
reserved agent says no or misses the offer, idle order kept across a restart, and a queue's new
priority applied to the contacts already waiting in it."""
from __future__ import annotations

from dataclasses import replace


from hearthline.domain.agents import Presence
from hearthline.domain.interactions import InteractionState, TransferKind
from hearthline.domain.queues import Strategy
from tests.factories import (
    ChangeLog, accept, add_agent, add_queue, arrive, at, make_center, offer_of, offered_interaction, restart,
)

S = InteractionState


# ---- 1. a reservation outlives the reserved agent's refusal --------------------------------------

def test_a_transfer_the_target_agent_rejects_goes_to_a_free_colleague_at_once():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=1)
    call = arrive(center, queue, 10)
    accept(center, ann, 11)
    center.transfer(call.id, ann, TransferKind.AGENT, bob, at(20))  # reserved for Bob until 50
    assert offered_interaction(center, bob) == call.id
    center.reject_offer(offer_of(center, bob), bob, at(21))
    # Ann is available and idle, the call is in her queue, and Bob said no: it should ring Ann now,
    # not at 50.
    assert offered_interaction(center, ann) == call.id


def test_a_preferred_agent_who_misses_the_offer_does_not_keep_the_contact_reserved():
    center = make_center(offer_timeout_seconds=10)
    queue = add_queue(center, strategy=Strategy.PREFERRED_AGENT, preferred_agent_seconds=60)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=1)
    first = arrive(center, queue, 10, customer_id="cust-1")
    accept(center, ann, 11)
    center.complete(first.id, ann, at(12))
    again = arrive(center, queue, 20, customer_id="cust-1")  # reserved for Ann until 80
    assert offered_interaction(center, ann) == again.id
    center.tick(at(30))  # Ann misses it and is paused
    assert center.agent(ann).presence is Presence.PAUSED
    assert offered_interaction(center, bob) == again.id


# ---- 2. restart forgets how long agents have been idle ---------------------------------------------

def test_restart_keeps_the_longest_idle_order():
    old = make_center()
    queue = add_queue(old)
    zed = add_agent(old, "zed", available_at=0)  # idle far longer; her id sorts after Amy's
    amy = add_agent(old, "amy", available_at=100)
    store = ChangeLog()
    store.save(old.changes())
    new = restart(store, [queue], 200)
    call = arrive(new, queue, 210)
    assert offered_interaction(new, zed) == call.id
    assert offered_interaction(new, amy) is None


# ---- 3. a queue's new priority is ignored for the contacts already waiting -------------------------

def test_raising_a_queues_priority_applies_to_contacts_already_waiting():
    center = make_center()
    low = add_queue(center, name="low")
    urgent = add_queue(center, name="urgent")
    ann = add_agent(center, "ann", available_at=0)
    busy = arrive(center, low, 1)
    accept(center, ann, 2)
    arrive(center, low, 10)
    escalated = arrive(center, urgent, 20)
    center.set_queue(replace(urgent, priority=10), at(30))
    center.complete(busy.id, ann, at(40))
    assert offered_interaction(center, ann) == escalated.id
