"""Logging in."""
from __future__ import annotations

from typing import Literal

from .common import In, Out, Text
from .organization import UserOut


class LoginIn(In):
    username: Text(100, min_length=1)
    password: Text(200, min_length=1)
    name: Text(100) = ""  # a label for the token, e.g. "wallboard screen"


class TokenOut(Out):
    access_token: str
    token_type: Literal["bearer"]
    user: UserOut
