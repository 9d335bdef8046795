"""The chat widget as a customer uses it, in Chromium, on a page of another site: the pre-chat
form, the wait with position and estimated wait, the agent joining, messages, typing and read
receipts both ways, a reload, a lost connection and a restarted server, hostile text from both
sides, the end and the rating. The agent's side is driven through the staff REST API; the host
page is served by a plain http.server on another port (another origin). Screenshots of each
stage go to artifacts/screenshots/widget-*.png."""
from __future__ import annotations

import functools
import html
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from .support import Api, Server, World, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

XSS_CUSTOMER = '<img src=x onerror="window.__pwned=\'customer\'"><script>window.__pwned=\'script\'</script>'
XSS_AGENT = '<img src=x onerror="window.__pwned=\'agent\'"><b onmouseover="window.__pwned=1">bold?</b>'

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Energy - Help</title>
<style>
  body {{ font-family: Georgia, serif; background: #fdf6e3; color: #333; margin: 0; }}
  header {{ background: #2d3e50; color: #fff; padding: 16px 32px; }}
  main {{ padding: 8px 32px; max-width: 640px; }}
  /* rules that would wreck a widget living in the page's own DOM */
  button {{ background: hotpink !important; font-size: 30px !important; border-radius: 0 !important; }}
  input, textarea {{ border: 5px dashed red !important; }}
  li {{ list-style: square; color: red !important; }}
  div, section, form {{ padding: 20px; margin: 10px; }}
  * {{ letter-spacing: 2px; }}
</style>
<script>window.__pwned = false;</script>
</head><body>
<header><h1>Acme Energy</h1></header>
<main><h2>Help centre</h2>
<p>Questions about your bill, your meter or moving house? Our team is here to help.</p>
<p><button type="button">A button of the page</button></p></main>
<script src="{script}" data-program="{program}" async></script>
</body></html>
"""


# ---- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def admin(chat_server: Server) -> Iterator[Api]:
    with chat_server.client() as http:
        yield chat_server.admin(http)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class HostSite:
    """The client's website: static pages on another port of 127.0.0.1 — another origin."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page(self, name: str, server: Server, program: str) -> str:
        (self.root / f"{name}.html").write_text(HOST_PAGE.format(
            script=html.escape(f"{server.base_url}/widget.js"), program=html.escape(program)), encoding="utf-8")
        return f"{self.base_url}/{name}.html"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostSite]:
    host = HostSite(tmp_path_factory.mktemp("site"))
    try:
        yield host
    finally:
        host.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (its own localStorage) per test."""
    ctx = browser.new_context(viewport={"width": 1100, "height": 760})
    # Keep a handle on every WebSocket the page opens, so a test can cut one.
    ctx.add_init_script("""(() => {
        const Native = window.WebSocket;
        window.__hlSockets = [];
        window.WebSocket = class extends Native {
            constructor(...args) { super(...args); window.__hlSockets.push(this); }
        };
    })();""")
    try:
        yield ctx
    finally:
        ctx.close()


class Desk:
    """The agent's side, through the staff REST API."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.api = world.agent_api
        self.me = world.agent["id"]
        # one chat at a time, so that a second customer waits in line behind the first
        world.admin.ok("PATCH", f"/agents/{self.me}", json={"name": "Maria Gonzalez",
                                                           "capacity": {"voice": 1, "chat": 1, "email": 5}})

    def available(self) -> None:
        self.api.ok("PUT", f"/agents/{self.me}/state", json={"state": "available"})

    def accept(self) -> str:
        deadline = time.monotonic() + 15
        while not (offers := self.api.ok("GET", f"/agents/{self.me}/offers")):
            assert time.monotonic() < deadline, "no offer came"
            time.sleep(0.1)
        self.api.ok("POST", f"/agents/{self.me}/offers/{offers[0]['id']}/accept")
        return str(offers[0]["interaction_id"])

    def say(self, interaction_id: str, body: str) -> dict[str, Any]:
        return self.api.ok("POST", f"/interactions/{interaction_id}/messages", 201, json={"body": body})

    def typing(self, interaction_id: str, typing: bool) -> None:
        self.api.ok("POST", f"/interactions/{interaction_id}/typing", 204, json={"typing": typing})

    def read(self, interaction_id: str, seq: int) -> None:
        self.api.ok("POST", f"/interactions/{interaction_id}/read", 204, json={"seq": seq})

    def complete(self, interaction_id: str) -> None:
        self.api.ok("POST", f"/interactions/{interaction_id}/complete", json={})

    def messages(self, interaction_id: str) -> list[dict[str, Any]]:
        return self.api.ok("GET", f"/interactions/{interaction_id}/messages")


@pytest.fixture
def world(admin: Api) -> World:
    made = World(admin)
    admin.ok("PATCH", f"/programs/{made.programs['A']['id']}", json={"default_workflow_id": made.workflows["A"]["id"]})
    return made


@pytest.fixture
def desk(world: World) -> Desk:
    return Desk(world)


# ---- looking into the widget (an open shadow root) ------------------------------------------------
ROOT = "document.querySelector('hearthline-chat').shadowRoot"


def shot(page: Any, name: str) -> None:
    screenshot(page, f"widget-{name}", full_page=False)


def log(page: Any) -> list[dict[str, Any]]:
    """The conversation as shown: kind, text, number and the line under it."""
    return page.evaluate(f"""() => Array.from({ROOT}.querySelectorAll('ol.log li')).map(li => ({{
        kind: li.className.replace('msg ', ''), text: li.querySelector('.bubble').textContent,
        seq: li.dataset.seq ? Number(li.dataset.seq) : null, who: li.querySelector('.who')?.textContent ?? null,
        meta: li.querySelector('.meta')?.textContent ?? null}}))""")


def wait_log(page: Any, predicate_js: str, timeout: float = 15_000) -> None:
    """Wait until some shown message satisfies `predicate_js` (a JS expression over `li`)."""
    page.wait_for_function(
        f"() => Array.from({ROOT}.querySelectorAll('ol.log li')).some(li => {predicate_js})", timeout=timeout)


def wait_text(page: Any, selector: str, text: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        f"() => ({ROOT}.querySelector({json.dumps(selector)})?.textContent ?? '').includes({json.dumps(text)})",
        timeout=timeout)


def token_of(page: Any) -> str:
    stored = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.startsWith('hearthline-chat:')"
                           " && !k.endsWith(':outbox'))?.[1]")
    return str(json.loads(stored)["token"])


def until(ws: Any, wanted: Callable[[dict[str, Any]], bool], seconds: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the awaited message did not arrive"
        message = json.loads(ws.recv(timeout=left))
        if wanted(message):
            return message


def customer_view(server: Server, token: str) -> dict[str, Any]:
    return httpx.get(f"{server.base_url}/api/v1/chat/session", headers={"Authorization": f"Bearer {token}"}).json()


def start_chat(page: Any, name: str = "Dana Smith", question: str = "My last bill is twice the usual amount") -> None:
    page.locator("hearthline-chat .launcher").click()
    page.fill("hearthline-chat input[name=name]", name)
    page.fill("hearthline-chat input[name=email]", "dana@example.org")
    page.fill("hearthline-chat textarea[name=question]", question)
    page.locator("hearthline-chat form.prechat button[type=submit]").click()
    page.locator("hearthline-chat ol.log li").first.wait_for()


def send(page: Any, text: str) -> None:
    page.fill("hearthline-chat form.composer textarea", text)
    page.locator("hearthline-chat form.composer textarea").press("Enter")


def other_customer(server: Server, program: str, name: str) -> dict[str, Any]:
    """Someone else, chatting through the API directly."""
    answer = httpx.post(f"{server.base_url}/api/v1/chat/sessions", json={
        "program_id": program, "name": name, "email": "sam@example.org", "question": "Hello?"})
    assert answer.status_code == 201, answer.text
    return answer.json()


# ---- the tests ------------------------------------------------------------------------------------
def test_a_customer_chats_from_another_site_from_the_form_to_the_rating(
        chat_server: Server, site: HostSite, context: Any, world: World, desk: Desk) -> None:
    program = world.programs["A"]["id"]
    page = context.new_page()
    url = site.page("help", chat_server, program)
    page.goto(url)
    assert page.evaluate("location.origin") != chat_server.base_url  # the widget lives on another site
    launcher = page.locator("hearthline-chat .launcher")
    launcher.wait_for()
    # the page's CSS does not reach into the widget
    assert page.evaluate(f"getComputedStyle({ROOT}.querySelector('.launcher')).backgroundColor") == "rgb(11, 107, 203)"
    assert page.evaluate(f"getComputedStyle({ROOT}.querySelector('.launcher')).letterSpacing") == "normal"
    launcher.click()

    # the form is checked before anything is sent
    page.locator("hearthline-chat form.prechat button[type=submit]").click()
    wait_text(page, "#hl-name-error", "Please enter your name")
    page.fill("hearthline-chat input[name=name]", "Dana Smith")
    page.fill("hearthline-chat input[name=email]", "dana@")
    page.fill("hearthline-chat textarea[name=question]", "My last bill is twice the usual amount")
    page.locator("hearthline-chat form.prechat button[type=submit]").click()
    wait_text(page, "#hl-email-error", "valid e-mail")
    assert page.evaluate(f"{ROOT}.querySelector('#hl-name-error').textContent") == ""
    page.fill("hearthline-chat input[name=email]", "dana@example.org")
    shot(page, "prechat")

    # the agent is busy with someone else: Dana waits, first in line, with an estimate
    desk.available()
    sam = other_customer(chat_server, program, "Sam")
    assert desk.accept() == sam["interaction_id"]
    page.locator("hearthline-chat form.prechat button[type=submit]").click()
    wait_text(page, ".queue", "You are number 1 in line.")
    wait_text(page, ".queue", "Estimated wait: about 3 minutes.")
    assert log(page)[0]["text"] == "My last bill is twice the usual amount"
    shot(page, "waiting")

    # the agent is free again and takes her: "joined", by first name only
    desk.complete(sam["interaction_id"])
    interaction_id = desk.accept()
    first_name = "Maria"  # of Maria Gonzalez: her family name is hers
    wait_log(page, f"li.textContent === {json.dumps(first_name + ' joined the chat.')}")
    wait_text(page, ".subtitle", f"Chatting with {first_name}")
    assert page.locator("hearthline-chat .queue").is_hidden()

    # typing and messages, both ways
    desk.typing(interaction_id, True)
    wait_text(page, ".typing", f"{first_name} is typing")
    desk.say(interaction_id, "Hello Dana, I can see the bill. Let me check the meter readings.")
    wait_log(page, "li.classList.contains('agent') && li.textContent.includes('meter readings')")
    assert page.locator("hearthline-chat .typing").is_hidden()
    with connect(f"{chat_server.ws_url}/api/v1/ws?token={desk.api.token}", open_timeout=10) as feed:
        composer = page.locator("hearthline-chat form.composer textarea")
        composer.press_sequentially("Thank you! The reading was 4521.", delay=10)
        typing = until(feed, lambda m: m["type"] == "event" and m["event"]["name"] == "Typing")
        assert typing["event"]["data"] == {"sender": "customer", "typing": True}  # the agent sees her typing
        composer.press("Enter")
        until(feed, lambda m: m["type"] == "event" and m["event"]["name"] == "MessageAdded")
    wait_log(page, "li.dataset.seq === '3' && li.classList.contains('customer')")
    assert [m["body"] for m in desk.messages(interaction_id)][-1] == "Thank you! The reading was 4521."

    # read receipts: hers reach the store, the agent's show under her message
    wait_text(page, "li.customer[data-seq='3'] .meta", "Sent")
    desk.read(interaction_id, 3)
    wait_text(page, "li.customer[data-seq='3'] .meta", "Read")
    deadline = time.monotonic() + 10
    while customer_view(chat_server, token_of(page))["customer_read_seq"] < 2:
        assert time.monotonic() < deadline, "the widget did not report what she read"
        time.sleep(0.2)
    assert "Gonzalez" not in page.evaluate(f"{ROOT}.textContent")
    shot(page, "conversation")

    # hostile text from both sides is shown as text, and runs nothing
    send(page, XSS_CUSTOMER)
    desk.say(interaction_id, XSS_AGENT)
    wait_log(page, f"li.textContent.includes({json.dumps(XSS_AGENT)})")
    wait_log(page, "li.classList.contains('customer') && li.dataset.seq"
                   f" && li.textContent.includes({json.dumps(XSS_CUSTOMER)})")
    assert page.evaluate(f"{ROOT}.querySelectorAll('ol.log img, ol.log script, ol.log b').length") == 0
    page.locator("hearthline-chat ol.log li.agent").last.hover()
    assert page.evaluate("window.__pwned") is False
    desk.say(interaction_id, "Found it: the meter was misread. I have corrected the bill.")
    wait_log(page, "li.textContent.includes('corrected the bill')")
    shot(page, "hostile-text")

    # she leaves; she rates the chat
    page.locator("hearthline-chat button.end").click()
    page.locator("hearthline-chat").get_by_role("button", name="Yes, end it").click()
    wait_log(page, "li.classList.contains('system') && li.textContent === 'You left the chat.'")
    page.locator("hearthline-chat .after").wait_for()
    assert sum(1 for m in log(page) if "left the chat" in m["text"]) == 1
    assert page.locator("hearthline-chat form.composer").is_hidden()
    assert [m["body"] for m in desk.messages(interaction_id)][-1] == "The customer left the chat"
    page.locator("hearthline-chat .stars button[data-rating='4']").click()
    page.fill("hearthline-chat .rating textarea", "Quick and kind")
    shot(page, "rating")
    page.locator("hearthline-chat").get_by_role("button", name="Send rating").click()
    page.locator("hearthline-chat .thanks").wait_for()  # shown once the rating is stored
    page.locator("hearthline-chat").get_by_role("button", name="E-mail me the transcript").click()
    page.wait_for_function(f"() => !['', 'Sending…'].includes({ROOT}.querySelector('.transcript-status').textContent)")
    wait_text(page, ".transcript-status", "not available here")  # no SMTP relay here: said so, never faked
    view = customer_view(chat_server, token_of(page))
    assert (view["state"], view["rating"], view["ended_by"]) == ("ended", 4, "customer")
    shot(page, "thanks")
    desk.complete(interaction_id)
    assert page.evaluate("window.__pwned") is False
    page.close()


def test_a_reload_and_a_lost_connection_lose_nothing_and_double_nothing(
        chat_server: Server, site: HostSite, context: Any, world: World, desk: Desk) -> None:
    program = world.programs["A"]["id"]
    page = context.new_page()
    page.goto(site.page("reload", chat_server, program))
    desk.available()
    start_chat(page, question="Is my direct debit set up?")
    interaction_id = desk.accept()
    desk.say(interaction_id, "Yes, from the 1st of next month.")
    send(page, "Great, and the amount?")
    wait_log(page, "li.dataset.seq === '3'")

    # a reload: the token in localStorage reopens the chat, with the whole transcript
    page.reload()
    wait_log(page, "li.dataset.seq === '3'")
    assert [(m["seq"], m["kind"], m["text"]) for m in log(page)] == [
        (1, "customer", "Is my direct debit set up?"), (2, "agent", "Yes, from the 1st of next month."),
        (3, "customer", "Great, and the amount?")]
    assert page.locator("hearthline-chat .panel").is_visible()  # it was open: it stays open

    # offline: the agent writes on; she writes too, and her message waits in the outbox
    context.set_offline(True)
    wait_text(page, ".banner", "You are offline")
    desk.say(interaction_id, "It will be 84 pounds a month.")
    desk.say(interaction_id, "Anything else?")
    send(page, "No, that is all, thanks!")
    wait_text(page, "li.pending .meta", "Waiting for connection")
    context.set_offline(False)
    wait_log(page, "li.dataset.seq === '6' && li.classList.contains('customer') && !li.classList.contains('pending')")
    wait_log(page, "li.textContent.includes('Anything else?')")
    page.wait_for_function(f"() => {ROOT}.querySelector('.banner').hidden")
    expected = [(m["seq"], m["sender"], m["body"]) for m in desk.messages(interaction_id)]
    assert [(m["seq"], m["kind"], m["text"]) for m in log(page)] == expected  # nothing missed, nothing twice
    assert [m[0] for m in expected] == [1, 2, 3, 4, 5, 6]

    # the socket dies (closed under the widget's feet): it reconnects and catches up
    page.evaluate("() => window.__hlSockets.at(-1).close()")
    desk.say(interaction_id, "Said while the socket was down.")
    wait_log(page, "li.textContent.includes('while the socket was down')")
    assert [m["seq"] for m in log(page)] == [1, 2, 3, 4, 5, 6, 7]
    desk.complete(interaction_id)
    wait_log(page, "li.textContent === 'The agent has ended the chat.'")
    page.close()


def test_the_chat_survives_a_server_restart(chat_server: Server, site: HostSite, context: Any, world: World,
                                            desk: Desk) -> None:
    program = world.programs["A"]["id"]
    page = context.new_page()
    page.goto(site.page("restart", chat_server, program))
    desk.available()
    start_chat(page, question="Can I move my appointment?")
    interaction_id = desk.accept()
    wait_text(page, ".subtitle", "Chatting with")
    chat_server.stop()  # every socket drops, from the server's side
    wait_text(page, ".banner", "Reconnecting")
    send(page, "Hello? Are you still there?")
    chat_server.start()
    desk.say(interaction_id, "Yes, sorry: we had a hiccup.")
    wait_log(page, "li.textContent.includes('we had a hiccup')", timeout=30_000)
    wait_log(page, "li.classList.contains('customer') && li.dataset.seq && li.textContent.includes('still there')",
             timeout=30_000)
    assert [m["seq"] for m in log(page) if m["kind"] != "note"] == [1, 2, 3]
    desk.complete(interaction_id)
    page.close()


def test_a_transfer_then_the_agent_ending_the_chat_then_a_new_chat(
        chat_server: Server, site: HostSite, context: Any, world: World, desk: Desk) -> None:
    program = world.programs["A"]["id"]
    second_line = world.admin.ok("POST", "/queues", 201, json={
        "program_id": program, "name": "Second line", "skills": {world.skill: 1}})
    page = context.new_page()
    page.goto(site.page("agent-ends", chat_server, program))
    desk.available()
    start_chat(page)
    interaction_id = desk.accept()
    wait_text(page, ".subtitle", "Chatting with Maria")
    desk.api.ok("POST", f"/interactions/{interaction_id}/transfer", json={
        "kind": "queue", "target": second_line["id"], "note": "meter expert"})
    wait_log(page, "li.textContent === 'Your agent is transferring you. Please stay with us.'")
    assert not page.locator("hearthline-chat .queue").is_hidden()  # back in line, with where she stands
    assert desk.accept() == interaction_id  # the second line takes her (the same agent, here)
    wait_log(page, "li.textContent === 'Maria joined the chat.'", timeout=15_000)
    page.wait_for_function(f"() => Array.from({ROOT}.querySelectorAll('li.note')).filter("
                           f"li => li.textContent === 'Maria joined the chat.').length === 2")
    desk.say(interaction_id, "All sorted. Have a good day!")
    desk.complete(interaction_id)
    wait_log(page, "li.textContent === 'The agent has ended the chat.'")
    page.locator("hearthline-chat .stars button[data-rating='5']").click()
    page.locator("hearthline-chat").get_by_role("button", name="Send rating").click()
    page.locator("hearthline-chat .thanks").wait_for()  # shown once the rating is stored
    token = token_of(page)
    assert customer_view(chat_server, token)["rating"] == 5
    page.locator("hearthline-chat").get_by_role("button", name="Start a new chat").click()
    page.locator("hearthline-chat form.prechat").wait_for()
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('hearthline-chat:')).length") == 0
    page.close()
