"""Tone: when a conversation calls for a supervisor, and how message text is cleaned."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearthline.adapters.tone import VaderTone
from hearthline.domain.conversations import clean_text
from hearthline.domain.errors import InvalidInput
from hearthline.domain.tone import ToneWatch, label

WATCH = ToneWatch()


def test_one_angry_message_is_enough() -> None:
    verdict = WATCH.verdict([0.4, -0.7], already_alerted=False)
    assert verdict is not None and verdict.kind == "angry" and verdict.score == -0.7


def test_a_conversation_that_sours_is_told_apart_from_one_that_is_merely_flat() -> None:
    assert WATCH.verdict([0.5, 0.6, 0.4, -0.3, -0.4, -0.5], already_alerted=False).kind == "souring"
    assert WATCH.verdict([0.0, 0.0, 0.0, -0.1, 0.0, -0.1], already_alerted=False) is None
    assert WATCH.verdict([-0.35, -0.4, -0.3], already_alerted=False).kind == "souring"  # unhappy from the start
    assert WATCH.verdict([-0.35, -0.4], already_alerted=False) is None  # too early to tell


def test_once_alerted_it_stays_quiet_and_recovery_is_seen() -> None:
    assert WATCH.verdict([-0.9], already_alerted=True) is None
    assert WATCH.recovered([-0.8, 0.3, 0.4, 0.2]) and not WATCH.recovered([-0.8, -0.2, 0.1, 0.0])


def test_labels_for_the_desk() -> None:
    assert [label(s) for s in (None, -0.8, -0.3, 0.0, 0.5)] == ["neutral", "angry", "upset", "neutral", "pleased"]


def test_the_scorer_hears_anger_and_thanks() -> None:
    tone = VaderTone()
    assert tone.score("This is the third time I call. I am furious, this is terrible service!") <= -0.6
    assert tone.score("Thank you so much, that was really helpful!") >= 0.5
    assert -1.0 <= tone.score("x" * 100_000) <= 1.0


@given(st.text(max_size=300))
def test_clean_text_returns_printable_trimmed_text_or_refuses(text: str) -> None:
    try:
        out = clean_text(text, "body", 200)
    except InvalidInput as err:
        assert err.details["field"] == "body"
        return
    assert out == out.strip() and 0 < len(out) <= 200
    assert all(ch in "\n\t" or ch.isprintable() or not ch.isascii() for ch in out)
    assert "\r" not in out and "\x00" not in out


def test_clean_text_keeps_what_a_person_wrote() -> None:
    assert clean_text("  Hi <script>alert(1)</script>\r\nthanks  ", "body", 100) == "Hi <script>alert(1)</script>\nthanks"
    with pytest.raises(InvalidInput):
        clean_text("\x00\x01", "body", 100)
