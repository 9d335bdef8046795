"""The whole loop, in Chromium, against the real server: a customer chats in the widget on the
client's website, an agent accepts on her desk, they write to each other, she transfers the chat
to another queue with a note, a second agent takes it and completes it with a disposition — and
the supervisor console shows each step. Screenshots of the desk, the console and the widget go
to artifacts/screenshots/."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .support import PASSWORD, Api, Server, free_port, log_in, screenshot, unique
from .test_chat_widget import ROOT, HostSite, send, start_chat, wait_log

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def loop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("loop"), {
        "HEARTHLINE_LOGIN_ATTEMPTS_PER_MINUTE": "1000", "HEARTHLINE_OFFER_TIMEOUT_SECONDS": "120"}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostSite]:
    host = HostSite(tmp_path_factory.mktemp("loop-site"))
    try:
        yield host
    finally:
        host.close()


def _setup(admin: Api) -> dict[str, Any]:
    """Acme's billing chat: a first-line queue and an escalation queue, each with its agent."""
    for skill in ("billing", "escalation"):
        admin.ok("PUT", f"/skills/{skill}", json={"description": skill})
    tenant = admin.ok("POST", "/tenants", 201, json={"name": unique("Acme Energy")})
    program = admin.ok("POST", "/programs", 201, json={"tenant_id": tenant["id"], "name": "Billing support"})
    admin.ok("PATCH", f"/programs/{program['id']}", json={"dispositions": [
        {"code": "resolved", "label": "Resolved"}, {"code": "bill-adjusted", "label": "Bill adjusted"}]})
    first = admin.ok("POST", "/queues", 201, json={"program_id": program["id"], "name": "Billing chat",
                                                  "skills": {"billing": 1}})
    escalations = admin.ok("POST", "/queues", 201, json={"program_id": program["id"], "name": "Escalations",
                                                        "skills": {"escalation": 1}})
    workflow = admin.ok("POST", "/workflows", 201, json={"program_id": program["id"], "name": "Chat intake",
                                                        "routes": [], "default_target": {"queue_id": first["id"]}})
    admin.ok("PATCH", f"/programs/{program['id']}", json={"default_workflow_id": workflow["id"]})
    admin.ok("POST", "/scripts", 201, json={"program_id": program["id"], "queue_id": first["id"], "name": "Billing",
                                            "steps": [{"id": "greet", "title": "Greeting",
                                                       "text": "Hello {customer.first_name}, thanks for writing in.",
                                                       "options": [{"label": "Bill question", "next": "bill"}]},
                                                      {"id": "bill", "title": "The bill",
                                                       "text": "Ask for the latest meter reading.", "options": []}]})
    people: dict[str, Any] = {"program": program, "first": first, "escalations": escalations}
    for key, name, skill in (("ann", "Ann Lee", "billing"), ("ben", "Ben Ortiz", "escalation")):
        agent = admin.ok("POST", "/agents", 201, json={"name": name, "skills": {skill: 3}})
        username = unique(key)
        admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD, "role": "agent",
                                              "agent_id": agent["id"]})
        people[key] = {"agent": agent, "username": username}
    people["supervisor"] = unique("sup")
    admin.ok("POST", "/users", 201, json={"username": people["supervisor"], "password": PASSWORD,
                                          "role": "supervisor"})
    return people



def _available(desk: Any) -> None:
    desk.select_option("#state", "available")
    desk.wait_for_function("document.querySelector('#mystate').textContent.startsWith('available')")


def test_chat_from_widget_to_transfer_to_completion_with_the_console_watching(
        browser: Any, loop_server: Server, site: HostSite) -> None:
    with loop_server.client() as http:
        admin = loop_server.admin(http)
        world = _setup(admin)
        contexts = [browser.new_context(viewport={"width": 1400, "height": 950}) for _ in range(4)]
        try:
            customer_ctx, ann_ctx, ben_ctx, sup_ctx = contexts
            ann = log_in(ann_ctx, loop_server, world["ann"]["username"])
            ben = log_in(ben_ctx, loop_server, world["ben"]["username"])
            console = log_in(sup_ctx, loop_server, world["supervisor"])
            ann_id, ben_id = world["ann"]["agent"]["id"], world["ben"]["agent"]["id"]
            _available(ann)
            _available(ben)
            console.locator(f"tr[data-agent='{ann_id}'] .pill").wait_for()
            console.wait_for_function(
                f"document.querySelector(\"tr[data-agent='{ann_id}'] .pill\").textContent.startsWith('available')")

            # 1. the customer writes from the client's website (another origin)
            customer = customer_ctx.new_page()
            customer.goto(site.page("loop", loop_server, world["program"]["id"]))
            customer.evaluate("window.__pwned = false")
            start_chat(customer, name="Dana Smith", question="My last bill is twice the usual amount")

            # 2. Ann is offered the chat on her desk and accepts it
            offer = ann.locator(".card.offer")
            offer.wait_for()
            assert "Chat · Billing chat" in offer.inner_text() and "Dana Smith" in offer.inner_text()
            offer.get_by_role("button", name="Accept").click()
            workspace = ann.locator(".workspace")
            workspace.wait_for()
            ann.wait_for_function("document.querySelector('ol.transcript')?.textContent"
                                  ".includes('twice the usual amount')")
            ann.wait_for_function("document.querySelector('.panel.script')?.textContent.includes('Hello Dana,')")
            wait_log(customer, "li.textContent.includes('joined')")

            # 3. they write to each other
            ann.fill(".composer textarea", "Hello Dana, I can see the bill. What does your meter read today?")
            ann.locator(".composer textarea").press("Enter")
            wait_log(customer, "li.textContent.includes('What does your meter read today?')")
            send(customer, "It reads 4521, and <img src=x onerror='window.__pwned=true'> is what I typed")
            ann.wait_for_function("document.querySelector('ol.transcript').textContent.includes('It reads 4521')")

            # 4. the supervisor sees Ann busy and opens the chat read-only
            console.wait_for_function(
                f"document.querySelector(\"tr[data-agent='{ann_id}'] .pill\").textContent.startsWith('busy')")
            console.locator(f"tr[data-agent='{ann_id}'] button.open").click()
            console.wait_for_function("document.querySelector('#watch-transcript').textContent.includes('4521')")
            assert console.locator("#watch .composer, #watch textarea").count() == 0  # read-only: nothing to type in
            screenshot(ann, "desk-conversation")
            screenshot(console, "console-watching")

            # 5. Ann transfers the chat to the escalation queue, with a note
            workspace.get_by_role("button", name="Transfer…").click()
            ann.fill(".transfer input[aria-label='Transfer note']", "Meter 4521 vs billed 9000: needs an adjustment")
            ann.wait_for_selector(f".transfer select[aria-label='Transfer to queue'] "
                                  f"option[value='{world['escalations']['id']}']", state="attached")
            ann.select_option(".transfer select[aria-label='Transfer to queue']", world["escalations"]["id"])
            ann.get_by_role("button", name="To queue").click()
            ann.wait_for_function("document.querySelector('#tabs').textContent.includes('Nothing in hand')")

            # 6. Ben is offered it, accepts, sees the whole conversation and Ann's note
            ben.locator(".card.offer").get_by_role("button", name="Accept").click()
            ben.locator(".workspace").wait_for()
            ben.wait_for_function("document.querySelector('ol.transcript').textContent.includes('It reads 4521')")
            assert "needs an adjustment" in ben.inner_text(".transfer-note")
            console.wait_for_function(
                f"document.querySelector(\"tr[data-agent='{ben_id}'] .pill\").textContent.startsWith('busy')")
            ben.fill(".composer textarea", "Hi Dana, Ben here from billing escalations. I have corrected the bill.")
            ben.get_by_role("button", name="Send", exact=True).click()
            wait_log(customer, "li.textContent.includes('I have corrected the bill')")
            console.wait_for_function(
                "document.querySelector('#watch-transcript').textContent.includes('corrected the bill')")

            # 7. Ben closes the conversation, must choose a disposition, and completes
            ben.get_by_role("button", name="Close conversation").click()
            ben.get_by_role("button", name="Complete").wait_for()
            ben.get_by_role("button", name="Complete").click()  # no disposition yet: refused on the desk
            ben.wait_for_selector(".toast.error")
            ben.wait_for_selector("select.disposition option[value='bill-adjusted']", state="attached")
            ben.select_option("select.disposition", "bill-adjusted")
            ben.fill("textarea.notes", "Meter reading corrected; credit applied")
            ben.get_by_role("button", name="Complete").click()
            ben.wait_for_function("document.querySelector('#tabs').textContent.includes('Nothing in hand')")
            console.wait_for_function(
                f"document.querySelector(\"tr[data-agent='{ben_id}'] .pill\").textContent.startsWith('available')")
            customer.wait_for_function(f"!!{ROOT}.querySelector('.rating')")
            screenshot(customer, "widget-after-transfer")
            assert customer.evaluate("window.__pwned") is False  # the payload was shown as text, never run

            # the record: completed by Ben, with the disposition, Ann's note, and every message in order
            chats = admin.ok("GET", "/interactions", params={"channel": "chat", "agent_id": ben_id})
            done = admin.ok("GET", f"/interactions/{chats[0]['id']}")
            assert (done["state"], done["agent_id"], done["disposition"]) == ("completed", ben_id, "bill-adjusted")
            assert done["transfer"]["from_agent"] == ann_id and "adjustment" in done["transfer"]["note"]
            messages = admin.ok("GET", f"/interactions/{done['id']}/messages")
            assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
            written = [(m["sender"], m["agent_id"]) for m in messages if m["sender"] != "system"]
            assert written[:3] == [("customer", None), ("agent", ann_id), ("customer", None)]
            assert ("agent", ben_id) in written
            assert ann.evaluate("window.__pwned === undefined || window.__pwned === false")
        finally:
            for context in contexts:
                context.close()


def test_an_email_is_answered_on_the_desk_and_the_customers_answer_threads_back(
        browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """smtplib → our SMTP listener → the desk (HTML shown sanitized, a canned response used) →
    the relay sink receives the reply with the right In-Reply-To → the customer's answer appears
    live in the same conversation on the desk."""
    import smtplib
    from email.message import EmailMessage

    from .test_email_loop import Sink, wait_for
    from aiosmtpd.controller import Controller

    sink, relay_port, smtp_port = Sink(), free_port(), free_port()
    relay = Controller(sink, hostname="127.0.0.1", port=relay_port)
    relay.start()
    server = Server(tmp_path_factory.mktemp("mail-desk"), {
        "HEARTHLINE_LOGIN_ATTEMPTS_PER_MINUTE": "1000", "HEARTHLINE_OFFER_TIMEOUT_SECONDS": "120",
        "HEARTHLINE_SMTP_LISTEN_PORT": str(smtp_port), "HEARTHLINE_SMTP_RELAY_HOST": "127.0.0.1",
        "HEARTHLINE_SMTP_RELAY_PORT": str(relay_port), "HEARTHLINE_SMTP_RELAY_SECURITY": "none",
        "HEARTHLINE_MAIL_DOMAIN": "hearthline.test"}).start()
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    try:
        with server.client() as http:
            admin = server.admin(http)
            world = _setup(admin)
            program = world["program"]["id"]
            address = f"{unique('care')}@acme.example"
            admin.ok("POST", "/mail-addresses", 201, json={"program_id": program, "address": address,
                                                          "queue_id": world["first"]["id"],
                                                          "display_name": "Acme care"})
            admin.ok("POST", "/canned-responses", 201, json={
                "program_id": program, "name": "Refund",
                "body": "Dear {customer.first_name}, we have refunded the second charge."})
            desk = log_in(context, server, world["ann"]["username"])
            desk.evaluate("window.__pwned = false")
            _available(desk)

            question = f"<{unique('q')}@customer.example>"
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = "Dana Smith <dana@customer.example>", address, "Charged twice"
            mail["Message-ID"] = question
            mail.set_content("I was charged twice for October.")
            mail.add_alternative("<p>I was <b>charged twice</b> for October.</p><script>window.top.__pwned=true"
                                 "</script><img src=x onerror=\"window.top.__pwned=true\">", subtype="html")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
                client.send_message(mail)

            offer = desk.locator(".card.offer")
            offer.wait_for()
            assert "E-mail" in offer.inner_text() and "Dana Smith" in offer.inner_text()
            offer.get_by_role("button", name="Accept").click()
            desk.locator(".workspace iframe.mail-html").wait_for()
            frame = desk.frame_locator(".workspace iframe.mail-html")
            assert "charged twice" in frame.locator("body").inner_text()
            assert frame.locator("script").count() == 0  # sanitized on the server
            desk.wait_for_selector(".composer select[aria-label='Canned responses'] option:nth-child(2)",
                                   state="attached")
            desk.select_option(".composer select[aria-label='Canned responses']", label="Refund")
            assert desk.input_value(".composer textarea") == "Dear Dana, we have refunded the second charge."
            desk.get_by_role("button", name="Send reply").click()

            answer = wait_for(lambda: [m for m in sink.received if "refunded" in m.get_body(("plain",)).get_content()],
                              "the reply at the relay")[0]
            assert answer["In-Reply-To"] == question and question in answer["References"]
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
                back = EmailMessage()
                back["From"], back["To"], back["Subject"] = "dana@customer.example", address, str(answer["Subject"])
                back["Message-ID"], back["In-Reply-To"] = f"<{unique('a')}@customer.example>", answer["Message-ID"]
                back.set_content("Thank you, that was quick!")
                client.send_message(back)
            desk.wait_for_function("document.querySelector('ol.transcript').textContent.includes('that was quick')")
            screenshot(desk, "desk-email")
            assert desk.evaluate("window.__pwned") is False
    finally:
        context.close()
        server.stop()
        relay.stop()
