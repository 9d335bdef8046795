"""Web chat for customers: the embeddable widget, its public API and its WebSocket.

Embed it on the client's website with one tag per program:

    <script src="https://HEARTHLINE_HOST/widget.js" data-program="PROGRAM_ID" async></script>

Optional attributes: `data-title` (the panel's title, default "Chat with us") and `data-color`
(a CSS colour for the launcher and the customer's bubbles). The program needs a default workflow:
that is how its chats are routed.

The API takes no login: `POST /api/v1/chat/sessions` answers a session token, and every other call
carries it in `Authorization: Bearer <token>` or `X-Chat-Token: <token>` — never a cookie. The
WebSocket takes it as `?token=` (a browser cannot set headers on a WebSocket; the server's logs
redact it). CORS allows any origin on these paths only, without credentials: the widget runs on
the client's site, not ours.

    POST /api/v1/chat/sessions    start (pre-chat form) → token, state, position, estimated wait
    GET  /api/v1/chat/session     state, position, wait, agent's first name, transcript (?after_seq=)
    POST /api/v1/chat/messages    {body, client_ref}: a resend with the same client_ref is not doubled
    POST /api/v1/chat/typing      {typing}
    POST /api/v1/chat/read        {seq}: the customer has read up to this message
    POST /api/v1/chat/end         leave (abandons while waiting)
    POST /api/v1/chat/rating      {rating 1–5, comment} after the end
    POST /api/v1/chat/transcript  e-mail the transcript to the pre-chat address, once, after the end
    GET  /api/v1/chat/ws          WebSocket ?token=…&after_seq=N

The socket sends JSON objects: `{"type": "status", "state", "position", "estimated_wait_seconds",
"agent_name", "transferred", "ended_by", "agent_read_seq", …}` first, on every change and at
least every 5 s while waiting (25 s otherwise); `{"type": "message", "message": {seq, sender,
body, created_at, client_ref | agent_name}}` for every message after `after_seq`, in order, once;
`{"type": "typing", "typing": bool}` when the agent types; `{"type": "read", "seq": n}` when the
agent has read up to n. What the client sends is ignored. Close codes: 4401 no token, 4404
unknown token (start a new chat), 1001 server going away.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import Field
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketState

from ....domain.conversations import MAX_CHAT_CHARS
from ....domain.errors import AuthenticationFailed, DomainError, NotFound
from ....services.chat import (
    MAX_COMMENT_CHARS, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PAGE_URL_CHARS, ChatLimits, ChatSession, CustomerChats,
)
from ..deps import bearer_token
from ..ws import serve
from ..schemas.common import In, Out, Ref, Text
from .auth import client_address

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])

API_PREFIX = "/api/v1/chat/"
WIDGET_PATH = "/widget.js"
WIDGET_FILE = Path(__file__).resolve().parent.parent / "static" / "widget.js"
WIDGET_CACHE_CONTROL = "public, max-age=600"  # no versioned URL (the tag is pasted once): short, revalidated
CLOSE_NO_TOKEN = 4401
CLOSE_UNKNOWN_SESSION = 4404
ClientRef = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def install(app: FastAPI) -> None:
    """Add the customer chat to the app: the service (with its limiters), CORS for the chat
    paths, the routes. Called by create_app after its own middleware, so that CORS is outermost
    and even a 413 or a 500 answer can be read by the widget."""
    settings = app.state.components.settings
    app.state.customer_chats = CustomerChats(app.state.components.platform, ChatLimits(
        messages_per_window=settings.chat_messages_per_10_seconds,
        sessions_per_minute=settings.chat_sessions_per_minute))
    app.add_middleware(ChatCors)
    app.include_router(router)


class ChatCors:
    """CORS for the public chat paths and the widget only: any origin, no credentials, the two
    token headers. The staff API keeps the same-origin rule."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=["*"], allow_credentials=False,
                                   allow_methods=["GET", "POST"],
                                   allow_headers=["Authorization", "X-Chat-Token", "Content-Type"],
                                   expose_headers=["Retry-After"], max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path.startswith(API_PREFIX) or path == WIDGET_PATH):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# ---- dependencies -------------------------------------------------------------------------------
def customer_chats(connection: HTTPConnection) -> CustomerChats:
    return connection.app.state.customer_chats


ChatsDep = Annotated[CustomerChats, Depends(customer_chats)]

# These only describe the two ways to present the token in the OpenAPI document.
_bearer = HTTPBearer(auto_error=False, scheme_name="ChatToken",
                     description="the session token of POST /api/v1/chat/sessions")
_header = APIKeyHeader(name="X-Chat-Token", auto_error=False, scheme_name="ChatTokenHeader")


def presented_chat_token(connection: HTTPConnection) -> str | None:
    return bearer_token(connection.headers.get("authorization")) or connection.headers.get("x-chat-token") or None


async def chat_session(request: Request, chats: ChatsDep, _b: Annotated[object, Depends(_bearer)],
                       _h: Annotated[object, Depends(_header)]) -> ChatSession:
    """The caller's chat. 401 without a token; 404 for a token no chat has."""
    token = presented_chat_token(request)
    if token is None:
        raise AuthenticationFailed("send the chat's token: Authorization: Bearer <token> or X-Chat-Token")
    return await chats.open(token)


SessionDep = Annotated[ChatSession, Depends(chat_session)]


# ---- bodies -------------------------------------------------------------------------------------
class StartIn(In):
    program_id: Ref
    name: Text(MAX_NAME_CHARS, 1)
    email: Text(MAX_EMAIL_CHARS, 3)
    question: Text(MAX_CHAT_CHARS, 1)
    page_url: Text(MAX_PAGE_URL_CHARS) | None = Field(None, description="the page the chat was started on")
    client_ref: ClientRef | None = Field(None, description="the widget's id for the question (see messages)")


class ChatMessageIn(In):
    body: Text(MAX_CHAT_CHARS, 1) = Field(description="plain text, at most 4,000 characters")
    client_ref: ClientRef | None = Field(
        None, description="the widget's own id for this message: sending it again does not double it")


class TypingIn(In):
    typing: bool


class ReadIn(In):
    seq: int = Field(ge=0, le=10_000_000, description="every message up to this number has been read")


class RatingIn(In):
    rating: int = Field(ge=1, le=5)
    comment: Text(MAX_COMMENT_CHARS) | None = None


class ChatMessageOut(Out):
    seq: int
    sender: str = Field(description="customer, agent or system")
    body: str = Field(description="plain text: show it as text, never as HTML")
    created_at: str
    client_ref: str | None = None
    agent_name: str | None = Field(None, description="an agent's message: her first name")


class ChatStatusOut(Out):
    state: str = Field(description="waiting, active or ended")
    interaction_id: str
    program_id: str
    position: int | None = Field(description="while waiting: 1 is next; 0 while an agent's desk rings")
    estimated_wait_seconds: float | None = Field(description="while waiting; null when unknown")
    agent_name: str | None = Field(description="while active: the agent's first name")
    transferred: bool = Field(description="waiting again after an agent handed the chat on")
    ended_by: str | None = Field(description="customer or agent, once ended")
    customer_name: str | None
    customer_read_seq: int
    agent_read_seq: int = Field(description="the agent has read the customer's messages up to this number")
    rating: int | None
    transcript_sent: bool


class ChatViewOut(ChatStatusOut):
    messages: list[ChatMessageOut]


class ChatStartOut(ChatViewOut):
    token: str = Field(description="shown once: the widget keeps it to resume the chat")


class RatingOut(Out):
    rating: int
    comment: str | None


class TranscriptOut(Out):
    sent_to: str
    sent_at: str


class ReadOut(Out):
    seq: int


# ---- the API ------------------------------------------------------------------------------------
@router.post("/api/v1/chat/sessions", status_code=201, response_model=ChatStartOut,
             summary="Start a chat from the pre-chat form (no login; limited per client address)")
async def start_chat(body: StartIn, request: Request, chats: ChatsDep) -> Any:
    token, _session, view = await chats.start(body.program_id, body.name, body.email, body.question,
                                              client=client_address(request), page_url=body.page_url,
                                              client_ref=body.client_ref)
    return {**view, "token": token}


@router.get("/api/v1/chat/session", response_model=ChatViewOut,
            summary="The chat of the token: state, position, estimated wait, agent, transcript")
async def get_chat(session: SessionDep, chats: ChatsDep,
                   after_seq: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Any:
    return await chats.view(session, after_seq=after_seq)


@router.post("/api/v1/chat/messages", status_code=201, response_model=ChatMessageOut,
             summary="The customer writes (limited per chat)")
async def post_message(body: ChatMessageIn, session: SessionDep, chats: ChatsDep) -> Any:
    return await chats.post(session, body.body, client_ref=body.client_ref)


@router.post("/api/v1/chat/typing", status_code=204, summary="The customer started or stopped typing")
async def typing(body: TypingIn, session: SessionDep, chats: ChatsDep) -> Response:
    await chats.typing(session, body.typing)
    return Response(status_code=204)


@router.post("/api/v1/chat/read", response_model=ReadOut, summary="The customer has read up to a message")
async def read(body: ReadIn, session: SessionDep, chats: ChatsDep) -> Any:
    return {"seq": await chats.read(session, body.seq)}


@router.post("/api/v1/chat/end", response_model=ChatStatusOut,
             summary="The customer leaves: abandoned while waiting; with an agent, the agent is told")
async def end_chat(session: SessionDep, chats: ChatsDep) -> Any:
    return await chats.end(session)


@router.post("/api/v1/chat/rating", response_model=RatingOut, summary="Rate the chat (1–5) after its end")
async def rate_chat(body: RatingIn, session: SessionDep, chats: ChatsDep) -> Any:
    return await chats.rate(session, body.rating, body.comment)


@router.post("/api/v1/chat/transcript", response_model=TranscriptOut,
             summary="E-mail the transcript to the pre-chat address, once, after the end",
             responses={503: {"description": "this server has no e-mail transcript (`unavailable`)"}})
async def send_transcript(session: SessionDep, chats: ChatsDep) -> Any:
    return await chats.send_transcript(session)


# ---- the socket ---------------------------------------------------------------------------------
def _after_seq(websocket: WebSocket) -> int:
    try:
        return min(max(0, int(websocket.query_params.get("after_seq", "0"))), 10_000_000)
    except ValueError:
        return 0


@router.websocket("/api/v1/chat/ws")
async def customer_socket(websocket: WebSocket) -> None:
    chats = customer_chats(websocket)
    token = websocket.query_params.get("token")
    await websocket.accept()
    if not token:
        await websocket.close(code=CLOSE_NO_TOKEN, reason="token required")
        return
    try:
        session = await chats.open(token)
    except NotFound:
        await websocket.close(code=CLOSE_UNKNOWN_SESSION, reason="no such chat")
        return
    feed = chats.feed(session, after_seq=_after_seq(websocket))
    await serve(websocket, feed.run(websocket.send_json), _drain(websocket),
                lambda task: _report(task, websocket, session))


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the widget sends, until it goes away."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


def _report(task: asyncio.Task[None], websocket: WebSocket, session: ChatSession) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is None or isinstance(error, (WebSocketDisconnect, ConnectionError)):
        return
    if websocket.client_state is not WebSocketState.CONNECTED:
        return  # the customer went away mid-send: a normal end
    if isinstance(error, DomainError):
        log.info("chat socket of session %s ended: %s", session.id, error.message)
        return
    log.error("chat socket of session %s failed", session.id, exc_info=error)


# ---- the widget ---------------------------------------------------------------------------------
_widget_cache: dict[str, tuple[float, bytes, str]] = {}


def _widget() -> tuple[bytes, str]:
    """The script and its ETag, read again when the file changes."""
    mtime = WIDGET_FILE.stat().st_mtime
    cached = _widget_cache.get("widget")
    if cached is None or cached[0] != mtime:
        data = WIDGET_FILE.read_bytes()
        cached = _widget_cache["widget"] = (mtime, data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
    return cached[1], cached[2]


@router.api_route(WIDGET_PATH, methods=["GET", "HEAD"], include_in_schema=False)
async def widget(request: Request) -> Response:
    data, etag = _widget()
    headers = {"Cache-Control": WIDGET_CACHE_CONTROL, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="text/javascript; charset=utf-8", headers=headers)


__all__ = ["ChatCors", "install", "router"]
