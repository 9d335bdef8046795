"""The tone scorer: VADER (a lexicon and rules for English social-media text, MIT licence).

VADER's compound score is already −1 … +1. It is quick (no model), which matters: every customer
message of every chat and e-mail is scored on the way in.
"""
from __future__ import annotations

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

MAX_SCORED_CHARS = 5_000  # a long e-mail is judged by its opening, as a reader would


class VaderTone:
    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return round(float(self._analyzer.polarity_scores(text[:MAX_SCORED_CHARS])["compound"]), 3)
