"""Scripts, fields, knowledge articles, canned responses and the search over knowledge and referrals
(hearthline.domain.content)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearthline.domain.content import (
    CannedResponse, KnowledgeArticle, Script, ScriptOption, ScriptStep, check_article, check_canned, check_script,
    fields_for, render, render_steps, search, snippet, steps_from_json, steps_to_json,
)
from hearthline.domain.errors import InvalidInput
from hearthline.domain.referrals import Referral


def step(ident: str, *nexts: str | None, text: str = "Say hello", title: str = "Step") -> ScriptStep:
    return ScriptStep(ident, title, text, tuple(ScriptOption(f"to {n}", n) for n in nexts))


def script(*steps: ScriptStep, name: str = "Billing") -> Script:
    return Script("s1", "op", "t", "p", None, name, steps)


def article(title: str, body: str = "", tags: tuple[str, ...] = (), ident: str | None = None) -> KnowledgeArticle:
    return KnowledgeArticle(ident or "a-" + title, "op", "t", "p", title, body, tags)


def referral(name: str, when: str = "") -> Referral:
    return Referral("r-" + name, "op", "t", "p", name, "+1 555 0100", None, when)


# ---- scripts --------------------------------------------------------------------------------------
def test_a_branching_script_is_accepted_and_starts_at_its_first_step():
    checked = check_script(script(step("greet", "verify", None), step("verify", "greet", None),
                                  name="  Billing  "))
    assert checked.start == "greet"
    assert checked.name == "Billing"


def test_steps_survive_the_trip_through_json():
    steps = (step("greet", "verify", None), step("verify"))
    assert steps_from_json(steps_to_json(steps)) == steps


@pytest.mark.parametrize(("steps", "field"), [
    ((), "steps"),
    (tuple(step(f"s{i}") for i in range(101)), "steps"),
    ((step("Greet"),), "steps[0].id"),
    ((step("greet"), step("greet")), "steps[1].id"),
    ((step("greet", "verify"), step("verify"), step("close", "nowhere")), "steps[2].options[0].next"),
    ((step("greet", text="x" * 5001),), "steps[0].text"),
    ((step("greet", title=" "),), "steps[0].title"),
    ((ScriptStep("greet", "Step", "", (ScriptOption("y" * 201),)),), "steps[0].options[0].label"),
    ((ScriptStep("greet", "Step", "", (ScriptOption(""),)),), "steps[0].options[0].label"),
    ((ScriptStep("greet", "Step", "", tuple(ScriptOption("x") for _ in range(21))),), "steps[0].options"),
])
def test_a_bad_script_is_refused_naming_the_field_by_its_path(steps, field):
    with pytest.raises(InvalidInput) as err:
        check_script(script(*steps))
    assert err.value.details["field"] == field


def test_a_script_needs_a_name():
    with pytest.raises(InvalidInput) as err:
        check_script(script(step("greet"), name=" "))
    assert err.value.details["field"] == "name"


def test_the_longest_step_text_allowed_is_5000_characters():
    check_script(script(step("greet", text="x" * 5000)))


def test_rendering_steps_fills_titles_texts_and_labels_but_keeps_the_links():
    steps = (ScriptStep("greet", "Hello {customer.first_name}", "Thanks for calling {program.name}.",
                        (ScriptOption("{customer.first_name} confirms", "greet"),)),)
    rendered = render_steps(steps, {"customer.first_name": "Rita", "program.name": "Acme Power"})
    assert rendered == (ScriptStep("greet", "Hello Rita", "Thanks for calling Acme Power.",
                                   (ScriptOption("Rita confirms", "greet"),)),)


# ---- render ---------------------------------------------------------------------------------------
def test_render_substitutes_known_fields_and_leaves_unknown_ones_visible():
    fields = {"customer.first_name": "Rita", "attributes.account_no": "A-17"}
    text = "Hi {customer.first_name}, account {attributes.account_no}; plan {customer.plan}."
    assert render(text, fields) == "Hi Rita, account A-17; plan {customer.plan}."


def test_double_braces_are_literal_braces():
    fields = {"x": "value"}
    assert render("{{x}} is written {{x}}, {x} is filled", fields) == "{x} is written {x}, value is filled"
    assert render("{{{x}}}", fields) == "{value}"


def test_braces_that_do_not_name_a_field_are_kept_as_written():
    assert render("{ spaced } {a-b} {} { {x", {"x": "no"}) == "{ spaced } {a-b} {} { {x"


def test_a_fields_value_is_not_rendered_again():
    assert render("{a}", {"a": "{b}", "b": "no"}) == "{b}"


@given(st.text(), st.dictionaries(st.text(), st.text()))
def test_render_never_raises(text, fields):
    assert isinstance(render(text, fields), str)


@given(st.text().filter(lambda s: "{" not in s and "}" not in s), st.dictionaries(st.text(), st.text()))
def test_a_text_without_braces_renders_to_itself(text, fields):
    assert render(text, fields) == text


@given(st.text())
def test_doubling_every_brace_escapes_any_text(text):
    escaped = text.replace("{", "{{").replace("}", "}}")
    assert render(escaped, {"customer.name": "X"}) == text


# ---- fields ---------------------------------------------------------------------------------------
INTERACTION = {"id": "3f2a9c81d0e94b7aa1c2", "channel": "voice",
               "customer": {"id": None, "name": "Rita Mae Caller", "email": "rita@example.com", "phone": "+1 555"},
               "attributes": {"account_no": "A-17", "verified": True, "balance": 12.5, "ivr": {"lang": "es"},
                              "empty": None}}


def test_fields_of_a_contact_without_a_customer_record():
    fields = fields_for(INTERACTION, None, "Alex Agent", "Acme Power")
    assert fields == {
        "customer.first_name": "Rita", "customer.last_name": "Mae Caller", "customer.name": "Rita Mae Caller",
        "customer.email": "rita@example.com", "customer.phone": "+1 555",
        "interaction.id": "3f2a9c81d0e94b7aa1c2", "interaction.reference": "3F2A9C81", "interaction.channel": "voice",
        "program.name": "Acme Power", "agent.name": "Alex Agent", "agent.first_name": "Alex",
        "attributes.account_no": "A-17", "attributes.verified": "true", "attributes.balance": "12.5",
        "attributes.ivr": '{"lang":"es"}',
    }


def test_the_customer_record_wins_and_brings_its_attributes():
    record = {"first_name": "Margaret", "last_name": "Caller", "email": "m@example.com", "phone": None,
              "attributes": {"plan": "Gold", "first_name": "shadowed"}}
    fields = fields_for(INTERACTION, record, "Alex Agent", "Acme Power")
    assert fields["customer.first_name"] == "Margaret"
    assert fields["customer.last_name"] == "Caller"
    assert fields["customer.name"] == "Margaret Caller"
    assert fields["customer.email"] == "m@example.com"
    assert fields["customer.phone"] == "+1 555"  # not on file: what the contact brought
    assert fields["customer.plan"] == "Gold"


def test_fields_without_a_value_are_left_out_so_render_shows_them():
    fields = fields_for({"id": "abc", "channel": "chat", "customer": {}, "attributes": {}}, None, None, None)
    assert fields == {"interaction.id": "abc", "interaction.reference": "ABC", "interaction.channel": "chat"}
    assert render("Hello {customer.first_name}", fields) == "Hello {customer.first_name}"


# ---- articles and canned responses ----------------------------------------------------------------
def test_an_article_is_tidied_tags_stripped_and_not_repeated():
    checked = check_article(article("  Late payment  ", "body", (" billing", "billing ", "fees")))
    assert checked.title == "Late payment"
    assert checked.tags == ("billing", "fees")


@pytest.mark.parametrize(("bad", "field"), [
    (article(" "), "title"),
    (article("x" * 201), "title"),
    (article("ok", "x" * 20_001), "body"),
    (article("ok", tags=tuple(f"t{i}" for i in range(21))), "tags"),
    (article("ok", tags=("fine", " ")), "tags[1]"),
    (article("ok", tags=("x" * 41,)), "tags[0]"),
])
def test_a_bad_article_is_refused_naming_the_field(bad, field):
    with pytest.raises(InvalidInput) as err:
        check_article(bad)
    assert err.value.details["field"] == field


@pytest.mark.parametrize(("name", "body", "field"), [
    ("", "Hello", "name"), ("x" * 201, "Hello", "name"), ("Greeting", "", "body"), ("Greeting", "x" * 10_001, "body"),
])
def test_a_bad_canned_response_is_refused_naming_the_field(name, body, field):
    with pytest.raises(InvalidInput) as err:
        check_canned(CannedResponse("c", "op", "t", "p", name, body))
    assert err.value.details["field"] == field


# ---- search ---------------------------------------------------------------------------------------
def test_search_needs_every_word_in_any_case_across_title_body_and_tags():
    outage = article("Power outage", "Check the outage map before dispatching.", ("emergency",))
    bill = article("Reading a bill", "The meter reading and the fees.", ("billing",))
    found = search([outage, bill], [], "OUTAGE emergency")
    assert [r["id"] for r in found] == [outage.id]
    assert search([outage, bill], [], "outage fees") == []


def test_title_matches_come_first_then_tags_then_the_rest_and_referrals_join_in():
    in_title = article("Payment plans", "How to set one up.")
    in_tags = article("Arrangements", "Spread the balance.", ("payment",))
    in_body = article("Hardship", "A payment holiday may be offered.")
    fund = referral("Payment assistance fund", "cannot pay")
    food = referral("Food bank", "payment for groceries is hard")
    found = search([in_body, in_tags, in_title], [food, fund], "payment")
    assert [(r["kind"], r["title"]) for r in found] == [
        ("referral", "Payment assistance fund"), ("article", "Payment plans"),  # title matches, by title
        ("article", "Arrangements"),  # in its tags
        ("referral", "Food bank"), ("article", "Hardship")]  # elsewhere, by title
    assert found[0]["target"] == "+1 555 0100"
    assert found[2]["tags"] == ["payment"]


def test_an_empty_query_lists_everything_by_title():
    found = search([article("b"), article("A")], [referral("c")], "  ")
    assert [r["title"] for r in found] == ["A", "b", "c"]


def test_the_snippet_is_at_most_200_characters_around_the_first_match():
    body = "Intro words. " * 40 + "The needle is here. " + "More words. " * 40
    [found] = search([article("Long read", body)], [], "needle")
    assert len(found["snippet"]) <= 200
    assert "The needle is here." in found["snippet"]
    assert found["snippet"].startswith("…") and found["snippet"].endswith("…")


def test_a_short_body_is_its_own_snippet_with_whitespace_collapsed():
    assert snippet("Check\n\nthe   map", ["map"]) == "Check the map"


@given(st.text(), st.lists(st.text(min_size=1).map(str.lower), max_size=3))
def test_a_snippet_never_exceeds_its_limit(text, words):
    assert len(snippet(text, words)) <= 200
