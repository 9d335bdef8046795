"""Path and query parameters shared by the routes."""
from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

# Ids are 32 hex characters when we make them; anything else cannot name an object.
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
SlugPath = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
IdQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
