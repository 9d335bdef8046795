"""The routing engine on its own: who gets a contact, which contact a free agent gets."""
from __future__ import annotations

from hearthline.domain.agents import Medium
from hearthline.domain.queues import Strategy
from hearthline.domain.routing import RoutingEngine
from tests.factories import make_entry, make_queue, make_routing_agent, ts


def engine_with(*queues):
    engine = RoutingEngine()
    for queue in queues:
        engine.set_queue(queue)
    return engine


def add_agents(engine, *agents):
    for agent in agents:
        engine.set_agent(agent)
    return agents


def picked(engine, entry):
    return [a.agent_id for a in engine.agents_for(entry)]


# ---- strategies: a contact arrives, which agent? ---------------------------------------------

def test_longest_idle_agent_gets_next_call():
    queue = make_queue()
    engine = engine_with(queue)
    recent, longest, middle = add_agents(engine, make_routing_agent(idle_since=50),
                                         make_routing_agent(idle_since=10), make_routing_agent(idle_since=30))
    assert picked(engine, make_entry(queue)) == [longest.agent_id]


def test_most_skilled_agent_gets_call_before_longer_idle_one():
    queue = make_queue(strategy=Strategy.MOST_SKILLED, skills={"billing": 2, "french": 1})
    engine = engine_with(queue)
    idle_but_weak = make_routing_agent(skills={"billing": 2, "french": 5}, idle_since=0)
    expert = make_routing_agent(skills={"billing": 5, "french": 1}, idle_since=90)
    add_agents(engine, idle_but_weak, expert)
    # the queue's first required skill decides, not the sum of skills
    assert picked(engine, make_entry(queue)) == [expert.agent_id]


def test_most_skilled_ties_on_proficiency_go_to_longest_idle():
    queue = make_queue(strategy=Strategy.MOST_SKILLED, skills={"billing": 1})
    engine = engine_with(queue)
    newer = make_routing_agent(skills={"billing": 4}, idle_since=40)
    older = make_routing_agent(skills={"billing": 4}, idle_since=20)
    weak = make_routing_agent(skills={"billing": 1}, idle_since=0)
    add_agents(engine, newer, older, weak)
    assert picked(engine, make_entry(queue)) == [older.agent_id]


def test_round_robin_picks_agent_offered_from_this_queue_longest_ago():
    queue = make_queue(strategy=Strategy.ROUND_ROBIN)
    other = make_queue(strategy=Strategy.ROUND_ROBIN)
    engine = engine_with(queue, other)
    # longest idle would pick `a`; round robin ignores idle time until offers tie
    a = make_routing_agent(idle_since=0, last_offered={queue.id: 3.0})
    b = make_routing_agent(idle_since=50, last_offered={queue.id: 1.0, other.id: 9.0})
    c = make_routing_agent(idle_since=20, last_offered={queue.id: 2.0})
    add_agents(engine, a, b, c)
    assert picked(engine, make_entry(queue)) == [b.agent_id]
    assert picked(engine, make_entry(other)) == [a.agent_id]  # never offered from `other`, longest idle


def test_fewest_contacts_today_wins_over_idle_time():
    queue = make_queue(strategy=Strategy.FEWEST_CONTACTS)
    engine = engine_with(queue)
    busy_day = make_routing_agent(idle_since=0, contacts_today=7)
    quiet_day = make_routing_agent(idle_since=60, contacts_today=2)
    also_quiet = make_routing_agent(idle_since=30, contacts_today=2)
    add_agents(engine, busy_day, quiet_day, also_quiet)
    assert picked(engine, make_entry(queue)) == [also_quiet.agent_id]


def test_performance_strategy_picks_highest_score():
    queue = make_queue(strategy=Strategy.PERFORMANCE)
    engine = engine_with(queue)
    low = make_routing_agent(idle_since=0, score=0.4)
    high = make_routing_agent(idle_since=80, score=0.95)
    add_agents(engine, low, high)
    assert picked(engine, make_entry(queue)) == [high.agent_id]


def test_ring_all_returns_every_ready_member():
    queue = make_queue(strategy=Strategy.RING_ALL, skills={"sales": 1})
    engine = engine_with(queue)
    a = make_routing_agent(skills={"sales": 1}, idle_since=10)
    b = make_routing_agent(skills={"sales": 3}, idle_since=0)
    not_member = make_routing_agent(skills={"billing": 5}, idle_since=0)
    not_ready = make_routing_agent(skills={"sales": 5}, accepting=False)
    add_agents(engine, a, b, not_member, not_ready)
    assert picked(engine, make_entry(queue)) == [b.agent_id, a.agent_id]


def test_agent_key_fields_take_effect_after_refresh():
    queue = make_queue(strategy=Strategy.PERFORMANCE)
    engine = engine_with(queue)
    a, b = add_agents(engine, make_routing_agent(score=1.0), make_routing_agent(score=2.0))
    assert picked(engine, make_entry(queue)) == [b.agent_id]
    a.score = 3.0
    engine.refresh(a)
    assert picked(engine, make_entry(queue)) == [a.agent_id]


# ---- membership and capacity ----------------------------------------------------------------

def test_membership_needs_every_required_skill_level_and_the_language():
    queue = make_queue(skills={"billing": 3, "tech": 1}, language="es")
    engine = engine_with(queue)
    ok = make_routing_agent(skills={"billing": 3, "tech": 2}, languages=frozenset({"es", "en"}))
    too_weak = make_routing_agent(skills={"billing": 2, "tech": 2}, languages=frozenset({"es"}))
    no_spanish = make_routing_agent(skills={"billing": 5, "tech": 5}, languages=frozenset({"en"}))
    missing_skill = make_routing_agent(skills={"billing": 5}, languages=frozenset({"es"}))
    add_agents(engine, ok, too_weak, no_spanish, missing_skill)
    assert [a.agent_id for a in engine.members_of(queue.id)] == [ok.agent_id]
    assert engine.queues_of(no_spanish.agent_id) == ()


def test_agent_on_a_chat_is_not_picked_for_a_call_but_is_for_another_chat():
    queue = make_queue()
    engine = engine_with(queue)
    chatting = make_routing_agent(idle_since=0, load={Medium.CHAT: 1})
    add_agents(engine, chatting)
    assert picked(engine, make_entry(queue, medium=Medium.VOICE)) == []
    assert picked(engine, make_entry(queue, medium=Medium.CHAT)) == [chatting.agent_id]
    assert engine.ready_count(queue.id, Medium.VOICE) == 0
    assert engine.ready_count(queue.id, Medium.CHAT) == 1


def test_idle_agent_gets_chat_before_one_already_chatting():
    queue = make_queue()
    engine = engine_with(queue)
    chatting = make_routing_agent(idle_since=0, load={Medium.CHAT: 1})
    idle = make_routing_agent(idle_since=100)
    add_agents(engine, chatting, idle)
    assert picked(engine, make_entry(queue, medium=Medium.CHAT)) == [idle.agent_id]


def test_agent_at_chat_capacity_or_on_a_call_is_not_ready():
    queue = make_queue()
    engine = engine_with(queue)
    full = make_routing_agent(load={Medium.CHAT: 3})
    on_call = make_routing_agent(load={Medium.VOICE: 1})
    add_agents(engine, full, on_call)
    for medium in Medium:
        if medium is not Medium.EMAIL:
            assert picked(engine, make_entry(queue, medium=medium)) == []
    # a full chat load still leaves room for email; a call leaves room for nothing
    assert picked(engine, make_entry(queue, medium=Medium.EMAIL)) == [full.agent_id]
    assert engine.work_for(on_call.agent_id, ts(0)) is None


# ---- an agent frees up: which contact? -----------------------------------------------------

def test_free_agent_gets_highest_priority_contact_across_her_queues():
    low, high = make_queue(priority=0), make_queue(priority=2)
    engine = engine_with(low, high)
    agent, = add_agents(engine, make_routing_agent())
    old_low = make_entry(low, enqueued=0, priority=1)
    new_high = make_entry(high, enqueued=50, priority=0)
    engine.add(old_low)
    engine.add(new_high)
    assert engine.work_for(agent.agent_id, ts(60)) is new_high


def test_priority_ties_across_queues_go_to_the_longest_waiting():
    q1, q2 = make_queue(), make_queue()
    engine = engine_with(q1, q2)
    agent, = add_agents(engine, make_routing_agent())
    newer = make_entry(q1, enqueued=20)
    older = make_entry(q2, enqueued=10)
    engine.add(newer)
    engine.add(older)
    assert engine.work_for(agent.agent_id, ts(30)) is older


def test_same_enqueue_time_goes_by_arrival_order():
    queue = make_queue()
    engine = engine_with(queue)
    agent, = add_agents(engine, make_routing_agent())
    first = make_entry(queue, enqueued=5)
    second = make_entry(queue, enqueued=5)
    engine.add(second)
    engine.add(first)
    assert engine.work_for(agent.agent_id, ts(6)) is first
    assert [e.interaction_id for e in engine.waiting_in(queue.id)] == [first.interaction_id, second.interaction_id]


def test_ageing_lets_old_low_priority_contact_overtake_at_the_exact_crossover():
    # Ageing queue: 1 point a minute. Fixed queue: 5 points, no ageing. The ageing contact waits
    # since 0 s; it ties at 300 s (5 minutes), and ties go to the longest waiting.
    ageing = make_queue(ageing_per_minute=1.0)
    fixed = make_queue(priority=5)
    engine = engine_with(ageing, fixed)
    agent, = add_agents(engine, make_routing_agent())
    old_low = make_entry(ageing, enqueued=0)
    new_high = make_entry(fixed, enqueued=100)
    engine.add(old_low)
    engine.add(new_high)
    assert engine.effective_priority(old_low, ts(299)) < 5
    assert engine.work_for(agent.agent_id, ts(299)) is new_high
    assert engine.effective_priority(old_low, ts(300)) == 5
    assert engine.work_for(agent.agent_id, ts(300)) is old_low
    assert engine.work_for(agent.agent_id, ts(301)) is old_low


def test_within_one_queue_ageing_order_depends_only_on_the_head_start():
    # Same rate for both: the older contact leads by its head start in minutes, forever.
    queue = make_queue(ageing_per_minute=1.0)
    engine = engine_with(queue)
    agent, = add_agents(engine, make_routing_agent())
    six_minutes_older = make_entry(queue, enqueued=0, priority=0)
    higher = make_entry(queue, enqueued=360, priority=5)
    four_minutes_older = make_entry(queue, enqueued=120, priority=0)
    for entry in (higher, four_minutes_older, six_minutes_older):
        engine.add(entry)
    assert [e.interaction_id for e in engine.waiting_in(queue.id)] == [
        six_minutes_older.interaction_id, higher.interaction_id, four_minutes_older.interaction_id]
    assert engine.work_for(agent.agent_id, ts(361)) is six_minutes_older
    assert engine.work_for(agent.agent_id, ts(100_000)) is six_minutes_older


def test_changing_a_queues_ageing_reorders_its_waiting_contacts():
    queue = make_queue()
    engine = engine_with(queue)
    old = make_entry(queue, enqueued=0, priority=0)
    high = make_entry(queue, enqueued=300, priority=2)
    engine.add(old)
    engine.add(high)
    assert [e.interaction_id for e in engine.waiting_in(queue.id)] == [high.interaction_id, old.interaction_id]
    queue.ageing_per_minute = 1.0
    engine.set_queue(queue)
    assert [e.interaction_id for e in engine.waiting_in(queue.id)] == [old.interaction_id, high.interaction_id]


def test_agent_gets_nothing_from_queues_she_is_not_in():
    mine, theirs = make_queue(skills={"billing": 1}), make_queue(skills={"tech": 1})
    engine = engine_with(mine, theirs)
    agent, = add_agents(engine, make_routing_agent(skills={"billing": 2}))
    engine.add(make_entry(theirs, priority=100))
    assert engine.work_for(agent.agent_id, ts(1)) is None
    entry = make_entry(mine)
    engine.add(entry)
    assert engine.work_for(agent.agent_id, ts(1)) is entry


def test_agent_not_accepting_gets_no_work():
    queue = make_queue()
    engine = engine_with(queue)
    agent, = add_agents(engine, make_routing_agent(accepting=False))
    engine.add(make_entry(queue))
    assert engine.work_for(agent.agent_id, ts(1)) is None


def test_rejecting_agent_is_skipped_for_that_contact_only():
    queue = make_queue()
    engine = engine_with(queue)
    rejecter, other = add_agents(engine, make_routing_agent(idle_since=0), make_routing_agent(idle_since=10))
    rejected = make_entry(queue, enqueued=0, excluded=frozenset({rejecter.agent_id}))
    later = make_entry(queue, enqueued=5)
    engine.add(rejected)
    engine.add(later)
    assert picked(engine, rejected) == [other.agent_id]
    assert engine.work_for(rejecter.agent_id, ts(10)) is later
    assert engine.work_for(other.agent_id, ts(10)) is rejected


def test_agent_filter_restricts_who_may_take_a_contact():
    queue = make_queue()
    engine = engine_with(queue)
    senior = make_routing_agent(idle_since=50, env={"skills": {"billing": 4}})
    junior = make_routing_agent(idle_since=0, env={"skills": {"billing": 1}})
    add_agents(engine, senior, junior)
    entry = make_entry(queue, agent_filter=lambda env: env["agent"]["skills"]["billing"] >= 3)
    engine.add(entry)
    assert picked(engine, entry) == [senior.agent_id]
    assert engine.work_for(junior.agent_id, ts(1)) is None
    assert engine.work_for(senior.agent_id, ts(1)) is entry


def test_contact_reserved_for_one_agent_goes_to_her_alone():
    queue = make_queue()
    engine = engine_with(queue)
    other, reserved_for = add_agents(engine, make_routing_agent(idle_since=0), make_routing_agent(idle_since=60))
    entry = make_entry(queue, only_agent=reserved_for.agent_id)
    engine.add(entry)
    assert picked(engine, entry) == [reserved_for.agent_id]
    assert engine.work_for(other.agent_id, ts(1)) is None
    assert engine.work_for(reserved_for.agent_id, ts(1)) is entry


def test_reserved_contacts_from_different_queues_go_by_effective_priority():
    plain = make_queue()  # no ageing
    ageing = make_queue(ageing_per_minute=0.5)
    engine = engine_with(plain, ageing)
    agent, = add_agents(engine, make_routing_agent())
    low = make_entry(plain, enqueued=0, priority=0, only_agent=agent.agent_id)
    high = make_entry(ageing, enqueued=0, priority=5, only_agent=agent.agent_id)
    engine.add(low)
    engine.add(high)
    assert engine.work_for(agent.agent_id, ts(10)) is high


# ---- bookkeeping --------------------------------------------------------------------------

def test_adding_the_same_contact_twice_keeps_one_entry():
    queue = make_queue()
    engine = engine_with(queue)
    entry = make_entry(queue, enqueued=0)
    engine.add(entry)
    engine.add(entry)
    assert len(engine) == 1
    assert engine.waiting_count(queue.id) == 1
    assert engine.remove(entry.interaction_id) is entry
    assert len(engine) == 0
    assert engine.remove(entry.interaction_id) is None


def test_position_counts_contacts_ahead_in_the_same_queue_and_medium():
    queue = make_queue()
    engine = engine_with(queue)
    entries = [make_entry(queue, enqueued=t) for t in (0, 10, 20)]
    chat = make_entry(queue, enqueued=5, medium=Medium.CHAT)
    for e in (*entries, chat):
        engine.add(e)
    assert [engine.position(e) for e in entries] == [1, 2, 3]
    assert engine.position(chat) == 1
    assert engine.waiting_count(queue.id, Medium.VOICE) == 3
    assert engine.waiting_count(queue.id) == 4


def test_removing_a_queue_returns_its_waiting_contacts():
    queue, other = make_queue(), make_queue()
    engine = engine_with(queue, other)
    entry = make_entry(queue)
    engine.add(entry)
    engine.add(make_entry(other))
    assert engine.remove_queue(queue.id) == [entry]
    assert len(engine) == 1


def test_removing_a_queue_with_a_ready_member_keeps_her_in_her_other_queues():
    queue, other = make_queue(), make_queue()
    engine = engine_with(queue, other)
    agent, = add_agents(engine, make_routing_agent())
    engine.remove_queue(queue.id)
    assert engine.queues_of(agent.agent_id) == (other.id,)
    assert picked(engine, make_entry(other)) == [agent.agent_id]
