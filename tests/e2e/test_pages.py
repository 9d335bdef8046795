"""The pages as a person uses them, in Chromium: log in, watch the wallboard move, take a call on
the agent desk. The server is the real `hearthline serve`; the browser is Debian's chromium."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest

from .support import Api, Server, World, log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]




def test_a_wrong_password_keeps_you_on_the_login_page_with_a_message(browser: Any, server: Server) -> None:
    page = browser.new_page()
    page.goto(f"{server.base_url}/wallboard")
    assert "/login" in page.url  # not logged in: sent to log in first
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".error")
    assert "Wrong username or password" in page.inner_text(".error")
    page.close()


def test_supervisor_wallboard_shows_waiting_contacts_live(browser: Any, server: Server, world: World,
                                                          alpha: Api, tmp_path: Any) -> None:
    supervisor = world.user("supervisor")
    page = log_in(browser, server, supervisor.user["username"])
    assert page.url.endswith("/wallboard")
    queue = world.queues["A"]
    tile = page.locator(f"[data-queue='{queue['id']}']")
    tile.wait_for()
    assert tile.locator("[data-field=waiting]").inner_text() == "0"
    for n in range(3):  # nobody is available: they wait
        alpha.ok("POST", "/interactions", 201, json={"program_id": world.programs["A"]["id"], "channel": "voice",
                                                    "queue_id": queue["id"], "customer": {"name": f"C{n}"}})
    # the page is not reloaded: the WebSocket brings the new numbers
    page.wait_for_function(
        f"document.querySelector(\"[data-queue='{queue['id']}'] [data-field=waiting]\").textContent === '3'")
    assert world.agent["name"] in page.inner_text("#agents")
    screenshot(page, "console-queues")
    page.close()


def test_client_viewer_sees_only_her_tenants_queues_and_no_agents(browser: Any, server: Server,
                                                                  world: World) -> None:
    page = log_in(browser, server, world.viewer_api.user["username"])
    page.locator(f"[data-queue='{world.queues['A']['id']}']").wait_for()
    assert page.locator(f"[data-queue='{world.queues['B']['id']}']").count() == 0
    assert page.locator("#agents").count() == 0
    page.close()


def test_agent_takes_a_call_from_offer_to_completion_on_her_desk(browser: Any, server: Server, world: World,
                                                                 alpha: Api) -> None:
    agent = world.agent_api
    alpha.ok("PATCH", f"/programs/{world.programs['A']['id']}", json={"dispositions": [
        {"code": "resolved", "label": "Resolved"}, {"code": "referred", "label": "Referred elsewhere"}]})
    page = log_in(browser, server, agent.user["username"])
    assert page.url.endswith("/agent")
    page.select_option("#state", "available")
    page.wait_for_function("document.querySelector('#mystate').textContent.startsWith('available')")

    created = alpha.ok("POST", "/interactions", 201, json={
        "program_id": world.programs["A"]["id"], "channel": "voice", "queue_id": world.queues["A"]["id"],
        "customer": {"name": "Rita Caller"}})
    offer = page.locator(".card.offer")
    offer.wait_for()
    assert "Rita Caller" in offer.inner_text()
    assert re.search(r"\d", page.inner_text(".countdown"))  # the answer-by countdown runs
    offer.get_by_role("button", name="Accept").click()

    contact = page.locator(".workspace")
    contact.wait_for()
    page.wait_for_function("document.querySelector('#mystate').textContent.startsWith('busy')")
    assert "Rita Caller" in page.inner_text("#tabs")  # her tab, and the open workspace
    contact.get_by_role("button", name="End call").click()
    page.get_by_role("button", name="Complete").wait_for()
    page.wait_for_selector("select.disposition option[value=referred]", state="attached")
    page.select_option("select.disposition", "referred")  # the program's list, on her desk
    page.fill("textarea.notes", "Sent to the energy fund; call back Friday")
    page.get_by_role("button", name="Complete").click()
    page.wait_for_function("document.querySelector('#tabs').textContent.includes('Nothing in hand')")

    done = alpha.ok("GET", f"/interactions/{created['id']}")
    assert done["state"] == "completed"
    assert done["agent_id"] == world.agent["id"]
    assert done["disposition"] == "referred"
    assert done["notes"] == "Sent to the energy fund; call back Friday"
    page.close()


def test_agent_refers_a_caller_to_a_resource_found_in_the_directory(browser: Any, server: Server, world: World,
                                                                     alpha: Api) -> None:
    program = world.programs["A"]["id"]
    alpha.ok("POST", "/referrals", 201, json={"program_id": program, "name": "Energy Assistance Fund",
                                              "phone": "+1 800 555 0100", "when_to_use": "cannot pay this month"})
    alpha.ok("POST", "/referrals", 201, json={"program_id": program, "name": "Gas emergency line",
                                              "phone": "+1 800 555 0199", "when_to_use": "smell of gas"})
    page = log_in(browser, server, world.agent_api.user["username"])
    page.select_option("#state", "available")
    page.wait_for_function("document.querySelector('#mystate').textContent.startsWith('available')")
    created = alpha.ok("POST", "/interactions", 201, json={
        "program_id": program, "channel": "voice", "queue_id": world.queues["A"]["id"],
        "customer": {"name": "Pat Worried"}})
    page.locator(".card.offer").get_by_role("button", name="Accept").click()
    contact = page.locator(".workspace")
    contact.wait_for()
    contact.get_by_role("button", name="Transfer…").click()
    page.fill(".transfer input[type=search]", "pay")
    page.wait_for_function("document.querySelectorAll('ul.referrals li').length === 1")
    assert "Energy Assistance Fund" in page.inner_text("ul.referrals")
    page.get_by_role("button", name="Refer to Energy Assistance Fund").click()
    page.wait_for_function("document.querySelector('#tabs').textContent.includes('Nothing in hand')")
    done = alpha.ok("GET", f"/interactions/{created['id']}")
    assert (done["state"], done["disposition"]) == ("completed", "referred")
    assert done["transfer"]["target"] == "+1 800 555 0100"
    assert done["transfer"]["note"] == "Energy Assistance Fund"
    page.close()


def test_supervisor_changes_an_agents_state_from_the_wallboard(browser: Any, server: Server, world: World,
                                                               alpha: Api) -> None:
    agent_id = world.agent["id"]
    alpha.ok("PUT", f"/agents/{agent_id}/state", json={"state": "available", "reason": None})
    page = log_in(browser, server, world.user("supervisor").user["username"])
    menu = page.locator(f"tr[data-agent='{agent_id}'] select.set-state")
    menu.wait_for()
    page.wait_for_selector(f"tr[data-agent='{agent_id}'] select.set-state option[value='paused:coaching']",
                           state="attached")
    menu.select_option("paused:coaching")  # called away for coaching
    deadline = time.monotonic() + 10
    state = alpha.ok("GET", f"/agents/{agent_id}/state")
    while state["state"] != "paused" and time.monotonic() < deadline:
        time.sleep(0.2)
        state = alpha.ok("GET", f"/agents/{agent_id}/state")
    assert (state["state"], state["reason"]) == ("paused", "coaching")
    # the grid follows over the WebSocket
    page.wait_for_function(
        f"document.querySelector(\"tr[data-agent='{agent_id}'] .pill\").textContent.includes('coaching')")
    alpha.ok("PUT", f"/agents/{agent_id}/state", json={"state": "offline", "reason": None})
    page.close()
