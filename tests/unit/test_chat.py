"""The pure parts of the customer's web chat (hearthline.services.chat): the pre-chat form, what
the customer is shown, her state, the limiter, and which bus events reach her socket."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearthline.domain.errors import InvalidInput, RateLimited
from hearthline.domain.events import Event, EventName
from hearthline.domain.interactions import InteractionState as S
from hearthline.services.chat import (
    ChatFeed, ChatSession, ChatState, CustomerChats, SlidingWindow, chat_state, check_prechat, customer_message,
    first_name, new_token,
)

NOON = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


# ---- the pre-chat form ----------------------------------------------------------------------------
def test_a_good_form_is_cleaned_and_kept() -> None:
    form = check_prechat("  Dana\u0007 Smith ", " dana@example.org ", "My bill\r\nis wrong\x00")
    assert (form.name, form.email, form.question) == ("Dana Smith", "dana@example.org", "My bill\nis wrong")


@pytest.mark.parametrize(("name", "email", "question", "field"), [
    ("", "d@x.org", "hi", "name"),
    ("   ", "d@x.org", "hi", "name"),
    ("N" * 101, "d@x.org", "hi", "name"),
    (None, "d@x.org", "hi", "name"),
    ("Dana", "", "hi", "email"),
    ("Dana", "dana", "hi", "email"),
    ("Dana", "dana@localhost", "hi", "email"),
    ("Dana", "da na@x.org", "hi", "email"),
    ("Dana", "a@b@x.org", "hi", "email"),
    ("Dana", "d@" + "x" * 250 + ".org", "hi", "email"),
    ("Dana", "d@x.org", "", "question"),
    ("Dana", "d@x.org", "\x00\x1b", "question"),
    ("Dana", "d@x.org", "q" * 4001, "question"),
    ("Dana", "d@x.org", 42, "question"),
])
def test_a_bad_form_names_the_first_bad_field(name: Any, email: Any, question: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_prechat(name, email, question)
    assert err.value.details["field"] == field


def test_a_question_of_exactly_the_limit_is_taken() -> None:
    assert len(check_prechat("Dana", "d@x.org", "q" * 4000).question) == 4000


# ---- what the customer sees -----------------------------------------------------------------------
@pytest.mark.parametrize(("full", "first"), [
    ("Ann Lee-Smith", "Ann"), ("  Maria  Gonzalez ", "Maria"), ("Cher", "Cher"),
    ("", None), ("   ", None), (None, None),
])
def test_the_customer_learns_only_her_agents_first_name(full: str | None, first: str | None) -> None:
    assert first_name(full) == first


@pytest.mark.parametrize(("state", "left", "expected"), [
    (S.CREATED, False, (ChatState.WAITING, None)),
    (S.QUEUED, False, (ChatState.WAITING, None)),
    (S.OFFERED, False, (ChatState.WAITING, None)),
    (S.ACCEPTED, False, (ChatState.ACTIVE, None)),
    (S.HELD, False, (ChatState.ACTIVE, None)),
    (S.WRAP_UP, False, (ChatState.ENDED, "agent")),
    (S.COMPLETED, False, (ChatState.ENDED, "agent")),
    (S.ABANDONED, False, (ChatState.ENDED, "agent")),
    (S.ACCEPTED, True, (ChatState.ENDED, "customer")),
    (S.ABANDONED, True, (ChatState.ENDED, "customer")),
])
def test_the_customers_state_follows_the_interaction(state: S, left: bool, expected: tuple[Any, Any]) -> None:
    assert chat_state(state, left) == expected


def test_a_message_shows_the_customer_no_internals() -> None:
    stored = {"id": "m1", "interaction_id": "i1", "seq": 4, "sender": "agent", "agent_id": "a1", "body": "<b>hi</b>",
              "sentiment": 0.4, "client_ref": "desk-9", "created_at": NOON.isoformat(), "attachments": [],
              "email": {"subject": "x"}}
    assert customer_message(stored, {"a1": "Ann"}) == {
        "seq": 4, "sender": "agent", "body": "<b>hi</b>", "created_at": NOON.isoformat(), "agent_name": "Ann"}
    mine = customer_message({**stored, "sender": "customer", "agent_id": None, "client_ref": "c-1"}, {})
    assert mine == {"seq": 4, "sender": "customer", "body": "<b>hi</b>", "created_at": NOON.isoformat(),
                    "client_ref": "c-1"}
    assert "client_ref" not in customer_message({**stored, "sender": "system"}, {})
    left = customer_message({**stored, "sender": "system", "body": "The customer left the chat",
                             "client_ref": "hearthline:customer-left"}, {})
    assert left["body"] == "You left the chat."  # told to her in her own words


def test_tokens_are_long_random_and_url_safe() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


# ---- the limiter ----------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_says_when_to_retry() -> None:
    clock = Clock()
    window = SlidingWindow(3, 10.0, what="messages", clock=clock)
    for _ in range(3):
        window.hit("s1")
        clock.now += 1
    with pytest.raises(RateLimited) as limited:
        window.hit("s1")
    assert limited.value.details["retry_after_seconds"] == 8  # the first hit leaves the window in 7 s
    window.hit("s2")  # another key has its own window
    clock.now = 110.0  # the first hit is 10 s old: one place is free again
    window.hit("s1")
    with pytest.raises(RateLimited):
        window.hit("s1")


def test_a_refused_hit_does_not_count() -> None:
    clock = Clock()
    window = SlidingWindow(1, 10.0, what="chats", clock=clock)
    window.hit("k")
    for _ in range(5):
        with pytest.raises(RateLimited):
            window.hit("k")
    clock.now += 10
    window.hit("k")


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=60))
def test_never_more_than_the_limit_in_any_window(steps: list[float]) -> None:
    clock = Clock()
    window = SlidingWindow(4, 10.0, what="messages", clock=clock)
    accepted: list[float] = []
    for step in steps:
        clock.now += step
        try:
            window.hit("k")
            accepted.append(clock.now)
        except RateLimited:
            pass
    for i, at in enumerate(accepted):
        assert sum(1 for other in accepted[i:] if other - at < 10.0) <= 4


def test_idle_keys_are_forgotten_when_the_table_is_full() -> None:
    clock = Clock()
    window = SlidingWindow(2, 10.0, what="chats", clock=clock, max_keys=10)
    for n in range(10):
        window.hit(f"old-{n}")
    clock.now += 60
    window.hit("new")
    assert set(window._hits) == {"new"}


# ---- which events reach the customer's socket -----------------------------------------------------
SESSION = ChatSession("s1", "op", "t", "p", "i1", 0, 0, None, None, None, None, NOON)


def _event(name: EventName, interaction: str | None = "i1", operator: str = "op", queue: str | None = "q1",
           **data: Any) -> Event:
    return Event(name, NOON, operator, "t", interaction, "a1", queue, data)


def _filed(*events: Event, queue_id: str | None = "q1") -> list[tuple[str, Any]]:
    feed = ChatFeed(CustomerChats(None), SESSION)  # type: ignore[arg-type]  # the bus side needs no platform
    feed.queue_id = queue_id
    asyncio.run(feed.on_events(list(events)))
    items = []
    while not feed.items.empty():
        items.append(feed.items.get_nowait())
    return items


def test_her_conversation_reaches_her_socket_and_her_own_signals_do_not() -> None:
    message = {"seq": 2, "sender": "agent", "body": "hi"}
    assert _filed(
        _event(EventName.MESSAGE_ADDED, message=message),
        _event(EventName.TYPING, sender="agent", typing=True),
        _event(EventName.TYPING, sender="customer", typing=True),
        _event(EventName.MESSAGES_READ, reader="agent", seq=2),
        _event(EventName.MESSAGES_READ, reader="customer", seq=2),
        _event(EventName.ALERT_RAISED, alert={"message": "souring"}),
        _event(EventName.CHAT_RATED, rating=5),
    ) == [("message", message), ("typing", True), ("read", 2)]


def test_nothing_of_another_conversation_or_operator_reaches_her() -> None:
    assert _filed(
        _event(EventName.MESSAGE_ADDED, interaction="i2", message={"seq": 1}),
        _event(EventName.TYPING, interaction="i2", sender="agent", typing=True),
        _event(EventName.MESSAGE_ADDED, operator="other", message={"seq": 1}),
        _event(EventName.OFFER_ACCEPTED, operator="other"),
        _event(EventName.OFFER_ACCEPTED, interaction="i3", queue="q2"),
    ) == []


def test_her_contacts_moves_ask_for_a_status_at_once_and_the_queues_moves_once() -> None:
    assert _filed(_event(EventName.OFFER_ACCEPTED), _event(EventName.INTERACTION_TRANSFERRED)) == [
        ("status", True), ("status", True)]
    assert _filed(_event(EventName.OFFER_ACCEPTED, interaction="i2"), _event(EventName.INTERACTION_QUEUED,
                                                                              interaction="i3")) == [("status", False)]
    assert _filed(_event(EventName.OFFER_ACCEPTED, interaction="i2"), queue_id=None) == []  # she waits no more
    assert _filed(_event(EventName.MESSAGE_ADDED, message={"seq": 3, "sender": "system"})) == [
        ("message", {"seq": 3, "sender": "system"}), ("status", True)]


def test_a_full_buffer_drops_the_oldest_and_remembers_it() -> None:
    feed = ChatFeed(CustomerChats(None), SESSION, capacity=2)  # type: ignore[arg-type]
    asyncio.run(feed.on_events([_event(EventName.MESSAGE_ADDED, message={"seq": n}) for n in (1, 2, 3)]))
    assert feed.overflowed
    assert [feed.items.get_nowait()[1]["seq"] for _ in range(2)] == [2, 3]
