"""The `hearthline` command as a newcomer runs it: db upgrade, operator and user create, demo."""
from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .support import free_port

pytestmark = pytest.mark.e2e


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTHLINE_")}
    env.update(extra)
    return env


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hearthline.entrypoints.cli", *args], capture_output=True,
                          text=True, env=env or _env(), timeout=120)


class Running:
    """A long-running `hearthline` subcommand, stopped with SIGTERM like Ctrl+C."""

    def __init__(self, args: list[str], log: Path, ready_text: str = "") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "hearthline.entrypoints.cli", *args,
                                             "--port", str(self.port)], env=_env(), stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90  # the demo hashes 23 passwords on its first start
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()
            try:
                up = httpx.get(self.base + "/healthz", timeout=1).status_code == 200
                if up and ready_text in log.read_text():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"did not start:\n{log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def login(self, client: httpx.Client, username: str, password: str) -> dict[str, str]:
        response = client.post(self.base + "/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_db_upgrade_then_operator_and_user_create_give_a_working_login(tmp_path: Path) -> None:
    data = str(tmp_path)
    upgraded = _cli("db", "upgrade", "--data-dir", data)
    assert upgraded.returncode == 0 and "newest schema" in upgraded.stdout
    operator = _cli("operator", "create", "Northwind Contact", "--data-dir", data)
    assert operator.returncode == 0, operator.stderr
    operator_id = operator.stdout.strip()
    made = _cli("user", "create", "--operator", operator_id, "--username", "boss", "--role", "admin",
                "--data-dir", data, env=_env(HEARTHLINE_NEW_PASSWORD="a-long-password"))
    assert made.returncode == 0, made.stderr
    refused = _cli("user", "create", "--operator", operator_id, "--username", "boss", "--role", "admin",
                   "--data-dir", data, env=_env(HEARTHLINE_NEW_PASSWORD="a-long-password"))
    assert refused.returncode == 1 and "conflict" in refused.stderr  # taken: a clear message, no traceback
    assert "Traceback" not in refused.stderr
    bad = _cli("serve", "--port", "not-a-port", "--data-dir", data)
    assert bad.returncode == 2 and "port" in bad.stderr

    server = Running(["serve", "--data-dir", data], tmp_path / "serve.log")
    try:
        with httpx.Client(timeout=30) as client:
            auth = server.login(client, "boss", "a-long-password")
            me = client.get(server.base + "/api/v1/auth/me", headers=auth).json()
            assert (me["username"], me["role"]) == ("boss", "admin")
            operator = client.get(server.base + "/api/v1/operator", headers=auth).json()
            assert (operator["id"], operator["name"]) == (operator_id, "Northwind Contact")
    finally:
        server.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data = tmp_path_factory.mktemp("demo")
    running = Running(["demo", "--data-dir", str(data), "--smtp-listen-port", str(free_port())], data / "demo.log",
                      ready_text="Press Ctrl+C")
    try:
        yield running
    finally:
        running.stop()


def test_demo_prints_where_to_go_and_who_to_log_in_as(demo: Running) -> None:
    text = demo.log.read_text()
    assert f"running at http://127.0.0.1:{demo.port}" in text
    for login in ("supervisor", "admin", "maria", "acme-viewer"):
        assert login in text


def test_demo_seeds_two_clients_and_twenty_agents_and_its_traffic_moves(demo: Running) -> None:
    with httpx.Client(timeout=30) as client:
        auth = demo.login(client, "supervisor", "hearthline")
        assert len(client.get(demo.base + "/api/v1/tenants", headers=auth).json()) == 2
        agents = client.get(demo.base + "/api/v1/stats/agents", headers=auth).json()
        assert len(agents) == 20
        deadline = time.monotonic() + 60
        offered = answered = 0
        while time.monotonic() < deadline and not (offered and answered):
            queues = client.get(demo.base + "/api/v1/stats/queues", headers=auth).json()
            offered = sum(q["offered"] for q in queues)
            answered = sum(q["answered"] for q in queues)
            time.sleep(1)
        assert len(queues) == 7
        assert offered > 0 and answered > 0  # simulated customers call and simulated agents answer
        # simulated chats are written: customers open with a message (scored for tone), agents answer
        chats: list = []
        while time.monotonic() < deadline + 60 and not chats:  # about four chats a minute arrive
            chats = client.get(demo.base + "/api/v1/interactions", params={"channel": "chat"}, headers=auth).json()
            time.sleep(1)
        assert chats
        opening = client.get(demo.base + f"/api/v1/interactions/{chats[0]['id']}/messages", headers=auth).json()
        assert opening[0]["sender"] == "customer" and opening[0]["sentiment"] is not None
        viewer = demo.login(client, "acme-viewer", "hearthline")
        seen = client.get(demo.base + "/api/v1/stats/queues", headers=viewer).json()
        assert {q["name"] for q in seen} == {"Billing", "Billing (Spanish)", "Sales chat", "Web chat",
                                             "Care email"}  # Acme's only


def test_demo_care_desk_takes_the_widgets_chat_and_mail_to_its_address(demo: Running) -> None:
    text = demo.log.read_text()
    try_chat = re.search(r"customer chat: open (\S+)", text)
    smtp = re.search(r"e-mail: send to (\S+) through SMTP 127\.0\.0\.1:(\d+)", text)
    assert try_chat and smtp, text
    with httpx.Client(timeout=30) as client:
        page = client.get(try_chat.group(1))
        assert page.status_code == 200 and '<script src="/widget.js" data-program=' in page.text
        auth = demo.login(client, "maria", "hearthline")
        me = client.get(demo.base + "/api/v1/auth/me", headers=auth).json()
        # an e-mail of Dana's waits for the care desk; her record and last week's mail are there
        client.put(demo.base + f"/api/v1/agents/{me['agent_id']}/state", headers=auth,
                   json={"state": "available", "reason": None})
        offers = _wait(lambda: client.get(demo.base + f"/api/v1/agents/{me['agent_id']}/offers",
                                          headers=auth).json())
        assert offers[0]["channel"] == "email" and offers[0]["customer"]["name"] == "Dana Smith"
        client.put(demo.base + f"/api/v1/agents/{me['agent_id']}/state", headers=auth,
                   json={"state": "offline", "reason": None})
        sup = demo.login(client, "supervisor", "hearthline")
        pop = client.get(demo.base + f"/api/v1/interactions/{offers[0]['interaction_id']}/customer", headers=sup).json()
        assert pop["record"]["external_id"] == "AC-10042" and len(pop["history"]) == 1
        # mail sent to the demo address over SMTP becomes care e-mail work
        with smtplib.SMTP("127.0.0.1", int(smtp.group(2)), timeout=10) as relay:
            relay.sendmail("pat@example.org", [smtp.group(1).rstrip(",;")],
                           b"From: Pat <pat@example.org>\r\nTo: help@acme-energy.example\r\n"
                           b"Subject: Moving in May\r\nMessage-ID: <pat-1@example.org>\r\n\r\n"
                           b"Hello, I am moving on May 3rd. Pat\r\n")
        mail = _wait(lambda: [i for i in client.get(demo.base + "/api/v1/interactions", headers=sup,
                                                    params={"channel": "email", "limit": 500}).json()
                              if i["customer"].get("email") == "pat@example.org"])
        assert mail[0]["attributes"].get("subject") == "Moving in May"


def _wait(read, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (found := read()):
        assert time.monotonic() < deadline, "nothing came"
        time.sleep(0.3)
    return found
