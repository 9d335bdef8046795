"""The admin pages as an admin uses them, in Chromium: each kind of setup made through its page and
checked through the API afterwards; a supervisor is turned away. A screenshot of every page goes to
artifacts/screenshots/admin-<page>.png (git-ignored) for a person to look at."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .support import PASSWORD, Api, Server, World, log_in, screenshot, unique

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# The same browser and launch flags as test_pages.py.



@pytest.fixture
def admin(browser: Any, server: Server) -> Iterator[Any]:
    """A page logged in as operator alpha's admin; fails the test on any script error in the page."""
    page = log_in(browser, server, server.seeded.admins["alpha"])
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete …?"
    yield page
    page.close()
    assert errors == [], errors


def _open(page: Any, server: Server, path: str) -> Any:
    page.goto(f"{server.base_url}{path}")
    form = page.locator("form.editor")
    form.locator("h2").wait_for()
    page.wait_for_load_state("networkidle")
    return form


def _save(page: Any, form: Any) -> None:
    page.evaluate("document.querySelector('#flash').textContent = ''")  # not the last save's message
    form.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_function("document.querySelector('#flash').textContent.startsWith('Saved')")


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"admin-{name}")


def _error_for(form: Any, field: str) -> Any:
    return form.locator(f".field-error[data-error-for='{field}']")


def test_admin_sets_up_a_client_a_program_with_dispositions_and_a_queue(admin: Any, server: Server, alpha: Api,
                                                                       world: World) -> None:
    admin.goto(f"{server.base_url}/admin")
    admin.get_by_role("link", name="Programs").first.wait_for()
    _shot(admin, "index")
    admin.get_by_role("navigation").get_by_role("link", name="Admin").click()  # the top menu leads here too
    admin.locator(".admin-tiles").get_by_role("link", name="Programs").click()
    form = admin.locator("form.editor")
    form.locator("h2").wait_for()

    client = unique("Client")
    admin.get_by_label("New client company").fill(client)
    admin.get_by_role("button", name="Add client").click()
    admin.locator("#tenants li", has_text=client).wait_for()
    tenant = next(t for t in alpha.ok("GET", "/tenants") if t["name"] == client)

    program_name = unique("Program")
    form.get_by_label("Client company").select_option(label=client)
    form.get_by_label("Name", exact=True).fill(program_name)
    form.get_by_role("button", name="Add disposition").click()
    form.get_by_label("disposition 1 code").fill("Resolved!")  # not a slug: refused, shown on the row
    form.get_by_label("disposition 1 label").fill("Resolved")
    form.get_by_role("button", name="Add disposition").click()
    form.get_by_label("disposition 2 code").fill("call-back")
    form.get_by_label("disposition 2 label").fill("Call back later")
    form.get_by_role("button", name="Save", exact=True).click()
    _error_for(form, "dispositions[0].code").wait_for()
    form.get_by_label("disposition 1 code").fill("resolved")
    _save(admin, form)  # changes the program made by the first attempt; does not make a second one

    [program] = alpha.ok("GET", "/programs", params={"tenant_id": tenant["id"]})
    assert program["name"] == program_name
    assert program["dispositions"] == [{"code": "resolved", "label": "Resolved"},
                                       {"code": "call-back", "label": "Call back later"}]
    admin.locator("table.list tr", has_text=program_name).wait_for()
    _shot(admin, "programs")

    form = _open(admin, server, f"/admin/dispositions?program={program['id']}")
    assert form.get_by_label("disposition 2 code").input_value() == "call-back"
    _shot(admin, "dispositions")

    form = _open(admin, server, f"/admin/queues?program={program['id']}")
    queue_name = unique("Queue")
    form.get_by_label("Name", exact=True).fill(queue_name)
    form.get_by_label("Strategy").select_option("most_skilled")
    form.get_by_role("button", name="Add skill").click()
    form.get_by_label("skill 1 name").select_option(world.skill)
    form.get_by_label("skill 1 level").select_option("2")
    form.get_by_label("Service level (seconds)").fill("30")
    _save(admin, form)
    [queue] = alpha.ok("GET", "/queues", params={"program_id": program["id"]})
    assert (queue["name"], queue["strategy"], queue["skills"], queue["service_level_seconds"]) == (
        queue_name, "most_skilled", {world.skill: 2}, 30)
    admin.locator("table.list tr", has_text=queue_name).wait_for()
    _shot(admin, "queues")


def test_the_workflow_editor_checks_expressions_as_the_admin_types(admin: Any, server: Server, alpha: Api,
                                                                  world: World) -> None:
    program, queue = world.programs["A"], world.queues["A"]
    form = _open(admin, server, f"/admin/workflows?program={program['id']}")
    name = unique("Workflow")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_role("button", name="Add route").click()
    form.get_by_label("Route 1 name").fill("spanish")
    form.get_by_label("Route 1 filter").fill("language == ")
    error = _error_for(form, "routes[0].filter")
    error.wait_for()  # no save: the check runs as she types
    assert "position 12" in error.inner_text()
    assert error.locator("pre.caret").inner_text() == "language == \n" + " " * 12 + "^"
    _shot(admin, "workflows")

    form.get_by_label("Route 1 filter").fill('language == "es"')
    error.wait_for(state="detached")
    form.get_by_label("Route 1 target 1 agent expression").fill("agent.skills.spanish >=")
    _error_for(form, "routes[0].targets[0].agent_expression").wait_for()
    form.get_by_label("Route 1 target 1 agent expression").fill("agent.skills.spanish >= 3")
    _error_for(form, "routes[0].targets[0].agent_expression").wait_for(state="detached")
    admin.locator("#check-status", has_text="valid").wait_for()
    form.get_by_label("Route 1 target 1 overflow after (s)").fill("45")
    form.get_by_label("The program's default workflow").check()
    _save(admin, form)

    saved = next(w for w in alpha.ok("GET", "/workflows", params={"program_id": program["id"]}) if w["name"] == name)
    assert saved["routes"] == [{"name": "spanish", "filter": 'language == "es"', "targets": [{
        "queue_id": queue["id"], "agent_expression": "agent.skills.spanish >= 3", "priority": None,
        "timeout_seconds": 45, "skip_if": None}]}]
    assert saved["default_target"]["queue_id"] == queue["id"]
    assert alpha.ok("GET", f"/programs/{program['id']}")["default_workflow_id"] == saved["id"]
    row = admin.locator("table.list tr", has_text=f"{name} (default)")
    row.get_by_role("button", name="Edit").click()
    form.locator("h2", has_text=f"Edit workflow: {name}").wait_for()
    assert form.get_by_label("Route 1 filter").input_value() == 'language == "es"'
    assert form.get_by_label("The program's default workflow").is_checked()
    form.get_by_label("Default skip if").fill("queue.waiting > 20")
    _save(admin, form)
    changed = alpha.ok("GET", f"/workflows/{saved['id']}")
    assert changed["default_target"]["skip_if"] == "queue.waiting > 20"
    assert changed["routes"] == saved["routes"]


def test_admin_adds_a_skill_an_agent_with_skills_and_a_login_and_a_pause_reason(admin: Any, server: Server,
                                                                                alpha: Api) -> None:
    skill = unique("spanish").lower()
    form = _open(admin, server, "/admin/skills")
    form.get_by_label("Name", exact=True).fill(skill)
    form.get_by_label("Description").fill("Speaks Spanish with customers")
    _save(admin, form)
    assert any(s["name"] == skill for s in alpha.ok("GET", "/skills"))
    _shot(admin, "skills")

    form = _open(admin, server, "/admin/agents")
    agent_name, username = unique("Agent Ana"), unique("ana")
    form.get_by_label("Name", exact=True).fill(agent_name)
    form.get_by_role("button", name="Add skill").click()
    form.get_by_label("skill 1 name").select_option(skill)
    form.get_by_label("skill 1 level").select_option("4")
    form.get_by_label("Languages").fill("en, es")
    form.get_by_label("chat capacity").fill("2")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(PASSWORD)
    _save(admin, form)
    agent = next(a for a in alpha.ok("GET", "/agents") if a["name"] == agent_name)
    assert (agent["skills"], agent["languages"], agent["capacity"]) == (
        {skill: 4}, ["en", "es"], {"voice": 1, "chat": 2, "email": 5})
    assert alpha.login(username).user["agent_id"] == agent["id"]  # her login works
    admin.locator("table.list tr", has_text=agent_name).get_by_text(username).wait_for()
    _shot(admin, "agents")

    form = _open(admin, server, "/admin/pause-reasons")
    code = unique("training").lower()
    form.get_by_label("Code").fill(code)
    form.get_by_label("Label").fill("Training session")
    form.get_by_label("Paid time").check()
    _save(admin, form)
    reason = next(r for r in alpha.ok("GET", "/pause-reasons") if r["code"] == code)
    assert (reason["label"], reason["paid"]) == ("Training session", True)
    _shot(admin, "pause-reasons")


def test_admin_writes_a_branching_script_an_article_a_canned_response_and_a_referral(
        admin: Any, server: Server, alpha: Api, world: World) -> None:
    program = world.programs["A"]["id"]
    form = _open(admin, server, f"/admin/scripts?program={program}")
    form.get_by_label("Name", exact=True).fill("Billing calls")
    form.get_by_label("Step 1 id").fill("greet")
    form.get_by_label("Step 1 title").fill("Greeting")
    form.get_by_label("Step 1 text").fill("Hello {customer.first_name}, how can I help?")
    form.get_by_role("button", name="Add step").click()
    form.get_by_label("Step 2 id").fill("Billing Step")  # not a slug
    form.get_by_label("Step 2 title").fill("Billing")
    form.get_by_label("Step 2 text").fill("Your reference is {interaction.reference}.")
    form.get_by_role("button", name="Add option to step 1").click()
    form.get_by_label("Step 1 option 1 label").fill("A billing question")
    form.get_by_role("button", name="Add option to step 1").click()
    form.get_by_label("Step 1 option 2 label").fill("Nothing else")
    form.get_by_label("Step 1 option 1 next").select_option(label="2. Billing Step — Billing")
    form.get_by_role("button", name="Save", exact=True).click()
    _error_for(form, "steps[1].id").wait_for()
    form.get_by_label("Step 2 id").fill("billing")  # the option follows the rename
    assert form.get_by_label("Step 1 option 1 next").locator("option:checked").inner_text() == "2. billing — Billing"
    _shot(admin, "scripts")
    _save(admin, form)
    [script] = alpha.ok("GET", "/scripts", params={"program_id": program})
    assert [s["id"] for s in script["steps"]] == ["greet", "billing"]
    assert script["steps"][0]["options"] == [{"label": "A billing question", "next": "billing"},
                                             {"label": "Nothing else", "next": None}]
    assert script["queue_id"] is None

    admin.locator("table.list tr", has_text="Billing calls").get_by_role("button", name="Edit").click()
    form.locator("h2", has_text="Edit script: Billing calls").wait_for()
    assert form.get_by_label("Step 2 text").input_value() == "Your reference is {interaction.reference}."
    assert form.get_by_label("Step 1 option 1 next").locator("option:checked").inner_text() == "2. billing — Billing"
    form.get_by_role("button", name="Remove option 2 of step 1").click()
    form.get_by_label("Name", exact=True).fill("Billing calls, short")
    _save(admin, form)
    [script] = alpha.ok("GET", "/scripts", params={"program_id": program})
    assert script["name"] == "Billing calls, short"
    assert script["steps"][0]["options"] == [{"label": "A billing question", "next": "billing"}]

    form = _open(admin, server, f"/admin/knowledge?program={program}")
    form.get_by_label("Title").fill("Power outage")
    form.get_by_label("Body").fill("Check the outage map before you dispatch a crew.")
    form.get_by_label("Tags").fill("emergency, outage")
    _save(admin, form)
    [article] = alpha.ok("GET", "/knowledge", params={"program_id": program})
    assert (article["title"], article["tags"]) == ("Power outage", ["emergency", "outage"])
    admin.get_by_label("Try the search").fill("outage map")
    admin.locator(".try-search li", has_text="Power outage").wait_for()
    _shot(admin, "knowledge")

    form = _open(admin, server, f"/admin/canned-responses?program={program}")
    form.get_by_label("Name", exact=True).fill("Thanks")
    form.get_by_label("Text").fill("Thank you {customer.first_name}, anything else?")
    _save(admin, form)
    [canned] = alpha.ok("GET", "/canned-responses", params={"program_id": program})
    assert canned["body"] == "Thank you {customer.first_name}, anything else?"
    _shot(admin, "canned-responses")

    form = _open(admin, server, f"/admin/referrals?program={program}")
    form.get_by_label("Name", exact=True).fill("Energy Assistance Fund")
    form.get_by_label("Phone").fill("+1 800 555 0100")
    form.get_by_label("When to use").fill("The customer cannot pay this month.")
    _save(admin, form)
    [referral] = alpha.ok("GET", "/referrals", params={"program_id": program})
    assert (referral["phone"], referral["url"], referral["when_to_use"]) == (
        "+1 800 555 0100", None, "The customer cannot pay this month.")
    _shot(admin, "referrals")

    # and taken away again from the list
    admin.locator("table.list tr", has_text="Energy Assistance Fund").get_by_role("button", name="Delete").click()
    admin.wait_for_function("document.querySelector('#flash').textContent.startsWith('Deleted')")
    assert alpha.ok("GET", "/referrals", params={"program_id": program}) == []


def test_a_supervisor_is_refused_the_admin_pages(browser: Any, server: Server, world: World) -> None:
    page = log_in(browser, server, world.user("supervisor").user["username"])
    assert page.get_by_role("link", name="Admin").count() == 0
    for path in ("/admin", "/admin/scripts"):
        page.goto(f"{server.base_url}{path}")
        assert page.url.endswith("/wallboard"), page.url
    page.close()
    anonymous = browser.new_page()
    anonymous.goto(f"{server.base_url}/admin/queues")
    assert anonymous.url.endswith("/login?next=/admin/queues")
    anonymous.close()
