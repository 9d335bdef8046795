"""The customer's chat API and socket on the real server: a chat from the pre-chat form to the
rating, resuming by token, limits, token isolation, CORS for other sites, and the widget script.
The agent's side is driven through the staff REST API."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .support import Api, Server, World, free_port, unique

pytestmark = pytest.mark.e2e
OTHER_SITE = "https://shop.client.example"


@pytest.fixture(scope="module")
def admin(chat_server: Server) -> Iterator[Api]:
    with chat_server.client() as http:
        yield chat_server.admin(http)


@pytest.fixture
def world(admin: Api) -> World:
    """Tenants A and B, each program routing its chats through its default workflow."""
    made = World(admin)
    for key in ("A", "B"):
        admin.ok("PATCH", f"/programs/{made.programs[key]['id']}",
                 json={"default_workflow_id": made.workflows[key]["id"]})
    return made


class Customer:
    """A customer's side: no login, her chat token in a header, from another site."""

    def __init__(self, server: Server, token: str | None = None) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30, headers={"Origin": OTHER_SITE})
        self.token = token
        self.started: dict[str, Any] = {}

    def start(self, program_id: str, **fields: Any) -> httpx.Response:
        body = {"program_id": program_id, "name": "Dana Smith", "email": "dana@example.org",
                "question": "My bill is wrong", **fields}
        response = self.http.post("/api/v1/chat/sessions", json=body)
        if response.status_code == 201:
            self.started = response.json()
            self.token = self.started["token"]
        return response

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"X-Chat-Token": self.token} if self.token else {}
        return self.http.request(method, f"/api/v1/chat/{path}", headers=headers, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = self.call(method, path, **kw)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def socket(self, after_seq: int = 0) -> ClientConnection:
        return connect(f"{self.server.ws_url}/api/v1/chat/ws?token={self.token}&after_seq={after_seq}",
                       additional_headers={"Origin": OTHER_SITE}, open_timeout=10, close_timeout=5)


@pytest.fixture
def customer(chat_server: Server) -> Iterator[Callable[..., Customer]]:
    """Makes customers of the chat server (`customer()`, or `customer(token)` to resume)."""
    made: list[Customer] = []

    def make(token: str | None = None, server: Server | None = None) -> Customer:
        made.append(Customer(server or chat_server, token))
        return made[-1]

    yield make
    for c in made:
        c.http.close()


def _until(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool], seconds: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the awaited message did not arrive")
        message = json.loads(ws.recv(timeout=left))
        if wanted(message):
            return message


def _take(world: World) -> str:
    """The world's agent becomes available and accepts her offer; returns the interaction id."""
    agent, me = world.agent_api, world.agent["id"]
    agent.ok("PUT", f"/agents/{me}/state", json={"state": "available"})
    deadline = time.monotonic() + 10
    while not (offers := agent.ok("GET", f"/agents/{me}/offers")) and time.monotonic() < deadline:
        time.sleep(0.1)
    agent.ok("POST", f"/agents/{me}/offers/{offers[0]['id']}/accept")
    return offers[0]["interaction_id"]


def test_a_chat_from_the_prechat_form_to_the_rating(world: World, customer: Callable[..., Customer]) -> None:
    dana = customer()
    started = dana.start(world.programs["A"]["id"], page_url="https://shop.client.example/help")
    assert started.status_code == 201, started.text
    assert started.headers["access-control-allow-origin"] == "*"
    body = started.json()
    assert body["state"] == "waiting" and body["position"] == 1 and body["transferred"] is False
    assert [(m["seq"], m["sender"], m["body"]) for m in body["messages"]] == [(1, "customer", "My bill is wrong")]
    with dana.socket() as ws:
        status = _until(ws, lambda m: m["type"] == "status")
        assert status["state"] == "waiting" and status["position"] == 1
        assert _until(ws, lambda m: m["type"] == "message")["message"]["body"] == "My bill is wrong"
        interaction_id = _take(world)
        assert interaction_id == body["interaction_id"]
        joined = _until(ws, lambda m: m["type"] == "status" and m["state"] == "active")
        assert joined["agent_name"] == world.agent["name"].split()[0]
        agent = world.agent_api
        agent.ok("POST", f"/interactions/{interaction_id}/typing", 204, json={"typing": True})
        assert _until(ws, lambda m: m["type"] == "typing") == {"type": "typing", "typing": True}
        agent.ok("POST", f"/interactions/{interaction_id}/messages", 201, json={"body": "Hello Dana!"})
        answer = _until(ws, lambda m: m["type"] == "message")["message"]
        assert (answer["seq"], answer["sender"], answer["body"]) == (2, "agent", "Hello Dana!")
        assert "agent_id" not in answer and "sentiment" not in answer
        mine = dana.ok("POST", "messages", 201, json={"body": "Thanks, it is invoice 42", "client_ref": "c-1"})
        assert mine["seq"] == 3 and mine["client_ref"] == "c-1"
        assert _until(ws, lambda m: m["type"] == "message")["message"]["seq"] == 3
        agent.ok("POST", f"/interactions/{interaction_id}/read", 204, json={"seq": 3})
        assert _until(ws, lambda m: m["type"] == "read") == {"type": "read", "seq": 3}
        assert dana.ok("POST", "read", json={"seq": 2}) == {"seq": 2}
        dana.ok("POST", "typing", 204, json={"typing": True})
        agent.ok("POST", f"/interactions/{interaction_id}/complete", json={})
        ended = _until(ws, lambda m: m["type"] == "status" and m["state"] == "ended")
        assert ended["ended_by"] == "agent"
    assert dana.ok("POST", "rating", json={"rating": 5, "comment": "Quick and kind"}) == {
        "rating": 5, "comment": "Quick and kind"}
    view = dana.ok("GET", "session")
    assert (view["rating"], view["agent_read_seq"], view["customer_read_seq"]) == (5, 3, 2)
    staff = world.admin.ok("GET", f"/interactions/{interaction_id}")
    assert staff["customer"]["name"] == "Dana Smith" and staff["attributes"]["page_url"].endswith("/help")
    transcript = dana.call("POST", "transcript")  # this server has no SMTP relay: said so, never faked
    assert transcript.status_code == 503 and transcript.json()["error"] == "unavailable"
    assert dana.ok("GET", "session")["transcript_sent"] is False


def test_leaving_while_waiting_abandons_and_writing_after_the_end_is_refused(
        world: World, customer: Callable[..., Customer]) -> None:
    dana = customer()
    dana.start(world.programs["A"]["id"])
    with dana.socket() as ws:
        _until(ws, lambda m: m["type"] == "status")
        left = dana.ok("POST", "end")
        assert (left["state"], left["ended_by"]) == ("ended", "customer")
    assert world.admin.ok("GET", f"/interactions/{left['interaction_id']}")["state"] == "abandoned"
    refused = dana.call("POST", "messages", json={"body": "hello?"})
    assert refused.status_code == 409 and refused.json()["error"] == "invalid-transition"
    for bad in (0, 6, "5", None):
        wrong = dana.call("POST", "rating", json={"rating": bad})
        assert wrong.status_code == 422 and wrong.json()["details"]["field"] == "body.rating"
    assert dana.ok("POST", "rating", json={"rating": 1})["rating"] == 1


def test_a_reopened_socket_sends_what_came_after_and_a_resend_is_not_doubled(
        world: World, customer: Callable[..., Customer]) -> None:
    dana = customer()
    dana.start(world.programs["A"]["id"])
    interaction_id = _take(world)
    ref = str(uuid.uuid4())
    first = dana.ok("POST", "messages", 201, json={"body": "one", "client_ref": ref})
    again = dana.ok("POST", "messages", 201, json={"body": "one", "client_ref": ref})  # its answer was lost
    assert first == again
    world.agent_api.ok("POST", f"/interactions/{interaction_id}/messages", 201, json={"body": "two"})
    resumed = customer(dana.token)  # the page reloaded: the token came from localStorage
    assert [m["seq"] for m in resumed.ok("GET", "session")["messages"]] == [1, 2, 3]
    assert [m["body"] for m in resumed.ok("GET", "session", params={"after_seq": 2})["messages"]] == ["two"]
    with resumed.socket(after_seq=2) as ws:
        assert _until(ws, lambda m: m["type"] == "status")["state"] == "active"
        assert _until(ws, lambda m: m["type"] == "message")["message"]["body"] == "two"
        world.agent_api.ok("POST", f"/interactions/{interaction_id}/messages", 201, json={"body": "three"})
        assert _until(ws, lambda m: m["type"] == "message")["message"]["seq"] == 4
    with resumed.socket(after_seq=99) as ws:  # a stale number does not hide what comes next
        _until(ws, lambda m: m["type"] == "status")
        world.agent_api.ok("POST", f"/interactions/{interaction_id}/messages", 201, json={"body": "four"})
        assert _until(ws, lambda m: m["type"] == "message")["message"]["seq"] == 5


def test_a_token_never_reaches_another_conversation(chat_server: Server, world: World, admin: Api,
                                                    customer: Callable[..., Customer]) -> None:
    dana, eve = customer(), customer()
    dana.start(world.programs["A"]["id"], question="Dana's question")
    eve.start(world.programs["B"]["id"], question="Eve's question")
    assert [m["body"] for m in eve.ok("GET", "session")["messages"]] == ["Eve's question"]
    dana.ok("POST", "messages", 201, json={"body": "Dana only"})
    assert [m["body"] for m in eve.ok("GET", "session")["messages"]] == ["Eve's question"]
    stranger = customer("x" * 43)
    for method, path, body in (("GET", "session", None), ("POST", "messages", {"body": "hi"}),
                               ("POST", "typing", {"typing": True}), ("POST", "read", {"seq": 1}),
                               ("POST", "end", None), ("POST", "rating", {"rating": 5}),
                               ("POST", "transcript", None)):
        answer = stranger.call(method, path, json=body)
        assert answer.status_code == 404 and answer.json()["error"] == "not-found", (path, answer.text)
        assert customer().call(method, path, json=body).status_code == 401  # no token at all
    # a staff token is no chat token, and a chat token is no staff token
    assert dana.http.get("/api/v1/chat/session", headers={"Authorization": f"Bearer {admin.token}"}).status_code == 404
    assert dana.http.get("/api/v1/tenants", headers={"Authorization": f"Bearer {dana.token}"}).status_code == 401
    with stranger.socket() as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    with connect(f"{chat_server.ws_url}/api/v1/chat/ws", open_timeout=10) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    with dana.socket():
        pass
    assert dana.token not in chat_server.log()  # the socket's ?token= is redacted from the access log


def test_sizes_are_limited_and_the_answer_names_the_field(world: World, customer: Callable[..., Customer]) -> None:
    dana = customer()
    program = world.programs["A"]["id"]
    for fields, field in (({"name": "N" * 101}, "body.name"), ({"email": "x" * 255}, "body.email"),
                          ({"email": "not an address"}, "email"), ({"question": "q" * 4001}, "body.question"),
                          ({"question": "\x07 "}, "question"), ({"name": ""}, "body.name"),
                          ({"extra": "x"}, "body.extra")):
        answer = dana.start(program, **fields)
        assert answer.status_code == 422, answer.text
        assert answer.json()["details"]["field"] == field and answer.headers["access-control-allow-origin"] == "*"
    assert dana.start("no-such-program").status_code == 404
    bare = world.admin.ok("POST", "/programs", 201, json={"tenant_id": world.tenants["A"]["id"], "name": unique("P")})
    refused = dana.start(bare["id"])
    assert refused.status_code == 422 and refused.json()["details"]["field"] == "program_id"
    assert dana.start(program).status_code == 201
    too_long = dana.call("POST", "messages", json={"body": "x" * 4001})
    assert too_long.status_code == 422 and too_long.json()["details"]["field"] == "body.body"
    assert dana.ok("POST", "messages", 201, json={"body": "x" * 4000})["seq"] == 2
    bad_ref = dana.call("POST", "messages", json={"body": "hi", "client_ref": "<script>"})
    assert bad_ref.status_code == 422 and bad_ref.json()["details"]["field"] == "body.client_ref"


def test_a_flood_of_messages_is_refused_with_429(world: World, customer: Callable[..., Customer]) -> None:
    dana = customer()
    dana.start(world.programs["A"]["id"])
    answers = [dana.call("POST", "messages", json={"body": f"message {n}"}) for n in range(21)]
    assert [a.status_code for a in answers[:20]] == [201] * 20
    assert answers[20].status_code == 429 and answers[20].json()["error"] == "rate-limited"
    assert 1 <= int(answers[20].headers["retry-after"]) <= 11
    assert answers[20].headers["access-control-expose-headers"] == "Retry-After"


def test_new_chats_are_limited_per_client_address(tmp_path: Path, customer: Callable[..., Customer]) -> None:
    server = Server(tmp_path, {"HEARTHLINE_CHAT_SESSIONS_PER_MINUTE": "2"}).start()
    try:
        with server.client() as http:
            world = World(server.admin(http))
            program = world.programs["A"]["id"]
            world.admin.ok("PATCH", f"/programs/{program}", json={"default_workflow_id": world.workflows["A"]["id"]})
            answers = [customer(server=server).start(program).status_code for _ in range(3)]
            assert answers == [201, 201, 429]
    finally:
        server.stop()


class Sink:
    """An SMTP relay standing in for the operator's: it keeps what it is given."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 2.0.0 OK"


def test_the_transcript_goes_once_through_the_relay_to_the_prechat_address(
        tmp_path: Path, customer: Callable[..., Customer]) -> None:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    server = Server(tmp_path, {"HEARTHLINE_SMTP_RELAY_HOST": "127.0.0.1", "HEARTHLINE_SMTP_RELAY_PORT": str(port),
                               "HEARTHLINE_SMTP_RELAY_SECURITY": "none",
                               "HEARTHLINE_MAIL_FROM_ADDRESS": "help@acme.example"}).start()
    try:
        with server.client() as http:
            world = World(server.admin(http))
            program = world.programs["A"]["id"]
            world.admin.ok("PATCH", f"/programs/{program}", json={"default_workflow_id": world.workflows["A"]["id"]})
            dana = customer(server=server)
            dana.start(program, question="Where is my refund?")
            interaction_id = _take(world)
            world.agent_api.ok("POST", f"/interactions/{interaction_id}/messages", 201,
                               json={"body": "It left on Monday."})
            early = dana.call("POST", "transcript")
            assert early.status_code == 409 and early.json()["error"] == "invalid-transition"
            dana.ok("POST", "end")
            sent = dana.ok("POST", "transcript")
            assert sent["sent_to"] == "dana@example.org"
            assert dana.ok("GET", "session")["transcript_sent"] is True
            again = dana.call("POST", "transcript")
            assert again.status_code == 409 and again.json()["error"] == "conflict"
            [mail] = sink.received
            assert mail["To"] == "dana@example.org"
            text = mail.get_body(("plain",)).get_content()
            assert "Where is my refund?" in text and "It left on Monday." in text
    finally:
        server.stop()
        controller.stop()


def test_cors_lets_any_site_use_the_chat_api_and_nothing_else(chat_server: Server) -> None:
    preflight = httpx.options(f"{chat_server.base_url}/api/v1/chat/messages", headers={
        "Origin": OTHER_SITE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    staff = httpx.options(f"{chat_server.base_url}/api/v1/tenants", headers={
        "Origin": OTHER_SITE, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in staff.headers
    assert "access-control-allow-origin" not in httpx.get(f"{chat_server.base_url}/api/v1/tenants",
                                                          headers={"Origin": OTHER_SITE}).headers
    missing = httpx.get(f"{chat_server.base_url}/api/v1/chat/nothing-here", headers={"Origin": OTHER_SITE})
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"


def test_the_widget_script_is_served_cached_and_revalidated(chat_server: Server) -> None:
    script = httpx.get(f"{chat_server.base_url}/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=600"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "data-program" in script.text and "innerHTML" not in script.text
    again = httpx.get(f"{chat_server.base_url}/widget.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert httpx.head(f"{chat_server.base_url}/widget.js").status_code == 200


def test_the_chat_api_is_documented(chat_server: Server) -> None:
    paths = httpx.get(f"{chat_server.base_url}/openapi.json").json()["paths"]
    for path in ("/api/v1/chat/sessions", "/api/v1/chat/session", "/api/v1/chat/messages", "/api/v1/chat/typing",
                 "/api/v1/chat/read", "/api/v1/chat/end", "/api/v1/chat/rating", "/api/v1/chat/transcript"):
        assert path in paths
    assert "/widget.js" not in paths
    log = chat_server.log()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
