"""Types shared by the request and response bodies."""
from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_JSON_BYTES = 16_384  # attributes of an agent or an interaction, serialised
MAX_JSON_DEPTH = 8
_NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL in text


def Text(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - reads like a type
    """A string of at most `max_length` characters, without NUL."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=_NO_NUL)]


Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Language = Annotated[str, StringConstraints(min_length=2, max_length=35,
                                            pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
Expression = Annotated[str, StringConstraints(max_length=4000, pattern=_NO_NUL)]


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise ValueError(f"must be nested at most {MAX_JSON_DEPTH} levels deep")
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        size = len(text.encode("utf-8"))
    except (ValueError, UnicodeEncodeError) as err:
        raise ValueError("must be plain JSON (finite numbers, valid Unicode)") from err
    if "\\u0000" in text:
        raise ValueError("must not contain NUL characters")
    if size > MAX_JSON_BYTES:
        raise ValueError(f"must be at most {MAX_JSON_BYTES} bytes as JSON")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_json),
                       Field(description=f"a JSON object of at most {MAX_JSON_BYTES} bytes")]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def _time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("unknown IANA time zone (e.g. America/Chicago)")
    return value


TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_time_zone)]


class In(BaseModel):
    """Base of request bodies: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    """Base of response bodies. A field the services add later is left out of the answer (until
    it is declared here and so documented), never a reason to fail the request."""

    model_config = ConfigDict(extra="ignore")
