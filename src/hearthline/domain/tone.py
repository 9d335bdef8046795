"""Tone: how the customer feels, message by message, and when a supervisor should step in.

Each customer message gets a score from −1 (angry) to +1 (pleased) from a scorer (a port: the
adapter in adapters/tone.py uses VADER's lexicon). A single sharp message is not yet a problem;
a conversation that *sours* is. `ToneWatch` decides that from the customer's scores so far:

* angry:   the latest message scores at or below `angry_at` (default −0.6);
* souring: the mean of the last `window` (3) scores is at or below `souring_at` (−0.3) and lower
           than the mean of the scores before them by at least `drop` (0.3) — or, for a
           conversation that began badly, the last `window` scores are all negative.

Once an interaction has raised an alert, it raises no other until its tone recovers (the mean of
the last `window` scores above 0), so a supervisor is told once, not at every message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence


class ToneScorer(Protocol):
    def score(self, text: str) -> float:
        """−1 … +1."""
        ...


@dataclass(frozen=True, slots=True)
class ToneVerdict:
    kind: str  # "angry" or "souring"
    score: float  # the latest message's score
    trend: float  # mean of the last window
    message: str  # for the supervisor


@dataclass(frozen=True, slots=True)
class ToneWatch:
    angry_at: float = -0.6
    souring_at: float = -0.3
    drop: float = 0.3
    window: int = 3

    def recovered(self, scores: Sequence[float]) -> bool:
        recent = scores[-self.window:]
        return bool(recent) and sum(recent) / len(recent) > 0

    def verdict(self, scores: Sequence[float], *, already_alerted: bool) -> ToneVerdict | None:
        """Whether the customer's scores so far (oldest first) call for a supervisor."""
        if not scores or already_alerted:
            return None
        latest = scores[-1]
        recent = scores[-self.window:]
        trend = sum(recent) / len(recent)
        if latest <= self.angry_at:
            return ToneVerdict("angry", latest, trend, f"the customer sounds angry (tone {latest:+.2f})")
        if len(scores) < self.window:
            return None
        earlier = scores[:-self.window]
        if earlier:
            before = sum(earlier) / len(earlier)
            if trend <= self.souring_at and before - trend >= self.drop:
                return ToneVerdict("souring", latest, trend,
                                   f"the conversation is souring (tone {before:+.2f} → {trend:+.2f})")
        elif all(s < 0 for s in recent) and trend <= self.souring_at:
            return ToneVerdict("souring", latest, trend, f"the customer has been unhappy throughout ({trend:+.2f})")
        return None


def label(score: float | None) -> str:
    """A word for the desk and the console: angry, upset, neutral, pleased."""
    if score is None:
        return "neutral"
    if score <= -0.6:
        return "angry"
    if score <= -0.2:
        return "upset"
    if score >= 0.3:
        return "pleased"
    return "neutral"
