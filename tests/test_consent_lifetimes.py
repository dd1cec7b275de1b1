"""Every cookie a tag sets lives no longer than the register declares: the lifetime its snippet configures (or the
one its provider fixes) against the lifetime the register, and so the policy's cookie table, states."""

import json
import re

import pytest

from app.consent.register import REGISTER, Lifetime, Tag
from tests.support.consent import visible_text

DAY = 86_400
GOOGLE_DEFAULT_COOKIE_EXPIRES = 2 * 365 * DAY  # gtag.js's documented default (63,072,000 s), which we must override
TAGGED = [(category, service) for category in REGISTER.categories for service in category.services if service.tag]


def google_config(tag: Tag) -> dict:
    """The parameters of the `config` line of a Google tag's snippet."""
    match = re.fullmatch(r"gtag\('config','[A-Z]+-\w+',(\{.*\})\);", tag.snippet)
    assert match, tag.snippet
    return json.loads(match.group(1))


def configured_seconds(tag: Tag, cookie_name: str) -> int:
    """How long the tag makes a cookie live: set in its snippet, or fixed by its provider."""
    if cookie_name in tag.provider_lifetimes:
        return tag.provider_lifetimes[cookie_name].in_days() * DAY
    assert tag.google, f"{cookie_name}: neither configured in the snippet nor fixed by the provider"
    return google_config(tag).get("cookie_expires", GOOGLE_DEFAULT_COOKIE_EXPIRES)


@pytest.mark.parametrize(("category", "service"), TAGGED, ids=[service.key for _c, service in TAGGED])
def test_every_cookie_of_a_tag_lives_no_longer_than_declared(category, service):
    for cookie in service.cookies:
        seconds = configured_seconds(service.tag, cookie.name)
        declared = cookie.lifetime
        assert seconds <= declared.in_days() * DAY, f"{cookie.name}: {seconds / DAY:.0f} days > {declared.in_days()}"
        assert seconds >= 0.97 * declared.in_days() * DAY - DAY, f"{cookie.name}: far shorter than {declared}"
        assert not declared.too_long


@pytest.mark.parametrize("key", ["google_analytics", "google_ads"])
def test_google_tags_set_cookie_expires_in_seconds_and_do_not_renew_it(key):
    service = next(service for _category, service in TAGGED if service.key == key)
    config = google_config(service.tag)
    first_party = [cookie for cookie in service.cookies if cookie.first_party]
    assert {config["cookie_expires"]} == {cookie.lifetime.seconds for cookie in first_party}
    assert config["cookie_update"] is False
    assert "gtag('js'" not in service.tag.snippet  # started once, by the first Google tag of the page


def test_declared_lifetimes_are_the_documented_ones():
    lifetimes = {cookie.name: cookie.lifetime for category in REGISTER.categories for cookie in category.cookies}
    assert lifetimes["_ga"] == lifetimes["_ga_*"] == Lifetime(13, "month")
    assert google_config(TAGGED[0][1].tag)["cookie_expires"] == 390 * DAY  # 13 months of 30 days
    assert lifetimes["_gcl_au"] == lifetimes["_gcl_*"] == Lifetime(90, "day")
    assert lifetimes["_fbp"] == lifetimes["_fbc"] == Lifetime(90, "day")  # no option in Meta's pixel
    assert lifetimes["_aw_m_*"] == Lifetime(12, "month") and lifetimes["_aw_j_*"] == Lifetime(3, "month")


def test_a_google_tag_left_to_its_default_would_be_caught():
    tag = Tag(src="https://www.googletagmanager.com/gtag/js?id=G-X", snippet="gtag('config','G-X',{});", google=True)
    assert configured_seconds(tag, "_ga") == GOOGLE_DEFAULT_COOKIE_EXPIRES > Lifetime(13, "month").in_days() * DAY


@pytest.mark.parametrize(("lifetime", "seconds"), [
    (Lifetime(13, "month"), 33_696_000), (Lifetime(90, "day"), 7_776_000), (Lifetime(), 0),
])
def test_lifetime_in_seconds_never_exceeds_the_calendar_months(lifetime, seconds):
    assert lifetime.seconds == seconds
    assert lifetime.seconds <= lifetime.in_days() * DAY


@pytest.mark.parametrize(("path", "expected"), [
    ("/confidentialite", ("13 mois", "90 jours", "12 mois", "_aw_j_*")),
    ("/en/cookies", ("13 months", "90 days", "12 months", "_aw_j_*")),
])
def test_the_cookie_tables_show_the_lifetimes_the_tags_are_configured_with(client, policy, path, expected):
    text = visible_text(client.get(path).get_data(as_text=True))
    for fragment in expected:
        assert fragment in text
