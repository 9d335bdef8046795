"""Request and response bodies of the HTTP API (Pydantic v2), one module per feature.

Request models are strict (`false` is not an integer, `"1"` is not a number) and refuse unknown
fields; every string and list is bounded, so a request cannot smuggle megabytes into a field.
Responses are built from domain objects with each model's `of()`.
"""
from .common import In, JsonObject, Name, Ref, Slug, Text

__all__ = ["In", "JsonObject", "Name", "Ref", "Slug", "Text"]
