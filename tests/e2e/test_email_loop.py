"""The e-mail loop with the real server: `hearthline serve` with its SMTP listener on a free port
and an aiosmtpd sink in this test as its relay. A customer writes with smtplib, an agent takes the
contact and answers through the API, the sink receives the answer threaded to the customer's
mail, and the customer's reply to it lands in the same interaction."""
from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from .support import Server, free_port, make_world, unique

pytestmark = pytest.mark.e2e


class Sink:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 2.0.0 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def customer_mail(to: str, subject: str, text: str, message_id: str, in_reply_to: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Dana Smith <dana@customer.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(text)
    return msg


def test_a_mail_an_agents_answer_and_the_customers_reply_make_one_thread(tmp_path: Path, sink) -> None:
    relay, relay_port = sink
    smtp_port = free_port()
    server = Server(tmp_path, {
        "HEARTHLINE_SMTP_LISTEN_PORT": str(smtp_port), "HEARTHLINE_SMTP_RELAY_HOST": "127.0.0.1",
        "HEARTHLINE_SMTP_RELAY_PORT": str(relay_port), "HEARTHLINE_SMTP_RELAY_SECURITY": "none",
        "HEARTHLINE_MAIL_DOMAIN": "hearthline.test", "HEARTHLINE_OFFER_TIMEOUT_SECONDS": "120",
    }).start()
    try:
        with server.client() as http:
            admin = server.admin(http)
            world = make_world(admin)
            address = f"{unique('help')}@tenant-a.example"
            made = admin.ok("POST", "/mail-addresses", 201, json={
                "program_id": world.programs["A"]["id"], "address": address.upper(),
                "queue_id": world.queues["A"]["id"], "display_name": "Tenant A help"})
            assert made["address"] == address and made["auto_acknowledge"] is True
            bad = admin.post("/mail-addresses", json={"program_id": world.programs["A"]["id"], "address": "nope"})
            assert bad.status_code == 422 and bad.json()["details"]["field"] == "address"
            box = admin.ok("POST", "/mailboxes", 201, json={
                "program_id": world.programs["A"]["id"], "host": "imap.tenant-a.example", "username": "help",
                "password": "never-shown", "address": address})
            assert "password" not in box and "never-shown" not in admin.get("/mailboxes").text
            admin.ok("PATCH", f"/mailboxes/{box['id']}", json={"host": "127.0.0.1", "port": free_port(),
                                                                "security": "none"})
            polled = admin.ok("POST", f"/mailboxes/{box['id']}/poll")  # nothing listens there
            assert polled["taken"] == 0 and "could not connect" in polled["mailbox"]["last_error"]
            admin.ok("DELETE", f"/mailboxes/{box['id']}", 204)
            assert world.agent_api.get("/mail-addresses").status_code == 403

            agent, me = world.agent_api, world.agent["id"]
            agent.ok("PUT", f"/agents/{me}/state", json={"state": "available"})
            question = f"<{unique('q')}@customer.example>"
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
                client.send_message(customer_mail(address, "My bill is wrong", "I was charged twice.", question))
            [offer] = wait_for(lambda: agent.ok("GET", f"/agents/{me}/offers"), "the offer")
            interaction_id = offer["interaction_id"]
            accepted = agent.ok("POST", f"/agents/{me}/offers/{offer['id']}/accept")
            assert accepted["channel"] == "email" and accepted["customer"]["email"] == "dana@customer.example"
            first, ack = agent.ok("GET", f"/interactions/{interaction_id}/messages")
            assert first["body"] == "I was charged twice." and first["email"]["message_id"] == question
            assert ack["sender"] == "system" and interaction_id[:8].upper() in ack["body"]

            reply = agent.ok("POST", f"/interactions/{interaction_id}/messages", 201,
                             json={"body": "We refunded the second charge."})
            assert reply["email"]["in_reply_to"] == question and reply["email"]["delivery"] == "pending"
            reply_id = reply["email"]["message_id"]
            assert reply_id.endswith("@hearthline.test>")
            sent = wait_for(lambda: [m for m in relay.received if m["Message-ID"] == reply_id], "the answer")[0]
            assert sent["In-Reply-To"] == question and question in sent["References"]
            assert sent["To"] == "Dana Smith <dana@customer.example>"
            assert sent["From"].addresses[0].addr_spec == address and "Tenant A help" in str(sent["From"])
            assert "We refunded the second charge." in sent.get_body(("plain",)).get_content()
            wait_for(lambda: agent.ok("GET", f"/interactions/{interaction_id}/messages")[-1]["email"]["delivery"]
                     == "sent", "the delivery status")

            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
                client.send_message(customer_mail(address, str(sent["Subject"]), "Thank you!",
                                                  f"<{unique('a')}@customer.example>", in_reply_to=reply_id))
            messages = wait_for(lambda: [m for m in agent.ok("GET", f"/interactions/{interaction_id}/messages")
                                         if m["body"] == "Thank you!"], "the customer's answer")
            assert messages[0]["sender"] == "customer" and messages[0]["email"]["in_reply_to"] == reply_id
            emails = admin.ok("GET", "/interactions", params={"channel": "email"})
            assert [i["id"] for i in emails if i["program_id"] == world.programs["A"]["id"]] == [interaction_id]
    finally:
        server.stop()
    assert "Traceback" not in server.log()
