"""The referral directory's own rules: what an entry needs, and how search ranks."""
from __future__ import annotations

import pytest

from hearthline.domain.errors import InvalidInput
from hearthline.domain.referrals import Referral, check_referral, search


def entry(name: str, when: str = "", phone: str | None = "+1 555 0100", url: str | None = None) -> Referral:
    return Referral("id-" + name, "op", "t", "p", name, phone, url, when)


def test_search_finds_every_word_in_name_or_guidance_and_puts_name_matches_first():
    food = entry("Food bank", "customer cannot afford groceries")
    bill = entry("Bill assistance", "customer cannot pay; food or bill hardship")
    gas = entry("Gas emergency line", "smell of gas")
    assert search([gas, bill, food], "FOOD") == [food, bill]  # name match first, then guidance
    assert search([gas, bill, food], "cannot pay") == [bill]
    assert search([gas, bill, food], "") == [bill, food, gas]  # all, by name
    assert search([gas, bill, food], "pizza") == []


def test_an_entry_without_a_phone_is_reached_at_its_web_address():
    assert entry("Web only", phone=None, url="https://help.example.org").target == "https://help.example.org"
    assert entry("Both", url="https://help.example.org").target == "+1 555 0100"


@pytest.mark.parametrize(("referral", "field"), [
    (entry(" "), "name"),
    (entry("Nowhere", phone=None), "phone"),
    (entry("Letters", phone="call us"), "phone"),
    (entry("FTP", phone=None, url="ftp://files.example.org"), "url"),
    (entry("Chatty", when="x" * 1001), "when_to_use"),
])
def test_a_bad_entry_is_refused_naming_the_field(referral, field):
    with pytest.raises(InvalidInput) as err:
        check_referral(referral)
    assert err.value.details["field"] == field
