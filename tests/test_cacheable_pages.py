"""Public pages any HTTP cache can keep: the same bytes for every visitor of a variant (language, consent choice,
GPC), no cookie set by a plain GET, `public, s-maxage` on them and `private, no-store` on everything else."""

import pytest

from app import templating
from app.consent.register import REGISTER, VARIANT_COOKIE
from app.i18n import french_typography
from app.policy.services import publish
from tests.support.consent import all_choices, choose, give_cookie

PAGES = ["/confidentialite", "/en/privacy", "/", "/en/", "/cookies", "/en/cookies", "/contact", "/en/contact",
         "/newsletter", "/en/newsletter", "/confidentialite/versions", "/confidentialite/versions/1"]
VARIANTS = {
    "no choice": {},
    "all refused": {VARIANT_COOKIE: f"{REGISTER.version}~-~01"},
    "all accepted": {VARIANT_COOKIE: f"{REGISTER.version}~advertising.affiliation.analytics~01"},
    "analytics only": {VARIANT_COOKIE: f"{REGISTER.version}~analytics~01"},
}
OTHER_COOKIES = {"_ga": "GA1.1.123456.789", "_gcl_au": "1.1.987654321", "kinv_consent": "someone-elses-proof"}


def visit(app, path: str, cookies: dict, headers: dict | None = None):
    """A new visitor (a fresh client) asking for a page with these cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client.get(path, headers=headers or {})


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("path", PAGES)
def test_two_visitors_of_the_same_variant_get_the_same_bytes(app, policy, path, variant):
    first = visit(app, path, VARIANTS[variant])
    others = OTHER_COOKIES if variant == "all accepted" else {}  # tags' own cookies: not part of the variant
    second = visit(app, path, {**VARIANTS[variant], **others})
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    for name in ("Content-Security-Policy", "Cache-Control", "Vary", "Content-Type"):
        assert first.headers.get(name) == second.headers.get(name), name
    assert "Set-Cookie" not in first.headers
    assert first.headers["Cache-Control"] == "public, max-age=0, s-maxage=5"
    assert first.headers["Vary"] == "Cookie, Sec-GPC"


def test_each_variant_has_its_own_page(app, policy):
    pages = {name: visit(app, "/", cookies).get_data() for name, cookies in VARIANTS.items()}
    assert len(set(pages.values())) == len(VARIANTS)
    assert b'id="cc"' in pages["no choice"] and b'id="cc"' not in pages["all refused"]
    assert b"data-consent-tag" not in pages["all refused"] and b"data-consent-tag" in pages["all accepted"]
    refused = visit(app, "/cookies", VARIANTS["all refused"]).get_data()
    assert visit(app, "/cookies", {VARIANT_COOKIE: f"{REGISTER.version}~-~11"}).get_data() != refused  # GPC said


def test_the_gpc_signal_is_a_variant_of_its_own(app, policy):
    """Visitors who chose (so the signal records nothing more) and send GPC share a page of their own."""
    pages = []
    for _ in range(2):
        client = app.test_client()
        give_cookie(client, all_choices(False))
        pages.append(client.get("/cookies", headers={"Sec-GPC": "1"}))
    assert pages[0].get_data() == pages[1].get_data() != visit(app, "/cookies", VARIANTS["all refused"]).get_data()
    assert pages[0].headers["Vary"] == "Cookie, Sec-GPC" and "Set-Cookie" not in pages[0].headers


@pytest.mark.parametrize("path", ["/admin/connexion", "/cookies/mon-choix", "/demande/envoyee", "/page-inconnue"])
def test_other_pages_are_never_stored(client, policy, path):
    response = client.get(path)
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_visitor_with_a_session_gets_a_private_page(client, policy):
    """A flash after a form without JavaScript travels in the session: that answer is the visitor's own."""
    choose(client, "refuse_all", page="/confidentialite", next_path="/confidentialite")
    after = client.get("/confidentialite")
    assert "Vos choix en matière de cookies sont enregistrés" in after.get_data(as_text=True)
    assert after.headers["Cache-Control"] == "private, no-store"
    again = client.get("/confidentialite")  # the message shown once; the session cookie is still sent
    assert "sont enregistrés" not in again.get_data(as_text=True)


def test_a_post_and_a_gpc_record_are_private(client, policy):
    assert choose(client, "refuse_all").headers["Cache-Control"] == "private, no-store"
    first_sight = client.application.test_client().get("/", headers={"Sec-GPC": "1"})
    assert "kinv_consent=" in first_sight.headers["Set-Cookie"]
    assert first_sight.headers["Cache-Control"] == "private, no-store"


@pytest.fixture
def counted_typography(monkeypatch):
    """How many times the `typo` filter typesets a text."""
    calls = []

    def counting(text: str) -> str:
        calls.append(text)
        return french_typography(text)

    monkeypatch.setattr(templating, "french_typography", counting)
    return calls


def test_the_policy_text_is_typeset_once_per_version_and_language(client, policy, counted_typography):
    first = client.get("/confidentialite").get_data()
    typeset = len(counted_typography)
    assert typeset > 50  # every title, paragraph and list item of the policy
    again = client.get("/confidentialite").get_data()
    assert len(counted_typography) - typeset <= 2 * 9  # the contents and headings only, not the paragraphs
    assert again == first and "\u202f;".encode() in again


def test_a_new_version_is_served_at_once_by_the_publishing_process(client, app, policy):
    assert "Version</dt><dd>1<" in client.get("/confidentialite").get_data(as_text=True)
    publish(policy.text_fr.replace("K-Inventory", "K-Inventory.com", 1), "Précision du nom du site.")
    assert "Version</dt><dd>2<" in client.get("/confidentialite").get_data(as_text=True)
    assert "Cette version n’est plus en vigueur." in client.get("/confidentialite/versions/1").get_data(as_text=True)


def test_pages_with_a_query_string_keep_it_where_it_matters(client, policy):
    assert 'name="next" value="/contact"' in client.get("/cookies?next=/contact").get_data(as_text=True)
    assert 'name="next" value=""' in client.get("/cookies").get_data(as_text=True)
