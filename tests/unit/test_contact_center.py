"""The contact center aggregate: offers, strategies, workflows, lifecycle, timeline, stats, restore."""
from __future__ import annotations

import copy
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearthline.domain.agents import AgentState, Medium, Presence
from hearthline.domain.errors import DomainError, InvalidInput, InvalidTransition, NotFound
from hearthline.domain.events import EventName
from hearthline.domain.expressions import InvalidExpression
from hearthline.domain.interactions import Channel, InteractionState, TransferKind
from hearthline.domain.organization import check_dispositions, Disposition, Program, SkillDefinition
from hearthline.domain.queues import Strategy
from hearthline.domain.workflows import Route, Target
from tests.factories import (
    ChangeLog, accept, add_agent, add_queue, arrive, at, make_center, make_workflow, offer_of, offered_interaction,
    restart,
)

S = InteractionState


def names(changes, name=None):
    return [e.name for e in changes.events if name is None or e.name is name]


def events(changes, name):
    return [e for e in changes.events if e.name is name]


def waiting_ids(center, queue):
    return [e.interaction_id for e in center.engine.waiting_in(queue.id)]


def serve(center, agent_id, start, seconds=1.0):
    """The agent accepts her offer at `start` and completes it `seconds` later."""
    interaction = accept(center, agent_id, start)
    center.complete(interaction.id, agent_id, at(start + seconds))
    return interaction


# ---- strategies -----------------------------------------------------------------------------

def test_longest_idle_agent_gets_next_call():
    center = make_center()
    queue = add_queue(center)
    add_agent(center, "recent", available_at=30)
    longest = add_agent(center, "longest", available_at=10)
    add_agent(center, "middle", available_at=20)
    call = arrive(center, queue, 40)
    assert offered_interaction(center, longest) == call.id
    assert call.state is S.OFFERED


def test_agent_who_just_finished_goes_to_the_back_of_the_idle_line():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=5)
    arrive(center, queue, 10)
    serve(center, ann, 11)  # Ann idle again since 12, Bob since 5
    second = arrive(center, queue, 20)
    assert offered_interaction(center, bob) == second.id
    assert offer_of(center, ann) is None


def test_most_skilled_agent_gets_the_call():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.MOST_SKILLED, skills={"billing": 1})
    add_agent(center, "novice", available_at=0, skills={"billing": 2})
    expert = add_agent(center, "expert", available_at=10, skills={"billing": 5})
    call = arrive(center, queue, 20)
    assert offered_interaction(center, expert) == call.id


def test_performance_strategy_gets_the_best_scorer():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.PERFORMANCE)
    add_agent(center, "steady", available_at=0, score=0.5)
    star = add_agent(center, "star", available_at=10, score=0.9)
    call = arrive(center, queue, 20)
    assert offered_interaction(center, star) == call.id


def test_round_robin_rotates_through_agents_regardless_of_idle_time():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.ROUND_ROBIN)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=1)
    cara = add_agent(center, "cara", available_at=2)
    arrive(center, queue, 10)
    assert offer_of(center, ann)
    accept(center, ann, 11)  # Ann talks long: idle again only from 200
    arrive(center, queue, 12)
    serve(center, bob, 13)  # Bob idle since 14
    arrive(center, queue, 15)
    serve(center, cara, 16)  # Cara idle since 17
    center.complete(next(iter(center.agent(ann).contacts)), ann, at(200))
    # longest idle would now pick Bob; round robin picks Ann, offered longest ago
    order = []
    for t in (300, 310, 320, 330):
        call = arrive(center, queue, t)
        agent = next(a for a in (ann, bob, cara) if offered_interaction(center, a) == call.id)
        order.append(agent)
        serve(center, agent, t + 1)
    assert order == [ann, bob, cara, ann]


def test_fewest_contacts_today_gets_the_call_then_longest_idle_among_equals():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.FEWEST_CONTACTS)
    ann = add_agent(center, "ann", available_at=0)
    arrive(center, queue, 1)
    serve(center, ann, 2)
    arrive(center, queue, 4)
    serve(center, ann, 5)  # Ann: 2 contacts, idle since 6
    bob = add_agent(center, "bob", available_at=20)
    arrive(center, queue, 21)
    assert offer_of(center, bob)  # 0 contacts beats Ann's longer idle time
    serve(center, bob, 22)  # Bob: 1 contact, idle since 23
    cara = add_agent(center, "cara", available_at=40)
    call = arrive(center, queue, 50)
    assert offered_interaction(center, cara) == call.id
    serve(center, cara, 51)  # Cara: 1 contact, idle since 52
    call = arrive(center, queue, 60)
    assert offered_interaction(center, bob) == call.id  # 1 contact, idle longer than Cara


def test_ring_all_offers_every_ready_member_and_first_accept_wins():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.RING_ALL)
    ann, bob, cara = (add_agent(center, n, available_at=i) for i, n in enumerate(("ann", "bob", "cara")))
    paused = add_agent(center, "dan", available_at=None)
    center.changes()
    call = arrive(center, queue, 10)
    offers = {a: offer_of(center, a) for a in (ann, bob, cara)}
    assert all(offers.values()) and offer_of(center, paused) is None
    assert len(events(center.changes(), EventName.INTERACTION_OFFERED)) == 3

    accept(center, bob, 12)
    changes = center.changes()
    withdrawn = events(changes, EventName.OFFER_WITHDRAWN)
    assert sorted(e.agent_id for e in withdrawn) == sorted([ann, cara])
    assert call.state is S.ACCEPTED and call.agent_id == bob
    for loser in (ann, cara):
        assert offer_of(center, loser) is None
        assert center.is_free_for(loser, Medium.VOICE)
    with pytest.raises(NotFound):
        center.accept_offer(offers[ann], ann, at(13))

    second = arrive(center, queue, 14)
    assert offered_interaction(center, ann) == second.id
    assert offered_interaction(center, cara) == second.id
    assert offer_of(center, bob) is None


def test_ring_all_contact_returns_to_queue_only_when_every_offer_is_rejected():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.RING_ALL)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=1)
    call = arrive(center, queue, 10)
    center.reject_offer(offer_of(center, ann), ann, at(11))
    assert call.state is S.OFFERED and offer_of(center, bob)
    center.reject_offer(offer_of(center, bob), bob, at(12))
    assert call.state is S.QUEUED
    assert waiting_ids(center, queue) == [call.id]
    assert offer_of(center, ann) is None and offer_of(center, bob) is None


def _served_by_ann_before(center, queue):
    """Ann (longest idle) serves customer `c-1`; afterwards Bob is the longest idle."""
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=1)
    arrive(center, queue, 10, customer_id="c-1")
    serve(center, ann, 11, seconds=9)  # Ann idle again from 20, Bob since 1
    return ann, bob


def test_returning_customer_gets_her_last_agent_while_she_is_free():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.PREFERRED_AGENT, preferred_agent_seconds=30)
    ann, bob = _served_by_ann_before(center, queue)
    call = arrive(center, queue, 30, customer_id="c-1")
    assert offered_interaction(center, ann) == call.id
    other = arrive(center, queue, 31, customer_id="c-2")
    assert offered_interaction(center, bob) == other.id


def test_returning_customer_waits_for_her_last_agent_then_anyone_after_the_time_out():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.PREFERRED_AGENT, preferred_agent_seconds=30)
    ann, bob = _served_by_ann_before(center, queue)
    center.set_presence(ann, Presence.PAUSED, "break", at(25))
    call = arrive(center, queue, 30, customer_id="c-1")
    assert call.only_agent_id == ann and call.state is S.QUEUED
    assert offer_of(center, bob) is None
    center.tick(at(59))
    assert offer_of(center, bob) is None
    center.tick(at(60))
    assert offered_interaction(center, bob) == call.id
    assert call.only_agent_id is None
    assert call.enqueued_at == at(30)


def test_returning_customer_goes_to_her_last_agent_when_she_frees_up_in_time():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.PREFERRED_AGENT, preferred_agent_seconds=30)
    ann, bob = _served_by_ann_before(center, queue)
    center.set_presence(ann, Presence.PAUSED, "break", at(25))
    call = arrive(center, queue, 30, customer_id="c-1")
    center.set_presence(ann, Presence.AVAILABLE, None, at(45))
    assert offered_interaction(center, ann) == call.id
    assert offer_of(center, bob) is None


# ---- fairness across queues -----------------------------------------------------------------

def test_agent_in_two_queues_gets_the_higher_priority_contact_first():
    center = make_center()
    low = add_queue(center, priority=0)
    high = add_queue(center, priority=2)
    ann = add_agent(center, "ann", available_at=None)
    old_low = arrive(center, low, 0)
    new_high = arrive(center, high, 10)
    center.set_presence(ann, Presence.AVAILABLE, None, at(20))
    assert offered_interaction(center, ann) == new_high.id
    serve(center, ann, 21)
    assert offered_interaction(center, ann) == old_low.id


def test_contact_priority_ties_across_queues_go_to_the_longest_waiting():
    center = make_center()
    q1, q2 = add_queue(center), add_queue(center)
    ann = add_agent(center, "ann", available_at=None)
    older = arrive(center, q2, 0)
    newer = arrive(center, q1, 10)
    center.set_presence(ann, Presence.AVAILABLE, None, at(20))
    assert offered_interaction(center, ann) == older.id
    serve(center, ann, 21)
    assert offered_interaction(center, ann) == newer.id


@pytest.mark.parametrize(("free_at", "expected"), [(299, "new_high"), (300, "old_low"), (301, "old_low")])
def test_ageing_lets_old_low_priority_contact_overtake_after_exactly_five_minutes(free_at, expected):
    # 1 point a minute against a 5-point head start: equal at 300 s, and ties go to the older
    center = make_center()
    ageing = add_queue(center, ageing_per_minute=1.0)
    fixed = add_queue(center, priority=5)
    ann = add_agent(center, "ann", available_at=None)
    contacts = {"old_low": arrive(center, ageing, 0), "new_high": arrive(center, fixed, 100)}
    center.set_presence(ann, Presence.AVAILABLE, None, at(free_at))
    assert offered_interaction(center, ann) == contacts[expected].id


# ---- offers: time-out and rejection ---------------------------------------------------------

def test_offer_time_out_puts_contact_back_in_its_place_and_pauses_the_agent():
    center = make_center(offer_timeout_seconds=20)
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    first = arrive(center, queue, 10)
    second = arrive(center, queue, 15)
    center.tick(at(29))
    assert first.state is S.OFFERED
    center.changes()
    center.tick(at(30))
    changes = center.changes()
    timed_out = events(changes, EventName.OFFER_TIMED_OUT)
    assert [(e.agent_id, e.interaction_id) for e in timed_out] == [(ann, first.id)]
    runtime = center.agent(ann)
    assert (runtime.presence, runtime.pause_reason) == (Presence.PAUSED, "missed")
    assert (runtime.state, runtime.state_reason) == (AgentState.PAUSED, "missed")
    assert first.state is S.QUEUED and first.enqueued_at == at(10)
    assert waiting_ids(center, queue) == [first.id, second.id]
    bob = add_agent(center, "bob", available_at=40)
    assert offered_interaction(center, bob) == first.id


def test_queue_offer_time_out_overrides_the_operator_default():
    center = make_center(offer_timeout_seconds=20)
    queue = add_queue(center, offer_timeout_seconds=5)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 10)
    assert center.offers[offer_of(center, ann)].expires_at == at(15)
    center.tick(at(15))
    assert call.state is S.QUEUED


def test_rejected_contact_goes_to_another_agent_never_back_to_the_rejecter():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=5)
    call = arrive(center, queue, 10)
    center.reject_offer(offer_of(center, ann), ann, at(12))
    assert offered_interaction(center, bob) == call.id
    assert offer_of(center, ann) is None
    center.reject_offer(offer_of(center, bob), bob, at(14))
    assert call.state is S.QUEUED and call.enqueued_at == at(10)
    assert call.excluded_agents == {ann, bob}
    assert offer_of(center, ann) is None and offer_of(center, bob) is None
    assert center.is_free_for(ann, Medium.VOICE)
    cara = add_agent(center, "cara", available_at=20)
    assert offered_interaction(center, cara) == call.id


def test_rejecting_agent_gets_the_next_contact_instead():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    first = arrive(center, queue, 10)
    second = arrive(center, queue, 11)
    center.changes()
    center.reject_offer(offer_of(center, ann), ann, at(12))
    assert names(center.changes(), EventName.OFFER_REJECTED) == [EventName.OFFER_REJECTED]
    assert offered_interaction(center, ann) == second.id
    assert waiting_ids(center, queue) == [first.id]


# ---- capacity ---------------------------------------------------------------------------------

def test_agent_on_a_call_is_offered_nothing_else():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    chat = arrive(center, queue, 3, Channel.CHAT)
    email = arrive(center, queue, 4, Channel.EMAIL)
    assert offer_of(center, ann) is None
    assert chat.state is S.QUEUED and email.state is S.QUEUED
    center.complete(call.id, ann, at(10))
    assert offered_interaction(center, ann) == chat.id


def test_agent_takes_up_to_three_chats_at_once():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    chats = [arrive(center, queue, t, Channel.CHAT) for t in range(1, 5)]
    for t in range(3):
        accept(center, ann, 10 + t)
    assert [c.state for c in chats] == [S.ACCEPTED] * 3 + [S.QUEUED]
    assert offer_of(center, ann) is None
    assert center.agent(ann).routing.load[Medium.CHAT] == 3
    center.end(chats[0].id, ann, at(20))
    assert offer_of(center, ann) is None  # wrap-up still holds the slot
    center.complete(chats[0].id, ann, at(21))
    assert offered_interaction(center, ann) == chats[3].id


def test_agent_on_a_chat_is_not_offered_a_call():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    chat = arrive(center, queue, 1, Channel.CHAT)
    accept(center, ann, 2)
    call = arrive(center, queue, 3)
    assert offer_of(center, ann) is None and call.state is S.QUEUED
    bob = add_agent(center, "bob", available_at=4)
    assert offered_interaction(center, bob) == call.id
    assert chat.state is S.ACCEPTED


def test_agent_takes_up_to_five_emails_at_once():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    emails = [arrive(center, queue, t, Channel.EMAIL) for t in range(1, 7)]
    for t in range(5):
        accept(center, ann, 10 + t)
    assert [e.state for e in emails] == [S.ACCEPTED] * 5 + [S.QUEUED]
    assert offer_of(center, ann) is None


# ---- certification --------------------------------------------------------------------------

def test_certified_skill_counts_only_until_the_certification_expires():
    center = make_center(skills=[SkillDefinition("medicare", requires_certification="medicare-cert")])
    queue = add_queue(center, skills={"medicare": 2})
    ann = add_agent(center, "ann", available_at=0, skills={"medicare": 4},
                    certifications={"medicare-cert": at(100)})
    uncertified = add_agent(center, "bob", available_at=0, skills={"medicare": 5})
    assert center.engine.queues_of(ann) == (queue.id,)
    assert center.engine.queues_of(uncertified) == ()
    center.tick(at(99))
    assert center.engine.queues_of(ann) == (queue.id,)
    center.tick(at(100))
    assert center.engine.queues_of(ann) == ()
    call = arrive(center, queue, 110)
    assert call.state is S.QUEUED and offer_of(center, ann) is None


# ---- workflows --------------------------------------------------------------------------------

def test_workflow_filter_routes_spanish_contacts_to_the_spanish_queue():
    center = make_center()
    spanish = add_queue(center, name="es")
    english = add_queue(center, name="en")
    wf = make_workflow([Route("spanish", 'language == "es"', (Target(spanish.id),))], Target(english.id))
    center.set_workflow(wf)
    es = arrive(center, None, 1, workflow_id=wf.id, attributes={"language": "es"})
    en = arrive(center, None, 2, workflow_id=wf.id, attributes={"language": "en"})
    none = arrive(center, None, 3, workflow_id=wf.id)
    assert (es.queue_id, es.route) == (spanish.id, "spanish")
    assert (en.queue_id, en.route) == (english.id, "default")
    assert none.queue_id == english.id


def test_workflow_agent_expression_restricts_which_agents_get_the_contact():
    center = make_center()
    queue = add_queue(center)
    junior = add_agent(center, "junior", available_at=0, skills={"billing": 1})
    wf = make_workflow(default=Target(queue.id, agent_expression="agent.skills.billing >= 3"))
    center.set_workflow(wf)
    call = arrive(center, None, 10, workflow_id=wf.id)
    assert call.state is S.QUEUED and offer_of(center, junior) is None
    senior = add_agent(center, "senior", available_at=20, skills={"billing": 3})
    assert offered_interaction(center, senior) == call.id


def _two_tier(center):
    first = add_queue(center, skills={"tier1": 1})
    second = add_queue(center, skills={"tier2": 1})
    return first, second


def test_target_time_out_overflows_to_the_next_target_keeping_enqueue_time():
    center = make_center()
    first, second = _two_tier(center)
    add_agent(center, "t1", available_at=None, skills={"tier1": 1})
    bob = add_agent(center, "t2", available_at=0, skills={"tier2": 1})
    wf = make_workflow([Route("all", 'channel == "voice"',
                              (Target(first.id, timeout_seconds=60), Target(second.id, priority=3)))],
                       Target(first.id))
    center.set_workflow(wf)
    call = arrive(center, None, 0, workflow_id=wf.id)
    center.tick(at(59))
    assert call.queue_id == first.id and call.state is S.QUEUED
    center.changes()
    center.tick(at(60))
    changes = center.changes()
    overflowed = events(changes, EventName.INTERACTION_OVERFLOWED)
    assert [(e.data["from_queue"], e.data["to_queue"]) for e in overflowed] == [(first.id, second.id)]
    assert call.queue_id == second.id and call.target_index == 1 and call.priority == 3
    assert call.enqueued_at == at(0)
    offered = events(changes, EventName.INTERACTION_OFFERED)
    assert [(e.agent_id, e.data["wait_seconds"]) for e in offered] == [(bob, 60.0)]


def test_target_time_out_during_an_offer_overflows_once_the_offer_fails():
    center = make_center(offer_timeout_seconds=20)
    first, second = _two_tier(center)
    ann = add_agent(center, "t1", available_at=None, skills={"tier1": 1})
    bob = add_agent(center, "t2", available_at=0, skills={"tier2": 1})
    wf = make_workflow([Route("all", 'channel == "voice"',
                              (Target(first.id, timeout_seconds=60), Target(second.id)))], Target(first.id))
    center.set_workflow(wf)
    call = arrive(center, None, 0, workflow_id=wf.id)
    center.set_presence(ann, Presence.AVAILABLE, None, at(50))  # offered at 50, expires at 70
    for t in (60, 70, 71):
        center.tick(at(t))
    assert call.queue_id == second.id
    assert offered_interaction(center, bob) == call.id


def test_skip_if_skips_a_target_whose_queue_already_has_waiting_contacts():
    center = make_center()
    first, second = add_queue(center), add_queue(center)
    wf = make_workflow([Route("all", 'channel == "voice"',
                              (Target(first.id, skip_if="queue.waiting > 0"), Target(second.id)))],
                       Target(first.id))
    center.set_workflow(wf)
    a = arrive(center, None, 1, workflow_id=wf.id)
    b = arrive(center, None, 2, workflow_id=wf.id)
    assert (a.queue_id, a.target_index) == (first.id, 0)
    assert (b.queue_id, b.target_index) == (second.id, 1)
    assert b.enqueued_at == at(2)


INVALID_WORKFLOWS = {  # case → (workflow for queue q, field, 0-based position of the problem)
    "filter": (lambda q: make_workflow([Route("r", 'language = "es"', (Target(q),))], Target(q)),
               "routes[0].filter", 9),
    "agent_expression": (lambda q: make_workflow(default=Target(q, agent_expression="agent.skills.billing >=")),
                         "default_target.agent_expression", 23),
    "skip_if": (lambda q: make_workflow([Route("r", "true", (Target(q, skip_if="agent.score > 1"), Target(q)))],
                                        Target(q)),
                "routes[0].targets[0].skip_if", 0),
}


@pytest.mark.parametrize("case", list(INVALID_WORKFLOWS))
def test_invalid_workflow_expression_is_refused_with_its_position(case):
    center = make_center()
    queue = add_queue(center)
    build, field, position = INVALID_WORKFLOWS[case]
    wf = build(queue.id)
    with pytest.raises(InvalidExpression) as raised:
        center.set_workflow(wf)
    assert raised.value.code == "invalid-expression"
    assert raised.value.details["field"] == field
    assert raised.value.details["position"] == position
    assert wf.id not in center.workflows


def test_workflow_naming_an_unknown_queue_is_refused():
    center = make_center()
    add_queue(center)
    with pytest.raises(InvalidInput) as raised:
        center.set_workflow(make_workflow(default=Target("no-such-queue")))
    assert raised.value.details["field"] == "default_target.queue_id"


# ---- lifecycle --------------------------------------------------------------------------------

def test_contact_goes_through_accept_hold_resume_wrap_up_and_complete():
    center = make_center()
    queue = add_queue(center, wrap_up_seconds=60)
    ann = add_agent(center, "ann", available_at=0)
    center.changes()
    call = arrive(center, queue, 10)
    accept(center, ann, 15)
    assert (call.state, call.agent_id, call.answered_at) == (S.ACCEPTED, ann, at(15))
    center.hold(call.id, ann, at(20))
    assert call.state is S.HELD
    center.resume(call.id, ann, at(32))
    assert call.state is S.ACCEPTED and call.hold_seconds == 12
    center.end(call.id, ann, at(40))
    assert (call.state, call.ended_at, call.wrap_up_deadline) == (S.WRAP_UP, at(40), at(100))
    assert center.agent(ann).state is AgentState.WRAP_UP
    center.complete(call.id, ann, at(50), disposition="solved", notes="paid the bill")
    assert (call.state, call.completed_at, call.disposition) == (S.COMPLETED, at(50), "solved")
    assert call.id not in center.interactions
    assert center.agent(ann).state is AgentState.AVAILABLE
    assert names(center.changes()) == [
        EventName.INTERACTION_CREATED, EventName.INTERACTION_QUEUED, EventName.INTERACTION_OFFERED,
        EventName.OFFER_ACCEPTED, EventName.AGENT_STATE_CHANGED, EventName.INTERACTION_HELD,
        EventName.INTERACTION_RESUMED, EventName.INTERACTION_WRAP_UP_STARTED, EventName.AGENT_STATE_CHANGED,
        EventName.INTERACTION_COMPLETED, EventName.AGENT_STATE_CHANGED,
    ]


def test_wrap_up_time_limit_completes_the_contact():
    center = make_center()
    queue = add_queue(center, wrap_up_seconds=30)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    center.end(call.id, ann, at(10))
    waiting = arrive(center, queue, 11)
    center.tick(at(39))
    assert call.state is S.WRAP_UP and offer_of(center, ann) is None
    center.changes()
    center.tick(at(40))
    completed = events(center.changes(), EventName.INTERACTION_COMPLETED)
    assert [e.data.get("wrap_up_timed_out") for e in completed] == [True]
    assert call.state is S.COMPLETED and call.completed_at == at(40)
    assert offered_interaction(center, ann) == waiting.id


def test_customer_hanging_up_while_queued_abandons_the_contact():
    center = make_center()
    queue = add_queue(center)
    call = arrive(center, queue, 1)
    center.changes()
    center.abandon(call.id, at(30))
    assert (call.state, call.abandoned_at) == (S.ABANDONED, at(30))
    assert len(center.engine) == 0 and call.id not in center.interactions
    abandoned = events(center.changes(), EventName.INTERACTION_ABANDONED)
    assert [e.data["wait_seconds"] for e in abandoned] == [29.0]


def test_customer_hanging_up_while_offered_withdraws_the_offer_and_frees_the_agent():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    offer_id = offer_of(center, ann)
    center.changes()
    center.end(call.id, None, at(5))  # ending a waiting contact is an abandonment
    changes = center.changes()
    withdrawn = events(changes, EventName.OFFER_WITHDRAWN)
    assert [(e.agent_id, e.data["offer_id"], e.data["reason"]) for e in withdrawn] == \
        [(ann, offer_id, "customer left")]
    assert call.state is S.ABANDONED
    assert offer_of(center, ann) is None and center.is_free_for(ann, Medium.VOICE)
    with pytest.raises(NotFound):
        center.accept_offer(offer_id, ann, at(6))
    nxt = arrive(center, queue, 7)
    assert offered_interaction(center, ann) == nxt.id


def test_transfer_to_a_queue_requeues_the_contact_there_and_frees_the_agent():
    center = make_center()
    sales = add_queue(center, skills={"sales": 1})
    support = add_queue(center, skills={"support": 1})
    ann = add_agent(center, "ann", available_at=0, skills={"sales": 1})
    bob = add_agent(center, "bob", available_at=0, skills={"support": 1})
    call = arrive(center, sales, 1)
    accept(center, ann, 2)
    center.changes()
    center.transfer(call.id, ann, TransferKind.QUEUE, support.id, at(20), note="needs support")
    changes = center.changes()
    assert [e.data["target"] for e in events(changes, EventName.INTERACTION_TRANSFERRED)] == [support.id]
    assert call.queue_id == support.id and call.agent_id is None
    assert call.transfer["kind"] == "queue" and call.transfer["from_agent"] == ann
    assert offered_interaction(center, bob) == call.id
    assert center.agent(ann).contacts == set() and center.is_free_for(ann, Medium.VOICE)
    assert center.queue_snapshot(support.id, at(20))["offered"] == 1


def test_transfer_to_an_agent_waits_for_her_then_falls_back_to_the_queue_after_30_s():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=1)
    cara = add_agent(center, "cara", available_at=2)
    call = arrive(center, queue, 10)
    accept(center, ann, 11)
    arrive(center, queue, 12)
    accept(center, bob, 13)  # Bob is now busy
    center.transfer(call.id, ann, TransferKind.AGENT, bob, at(20))
    assert call.only_agent_id == bob and call.state is S.QUEUED
    assert offer_of(center, cara) is None and offer_of(center, ann) is None
    center.tick(at(49))
    assert offer_of(center, cara) is None
    center.tick(at(50))
    assert offered_interaction(center, cara) == call.id


def test_transfer_to_an_agent_who_frees_up_in_time_reaches_her():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=1)
    add_agent(center, "cara", available_at=2)
    call = arrive(center, queue, 10)
    accept(center, ann, 11)
    bobs = arrive(center, queue, 12)
    accept(center, bob, 13)
    center.transfer(call.id, ann, TransferKind.AGENT, bob, at(20))
    center.complete(bobs.id, bob, at(30))
    assert offered_interaction(center, bob) == call.id
    accept(center, bob, 31)
    assert call.agent_id == bob and call.only_agent_id is None


def test_external_transfer_completes_the_contact_with_the_referral():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    center.changes()
    center.transfer(call.id, ann, TransferKind.EXTERNAL, "+18005550100", at(30))
    completed = events(center.changes(), EventName.INTERACTION_COMPLETED)
    assert [e.data["referred_to"] for e in completed] == ["+18005550100"]
    assert (call.state, call.disposition) == (S.COMPLETED, "referred")
    assert call.transfer["target"] == "+18005550100"
    assert center.agent(ann).contacts == set()


def test_transfer_to_an_unknown_queue_changes_nothing():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    center.hold(call.id, ann, at(3))
    center.changes()
    with pytest.raises(NotFound):
        center.transfer(call.id, ann, TransferKind.QUEUE, "no-such-queue", at(10))
    assert names(center.changes()) == []
    assert call.transfer is None
    assert (call.state, call.hold_started_at, call.hold_seconds) == (S.HELD, at(3), 0.0)


def test_commands_not_allowed_in_the_current_state_raise_invalid_transition():
    center = make_center()
    queue = add_queue(center)
    waiting = arrive(center, queue, 0)
    with pytest.raises(InvalidTransition):
        center.hold(waiting.id, None, at(1))
    with pytest.raises(InvalidTransition):
        center.complete(waiting.id, None, at(1))
    ann = add_agent(center, "ann", available_at=2)
    accept(center, ann, 3)
    with pytest.raises(InvalidTransition):
        center.resume(waiting.id, ann, at(4))
    with pytest.raises(InvalidTransition):
        center.abandon(waiting.id, at(4))
    center.end(waiting.id, ann, at(5))
    for command in (center.hold, center.end):
        with pytest.raises(InvalidTransition):
            command(waiting.id, ann, at(6))
    with pytest.raises(InvalidTransition):
        center.transfer(waiting.id, ann, TransferKind.QUEUE, queue.id, at(6))
    with pytest.raises(InvalidTransition):
        center.create_interaction(waiting, at(7), queue_id=queue.id)  # the same id twice
    assert waiting.state is S.WRAP_UP


def test_logging_out_with_contacts_is_refused():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    with pytest.raises(InvalidTransition):
        center.set_presence(ann, Presence.OFFLINE, None, at(3))
    assert center.agent(ann).presence is Presence.AVAILABLE
    center.complete(call.id, ann, at(4))
    center.set_presence(ann, Presence.OFFLINE, None, at(5))
    assert center.agent(ann).state is AgentState.OFFLINE


def test_agent_pausing_during_a_call_stays_busy_until_it_is_done_and_gets_no_new_work():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    center.set_presence(ann, Presence.PAUSED, "lunch", at(3))
    assert center.agent(ann).state is AgentState.BUSY
    waiting = arrive(center, queue, 4)
    center.complete(call.id, ann, at(10))
    runtime = center.agent(ann)
    assert (runtime.state, runtime.state_reason) == (AgentState.PAUSED, "lunch")
    assert offer_of(center, ann) is None and waiting.state is S.QUEUED


def test_customer_leaving_during_ring_all_frees_every_ringing_agent():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.RING_ALL)
    agents = [add_agent(center, n, available_at=0) for n in ("ann", "bob", "cara")]
    call = arrive(center, queue, 1)
    center.changes()
    center.abandon(call.id, at(4))
    assert sorted(e.agent_id for e in events(center.changes(), EventName.OFFER_WITHDRAWN)) == sorted(agents)
    assert all(offer_of(center, a) is None and center.is_free_for(a, Medium.VOICE) for a in agents)
    assert center.offers == {}


def test_hold_by_another_agent_is_refused_as_not_found():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=0)
    call = arrive(center, queue, 1)
    owner = ann if offer_of(center, ann) else bob
    accept(center, owner, 2)
    with pytest.raises(NotFound):
        center.hold(call.id, bob if owner == ann else ann, at(3))
    assert call.state is S.ACCEPTED


def test_counts_restart_from_zero_at_midnight_utc():
    center = make_center()
    queue = add_queue(center, strategy=Strategy.FEWEST_CONTACTS)
    ann = add_agent(center, "ann", available_at=0)
    arrive(center, queue, 1)
    serve(center, ann, 2)
    assert center.queue_snapshot(queue.id, at(10))["offered"] == 1
    midnight = (24 - 9) * 3600  # START is 09:00 UTC
    center.tick(at(midnight - 1))
    assert center.queue_snapshot(queue.id, at(midnight - 1))["answered"] == 1
    center.tick(at(midnight))
    snap = center.queue_snapshot(queue.id, at(midnight))
    assert (snap["offered"], snap["answered"], snap["aht_seconds"]) == (0, 0, None)
    assert center.agent(ann).routing.contacts_today == 0
    assert center.agent_snapshot(ann, at(midnight))["contacts"] == 0


def test_pausing_with_an_unknown_reason_is_refused():
    center = make_center()
    ann = add_agent(center, "ann", available_at=0)
    with pytest.raises(InvalidInput):
        center.set_presence(ann, Presence.PAUSED, "nap", at(1))
    with pytest.raises(InvalidInput):
        center.set_presence(ann, Presence.PAUSED, None, at(1))


@pytest.mark.parametrize("presence", [Presence.PAUSED, Presence.OFFLINE])
def test_pausing_or_logging_out_with_an_offer_outstanding_withdraws_it_for_good(presence):
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    later = arrive(center, queue, 2)
    center.changes()
    center.set_presence(ann, presence, "break" if presence is Presence.PAUSED else None, at(3))
    assert names(center.changes(), EventName.INTERACTION_OFFERED) == []
    assert offer_of(center, ann) is None
    assert waiting_ids(center, queue) == [call.id, later.id]


# ---- timeline ---------------------------------------------------------------------------------

def test_every_state_change_closes_one_segment_and_opens_the_next_without_gaps():
    center = make_center(offer_timeout_seconds=20)
    queue = add_queue(center)
    segments = {}

    def collect():
        changes = center.changes()
        for s in changes.segments:
            segments[(s.agent_id, s.seq)] = copy.copy(s)
        return changes

    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 10)
    accept(center, ann, 15)
    center.hold(call.id, ann, at(20))
    center.resume(call.id, ann, at(25))
    center.end(call.id, ann, at(30))
    center.complete(call.id, ann, at(40))
    center.set_presence(ann, Presence.PAUSED, "break", at(50))
    center.set_presence(ann, Presence.PAUSED, "lunch", at(55))
    center.set_presence(ann, Presence.AVAILABLE, None, at(60))
    arrive(center, queue, 70)
    center.tick(at(90))  # offer times out: paused, "missed"
    changes_count = len(events(collect(), EventName.AGENT_STATE_CHANGED))
    center.set_presence(ann, Presence.OFFLINE, None, at(100))
    changes_count += len(events(collect(), EventName.AGENT_STATE_CHANGED))

    timeline = [segments[k] for k in sorted(segments) if k[0] == ann]
    assert [(s.state, s.reason, s.start) for s in timeline] == [
        (AgentState.OFFLINE, None, at(0)),  # a new agent's timeline starts offline
        (AgentState.AVAILABLE, None, at(0)),
        (AgentState.BUSY, None, at(15)),
        (AgentState.WRAP_UP, None, at(30)),
        (AgentState.AVAILABLE, None, at(40)),
        (AgentState.PAUSED, "break", at(50)),
        (AgentState.PAUSED, "lunch", at(55)),
        (AgentState.AVAILABLE, None, at(60)),
        (AgentState.PAUSED, "missed", at(90)),
        (AgentState.OFFLINE, None, at(100)),
    ]
    for before, after in zip(timeline, timeline[1:]):
        assert before.end == after.start
    assert timeline[-1].end is None
    assert [s.seq for s in timeline] == list(range(1, len(timeline) + 1))
    assert changes_count == len(timeline)


# ---- statistics and estimated wait ----------------------------------------------------------

def test_queue_statistics_follow_the_documented_definitions():
    center = make_center()
    queue = add_queue(center, service_level_seconds=20)
    ann = add_agent(center, "ann", available_at=0)
    first = arrive(center, queue, 0)
    accept(center, ann, 10)  # waited 10 s: within T
    short = arrive(center, queue, 20)
    center.abandon(short.id, at(23))  # short abandon: excluded from SL
    long_ = arrive(center, queue, 30)
    center.abandon(long_.id, at(70))  # 40 s: counts against SL
    late = arrive(center, queue, 40)
    center.end(first.id, ann, at(70))
    center.complete(first.id, ann, at(100))  # handle 90 s; `late` offered at 100
    accept(center, ann, 101)  # waited 61 s: outside T
    center.complete(late.id, ann, at(131))  # handle 30 s
    snap = center.queue_snapshot(queue.id, at(140))
    assert (snap["offered"], snap["answered"], snap["abandoned"], snap["short_abandoned"]) == (4, 2, 2, 1)
    assert snap["service_level"] == pytest.approx(1 / 3)
    assert snap["asa_seconds"] == pytest.approx(35.5)
    assert snap["aht_seconds"] == pytest.approx(60.0)
    assert snap["abandonment_rate"] == pytest.approx(0.5)


def test_answer_exactly_at_the_threshold_counts_within_service_level():
    center = make_center()
    queue = add_queue(center, service_level_seconds=20)
    ann = add_agent(center, "ann", available_at=0)
    arrive(center, queue, 0)
    accept(center, ann, 20)
    assert center.queue_snapshot(queue.id, at(21))["service_level"] == 1.0


def test_estimated_wait_is_unknown_when_nobody_is_staffed():
    center = make_center()
    queue = add_queue(center)
    add_agent(center, "ann", available_at=None)
    call = arrive(center, queue, 0)
    assert center.queue_snapshot(queue.id, at(1))["ewt_seconds"] is None
    assert center.estimated_wait(call.id) == (1, None)


def test_estimated_wait_is_zero_with_a_ready_agent():
    center = make_center()
    queue = add_queue(center)
    add_agent(center, "ann", available_at=0)
    assert center.queue_snapshot(queue.id, at(1))["ewt_seconds"] == 0.0


def test_estimated_wait_is_position_times_aht_over_serving_slots():
    center = make_center()
    queue = add_queue(center, default_handle_seconds=180.0)
    ann = add_agent(center, "ann", available_at=0)
    bob = add_agent(center, "bob", available_at=0)
    add_agent(center, "paused", available_at=None)  # not present: serves no slot
    first = arrive(center, queue, 0)
    accept(center, ann, 0)
    arrive(center, queue, 0)
    accept(center, bob, 0)
    waiting = [arrive(center, queue, t) for t in (1, 2, 3)]
    assert center.estimated_wait(waiting[2].id) == (3, pytest.approx(3 * 180 / 2))
    center.complete(first.id, ann, at(100))  # AHT now 100 s; waiting[0] offered to Ann
    assert center.estimated_wait(waiting[2].id) == (2, pytest.approx(2 * 100 / 2))
    assert center.estimated_wait(waiting[0].id) == (0, 0.0)  # offered, not waiting in line


# ---- restart --------------------------------------------------------------------------------

def test_restart_restores_waiting_contacts_in_order_and_reverts_outstanding_offers():
    store = ChangeLog()
    old = make_center()
    queue = add_queue(old)
    ann = add_agent(old, "ann", available_at=0)
    bob = add_agent(old, "bob", available_at=1)
    talking = arrive(old, queue, 5)
    accept(old, ann, 6)
    offered = arrive(old, queue, 10)  # offered to Bob, outstanding at the restart
    old_offer = offer_of(old, bob)
    c2 = arrive(old, queue, 20)
    c3 = arrive(old, queue, 30, priority=5)
    c4 = arrive(old, queue, 40)
    store.save(old.changes())
    assert waiting_ids(old, queue) == [c3.id, c2.id, c4.id]

    assert [o.id for o in store.offers.values() if o.status == "pending"] == [old_offer]
    new = restart(store, [queue], 50)
    changes = new.changes()

    reverted = events(changes, EventName.OFFER_REVERTED)
    assert [(e.data["offer_id"], e.agent_id, e.interaction_id) for e in reverted] == [(old_offer, bob, offered.id)]
    assert changes.offers[old_offer].status == "reverted"
    # Bob (still available) is offered the best contact again: c3 by priority
    assert offered_interaction(new, bob) == c3.id and offer_of(new, bob) != old_offer
    assert waiting_ids(new, queue) == [offered.id, c2.id, c4.id]
    for original in (offered, c2, c3, c4):
        assert new.interaction(original.id).enqueued_at == original.enqueued_at
        assert new.interaction(original.id).seq == original.seq
    # nothing duplicated
    assert len(new.engine) == 3
    assert len(new.offers) == 1
    assert new.agent(ann).contacts == {talking.id}
    assert new.interaction(talking.id).state is S.ACCEPTED
    assert new.agent(ann).state is AgentState.BUSY
    assert not [s for s in changes.segments if s.agent_id in (ann, bob)]  # timelines simply continue
    assert new.queue_snapshot(queue.id, at(50))["offered"] == 5
    # new arrivals still queue behind the restored ones
    c5 = arrive(new, queue, 60)
    assert c5.seq > c4.seq
    assert waiting_ids(new, queue) == [offered.id, c2.id, c4.id, c5.id]


def test_restart_keeps_a_transfer_reservation_and_its_time_out():
    store = ChangeLog()
    old = make_center()
    queue = add_queue(old)
    ann = add_agent(old, "ann", available_at=0)
    bob = add_agent(old, "bob", available_at=1)
    call = arrive(old, queue, 10)
    accept(old, ann, 11)
    bobs = arrive(old, queue, 12)
    accept(old, bob, 13)
    old.transfer(call.id, ann, TransferKind.AGENT, bob, at(20))  # reserved for Bob until 50
    old.set_presence(ann, Presence.PAUSED, "break", at(21))
    store.save(old.changes())
    new = restart(store, [queue], 30)
    assert new.interaction(call.id).only_agent_id == bob
    assert new.interaction(bobs.id).state is S.ACCEPTED
    cara = add_agent(new, "cara", available_at=31)
    assert offer_of(new, cara) is None
    new.tick(at(50))
    assert offered_interaction(new, cara) == call.id


def test_restart_keeps_todays_offered_count_of_a_queue_a_contact_overflowed_from():
    store = ChangeLog()
    old = make_center()
    first, second = _two_tier(old)
    wf = make_workflow([Route("all", 'channel == "voice"',
                              (Target(first.id, timeout_seconds=60), Target(second.id)))], Target(first.id))
    old.set_workflow(wf)
    arrive(old, None, 0, workflow_id=wf.id)
    old.tick(at(60))
    store.save(old.changes())
    before = [old.queue_snapshot(q.id, at(70))["offered"] for q in (first, second)]
    assert before == [1, 1]
    new = restart(store, [first, second], 70, [wf])
    assert [new.queue_snapshot(q.id, at(70))["offered"] for q in (first, second)] == before


def test_restart_keeps_todays_answered_count_of_a_queue_a_contact_was_transferred_from():
    store = ChangeLog()
    old = make_center()
    sales = add_queue(old, name="sales", skills={"sales": 1})
    support = add_queue(old, name="support", skills={"support": 1})
    ann = add_agent(old, "ann", available_at=0, skills={"sales": 1})
    call = arrive(old, sales, 1)
    accept(old, ann, 5)
    old.transfer(call.id, ann, TransferKind.QUEUE, support.id, at(20))
    store.save(old.changes())
    before = {q.id: old.queue_snapshot(q.id, at(30)) for q in (sales, support)}
    assert (before[sales.id]["answered"], before[sales.id]["asa_seconds"]) == (1, 4.0)
    new = restart(store, [sales, support], 30)
    after = {q.id: new.queue_snapshot(q.id, at(30)) for q in (sales, support)}
    for q in (sales, support):
        for k in ("offered", "answered", "abandoned", "asa_seconds", "service_level"):
            assert after[q.id][k] == before[q.id][k], (q.name, k)


# ---- invariants under random commands -------------------------------------------------------

def check_invariants(center):
    engine = center.engine
    live = center.interactions
    queued = {i.id for i in live.values() if i.state is S.QUEUED}
    for runtime in center.agents.values():
        load = Counter(live[i].medium for i in runtime.contacts)
        for medium, n in load.items():
            assert n <= runtime.profile.capacity.get(medium, 0), f"{runtime.id} over capacity"
        if load[Medium.VOICE]:
            assert sum(load.values()) == 1, f"{runtime.id} has other work during a call"
        assert {m: n for m, n in runtime.routing.load.items() if n} == dict(load)
        for iid in runtime.contacts:
            assert live[iid].state.with_agent and live[iid].agent_id == runtime.id
        assert runtime.routing.accepting == (runtime.presence is Presence.AVAILABLE and runtime.offer_id is None)
        if runtime.offer_id is not None:
            assert center.offers[runtime.offer_id].agent_id == runtime.id
            assert runtime.presence is Presence.AVAILABLE, f"{runtime.id} holds an offer while {runtime.presence}"
    for interaction in live.values():
        assert not interaction.state.terminal
        holders = [r.id for r in center.agents.values() if interaction.id in r.contacts]
        if interaction.state.waiting:
            assert holders == [] and interaction.agent_id is None, "waiting and with an agent"
        if interaction.state is S.OFFERED:
            assert engine.entry(interaction.id) is None
            assert any(o.interaction_id == interaction.id for o in center.offers.values())
        if interaction.state.with_agent:
            assert holders == [interaction.agent_id]
    for offer in center.offers.values():
        assert live[offer.interaction_id].state is S.OFFERED
    # every QUEUED contact is in the engine exactly once
    listed = Counter(e.interaction_id for q in center.queues for e in engine.waiting_in(q))
    assert len(engine) == len(queued)
    assert listed == Counter(queued)
    # brute force: no ready agent idles while a contact she may take waits
    for runtime in center.agents.values():
        agent = runtime.routing
        if not agent.accepting:
            continue
        member_of = set(engine.queues_of(agent.agent_id))
        for iid in queued:
            entry = engine.entry(iid)
            reachable = entry.only_agent == agent.agent_id if entry.only_agent else entry.queue_id in member_of
            assert not (reachable and agent.ready_for(entry.medium) and entry.allows(agent)), \
                f"{agent.agent_id} idles while {iid} waits"


_pick = st.integers(0, 50)
_create = st.tuples(st.just("create"), st.sampled_from([Channel.VOICE, Channel.CHAT, Channel.EMAIL]),
                    st.integers(0, 3), st.integers(0, 3), st.integers(0, 2))
_accept = st.tuples(st.just("accept"), _pick)
_complete = st.tuples(st.just("complete"), _pick)
_tick = st.tuples(st.just("tick"))
COMMANDS = st.one_of(  # repeated entries weigh the common commands
    _create, _create, _create, _accept, _accept, _accept, _complete, _complete, _tick, _tick,
    st.tuples(st.just("reject"), _pick),
    st.tuples(st.just("hold"), _pick),
    st.tuples(st.just("resume"), _pick),
    st.tuples(st.just("end"), _pick),
    st.tuples(st.just("abandon"), _pick),
    st.tuples(st.just("transfer"), _pick, st.integers(0, 6)),
    st.tuples(st.just("presence"), st.integers(0, 3),
              st.sampled_from([Presence.AVAILABLE, Presence.AVAILABLE, Presence.PAUSED, Presence.OFFLINE])),
)


def _build(strategies):
    center = make_center(offer_timeout_seconds=15)
    queues = [
        add_queue(center, strategy=strategies[0], skills={"billing": 1}, ageing_per_minute=2.0,
                  wrap_up_seconds=20),
        add_queue(center, strategy=strategies[1], skills={"tech": 1}, priority=1, preferred_agent_seconds=20),
        add_queue(center, strategy=strategies[2], offer_timeout_seconds=10, wrap_up_seconds=5),
    ]
    agents = [
        add_agent(center, "a0", available_at=0, skills={"billing": 3}, score=0.3),
        add_agent(center, "a1", available_at=0, skills={"billing": 1, "tech": 2}, score=0.9),
        add_agent(center, "a2", available_at=0, skills={"tech": 3},
                  capacity={Medium.VOICE: 0, Medium.CHAT: 2, Medium.EMAIL: 2}),
        add_agent(center, "a3", available_at=None, capacity={Medium.VOICE: 1, Medium.CHAT: 1, Medium.EMAIL: 1}),
    ]
    wf = make_workflow([
        Route("vip", "priority >= 2", (Target(queues[0].id, agent_expression="agent.skills.billing >= 3",
                                              timeout_seconds=30), Target(queues[2].id))),
        Route("chat", 'channel == "chat"', (Target(queues[1].id, skip_if="queue.waiting > 1"),
                                            Target(queues[2].id))),
    ], Target(queues[2].id))
    center.set_workflow(wf)
    return center, queues, agents, wf.id


def _nth(items, i):
    items = sorted(items)
    return items[i % len(items)] if items else None


def _run(center, queues, agents, wf_id, command, now):
    kind = command[0]
    live = center.interactions
    if kind == "create":
        _, channel, where, priority, customer = command
        queue = queues[where] if where < 3 else None
        arrive(center, queue, now, channel, workflow_id=None if queue else wf_id, priority=priority,
               customer_id=f"cust-{customer}")
    elif kind in ("accept", "reject"):
        agent = _nth([a for a in agents if offer_of(center, a)], command[1])
        if agent:
            do = center.accept_offer if kind == "accept" else center.reject_offer
            do(offer_of(center, agent), agent, at(now))
    elif kind in ("hold", "resume", "end", "complete", "transfer"):
        states = {"hold": (S.ACCEPTED,), "resume": (S.HELD,), "end": (S.ACCEPTED, S.HELD),
                  "complete": (S.ACCEPTED, S.HELD, S.WRAP_UP), "transfer": (S.ACCEPTED, S.HELD)}[kind]
        iid = _nth([i.id for i in live.values() if i.state in states], command[1])
        if iid is None:
            return
        agent = live[iid].agent_id
        if kind == "transfer":
            target = command[2]
            if target < 3:
                center.transfer(iid, agent, TransferKind.QUEUE, queues[target].id, at(now))
            elif target < 6 and agents[target - 3] != agent:
                center.transfer(iid, agent, TransferKind.AGENT, agents[target - 3], at(now))
            elif target == 6:
                center.transfer(iid, agent, TransferKind.EXTERNAL, "+18005550100", at(now))
        else:
            getattr(center, kind)(iid, agent, at(now))
    elif kind == "abandon":
        iid = _nth([i.id for i in live.values() if i.state.waiting], command[1])
        if iid:
            center.abandon(iid, at(now))
    elif kind == "presence":
        agent, presence = agents[command[1]], command[2]
        reason = "break" if presence is Presence.PAUSED else None
        if presence is Presence.OFFLINE and center.agent(agent).contacts:
            with pytest.raises(InvalidTransition):
                center.set_presence(agent, presence, reason, at(now))
        else:
            center.set_presence(agent, presence, reason, at(now))
    else:
        center.tick(at(now))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies=st.lists(st.sampled_from(list(Strategy)), min_size=3, max_size=3),
       steps=st.lists(st.tuples(COMMANDS, st.integers(0, 12)), min_size=10, max_size=60))
def test_random_commands_never_break_routing_invariants(strategies, steps):
    center, queues, agents, wf_id = _build(strategies)
    now = 0
    check_invariants(center)
    for command, dt in steps:
        now += dt
        try:
            _run(center, queues, agents, wf_id, command, now)
        except DomainError as err:  # every command issued is valid in the current state
            raise AssertionError(f"{command} at {now}: {err.message}") from err
        center.changes()
        check_invariants(center)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies=st.lists(st.sampled_from(list(Strategy)), min_size=3, max_size=3),
       steps=st.lists(st.tuples(COMMANDS, st.integers(0, 12)), min_size=10, max_size=60))
def test_restart_after_random_commands_brings_back_every_live_contact_once(strategies, steps):
    center, queues, agents, wf_id = _build(strategies)
    store = ChangeLog()
    store.save(center.changes())
    now = 0
    for command, dt in steps:
        now += dt
        _run(center, queues, agents, wf_id, command, now)
        store.save(center.changes())
    new = restart(store, queues, now, [center.workflows[wf_id].workflow])
    check_invariants(new)
    assert set(new.interactions) == set(center.interactions)
    for iid, interaction in center.interactions.items():
        restored = new.interactions[iid]
        assert (restored.enqueued_at, restored.seq, restored.queue_id) == \
            (interaction.enqueued_at, interaction.seq, interaction.queue_id)
        if interaction.state.with_agent:
            assert (restored.state, restored.agent_id) == (interaction.state, interaction.agent_id)
    for queue in queues:  # "answered" is left out: see the transfer test above
        old_snap, new_snap = center.queue_snapshot(queue.id, at(now)), new.queue_snapshot(queue.id, at(now))
        assert [old_snap[k] for k in ("offered", "abandoned", "short_abandoned")] == \
            [new_snap[k] for k in ("offered", "abandoned", "short_abandoned")]


def test_a_chat_queue_counts_agents_ready_for_chat_not_for_calls():
    center = make_center()
    queue = add_queue(center)
    ann = add_agent(center, "ann", available_at=0)
    first = arrive(center, queue, 1, Channel.CHAT)
    accept(center, ann, 2)  # one chat of three in hand: not free for a call, free for chats
    snapshot = center.queue_snapshot(queue.id, at(3))
    assert snapshot["ready_agents"] == 1
    assert snapshot["ewt_seconds"] == 0.0
    center.end(first.id, ann, at(4))
    center.complete(first.id, ann, at(5))
    arrive(center, queue, 6, Channel.VOICE)  # now the queue's latest contact is a call
    accept(center, ann, 7)
    assert center.queue_snapshot(queue.id, at(8))["ready_agents"] == 0


def test_a_program_with_dispositions_needs_one_of_them_to_complete_a_contact():
    center = make_center()
    queue = add_queue(center)
    center.set_program(Program(queue.program_id, center.operator.id, queue.tenant_id, "Sales",
                               dispositions=(Disposition("sale", "Sale"), Disposition("no-sale", "No sale"))))
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    center.end(call.id, ann, at(30))
    center.changes()
    with pytest.raises(InvalidInput) as missing:
        center.complete(call.id, ann, at(35))
    assert missing.value.details["field"] == "disposition"
    assert missing.value.details["allowed"] == ["sale", "no-sale"]
    with pytest.raises(InvalidInput):
        center.complete(call.id, ann, at(36), disposition="resolved")
    # a refused completion changed nothing
    assert center.interaction(call.id).state is S.WRAP_UP and not center.changes()
    center.complete(call.id, ann, at(40), disposition="sale")
    assert call.state is S.COMPLETED and call.disposition == "sale"


def test_wrap_up_running_out_completes_without_a_disposition_even_where_one_is_required():
    center = make_center()
    queue = add_queue(center, wrap_up_seconds=10)
    center.set_program(Program(queue.program_id, center.operator.id, queue.tenant_id, "Sales",
                               dispositions=(Disposition("sale", "Sale"),)))
    ann = add_agent(center, "ann", available_at=0)
    call = arrive(center, queue, 1)
    accept(center, ann, 2)
    center.end(call.id, ann, at(5))
    center.tick(at(16))
    assert call.state is S.COMPLETED and call.disposition is None


@pytest.mark.parametrize(("dispositions", "field"), [
    ((("Not A Slug", "x"),), "dispositions[0].code"),
    ((("sale", "Sale"), ("sale", "Again")), "dispositions[1].code"),
    ((("sale", " "),), "dispositions[0].label"),
])
def test_program_dispositions_are_checked_when_saved(dispositions, field):
    with pytest.raises(InvalidInput) as err:
        check_dispositions(tuple(Disposition(c, label) for c, label in dispositions))
    assert err.value.details["field"] == field
