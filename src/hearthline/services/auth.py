"""Authentication: argon2 password hashes, random bearer tokens stored as SHA-256, login limits.

Tokens are 32 random bytes (url-safe base64). They are shown once, when issued; the store keeps
only their SHA-256, which is enough for a secret of that entropy and cheap to check per request
(argon2 is for the low-entropy passwords). Browser sessions are the same tokens of kind
"session", carried in a signed cookie.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select

from ..adapters.sql import mapping as m
from ..adapters.sql import tables as t
from ..domain.errors import AuthenticationFailed, RateLimited
from ..domain.ids import new_id
from ..domain.organization import Scope, User
from .platform import Platform

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing the same either way.
_DUMMY_HASH = _hasher.hash("not a real password")


TOKEN_CACHE_SECONDS = 10.0
TOKEN_CACHE_SIZE = 10_000


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginLimiter:
    """At most `per_minute` failed logins per username and per client address in a sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            window = self._failures[key]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                raise RateLimited("too many failed logins; wait a minute and try again",
                                  retry_after_seconds=int(60 - (now - window[0])) + 1)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures[key].append(now)

    def succeed(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def scope_of(user: User) -> Scope:
    tenants = frozenset({user.tenant_id}) if user.tenant_id else None
    return Scope(user.operator_id, tenants, user.id, user.role, user.agent_id)


class Auth:
    def __init__(self, platform: Platform, *, login_attempts_per_minute: int, session_max_age_seconds: int) -> None:
        self.platform = platform
        self.limiter = LoginLimiter(login_attempts_per_minute)
        self.session_max_age = timedelta(seconds=session_max_age_seconds)
        self._cache: dict[str, tuple[float, User, datetime | None]] = {}  # hash → (valid until, user, expiry)

    def _check_password(self, username: str, password: str) -> User:
        with self.platform.store.begin() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).mappings().first()
        if row is None:
            verify_password(_DUMMY_HASH, password)
            raise AuthenticationFailed("wrong username or password")
        user = m.user_from_row(row)
        if not user.active or not verify_password(user.password_hash, password):
            raise AuthenticationFailed("wrong username or password")
        return user

    async def login(self, username: str, password: str, client: str, *, kind: str = "api",
                    name: str = "") -> tuple[User, str]:
        """Check the password and issue a token (shown once). Raises AuthenticationFailed or
        RateLimited (too many failures for this username or this client address)."""
        keys = (f"user:{username.lower()}", f"client:{client}")
        self.limiter.check(*keys)
        try:
            user = await self.platform.run(self._check_password, username, password)
        except AuthenticationFailed:
            self.limiter.fail(*keys)
            raise
        self.limiter.succeed(keys[0])
        token = await self.platform.run(self._issue, user, kind, name)
        return user, token

    def _issue(self, user: User, kind: str, name: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.platform.clock.now()
        expires = now + self.session_max_age if kind == "session" else None
        with self.platform.store.begin() as conn:
            conn.execute(insert(t.api_tokens).values(
                id=new_id(), operator_id=user.operator_id, user_id=user.id, token_hash=token_hash(token),
                kind=kind, name=name, created_at=now, expires_at=expires))
        return token

    def _resolve(self, token: str) -> tuple[User, datetime | None]:
        with self.platform.store.begin() as conn:
            row = conn.execute(
                select(t.users, t.api_tokens.c.expires_at.label("token_expires_at"))
                .join(t.api_tokens, t.api_tokens.c.user_id == t.users.c.id)
                .where(t.api_tokens.c.token_hash == token_hash(token))
            ).mappings().first()
        if row is None:
            raise AuthenticationFailed("unknown or revoked token")
        expires: datetime | None = row["token_expires_at"]
        if expires is not None and expires <= self.platform.clock.now():
            raise AuthenticationFailed("the session has expired; log in again")
        user = m.user_from_row(row)
        if not user.active:
            raise AuthenticationFailed("the account is disabled")
        return user, expires

    async def authenticate(self, token: str) -> tuple[User, Scope]:
        """The user a token belongs to. Answers are cached for TOKEN_CACHE_SECONDS: a revocation
        in this process takes effect at once, a change made elsewhere (another node, a disabled
        account) within that time."""
        key = token_hash(token)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            user, expires = cached[1], cached[2]
            if expires is None or expires > self.platform.clock.now():
                return user, scope_of(user)
        user, expires = await self.platform.run(self._resolve, token)
        if len(self._cache) >= TOKEN_CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (now + TOKEN_CACHE_SECONDS, user, expires)
        return user, scope_of(user)

    def forget(self, user_id: str | None = None) -> None:
        """Drop cached tokens: all, or one user's (after her password or role changed)."""
        if user_id is None:
            self._cache.clear()
        else:
            for key in [k for k, v in self._cache.items() if v[1].id == user_id]:
                del self._cache[key]

    async def revoke(self, token: str) -> None:
        self._cache.pop(token_hash(token), None)

        def _revoke() -> None:
            with self.platform.store.begin() as conn:
                conn.execute(delete(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash(token)))

        await self.platform.run(_revoke)
