"""No 500 on any input: NUL characters, big bodies, huge numbers in URLs, CR/LF in `next`, and a property-based
test posting generated values into every form and every token route (no 5xx; no row written on a 4xx)."""

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.newsletter.links import manage_token
from app.suppression.models import Channel
from app.suppression.services import suppress
from app.tokens import NEWSLETTER_CONFIRM, RIGHTS_CONFIRM, RIGHTS_DOWNLOAD, RIGHTS_STATUS, sign
from app.urls import safe_next
from tests.conftest import csrf_token, submit_form
from tests.support.consent import choose
from tests.support.newsletter import subscriber
from tests.support.rights import confirmed_request, send_request, staff_client

NUL_FRENCH = "caractère nul"


def row_counts() -> dict[str, int]:
    """The number of rows of every table, read afresh."""
    db.session.remove()
    with db.engine.connect() as connection:
        return {table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in db.metadata.sorted_tables}


def test_nul_characters_in_a_field_are_a_400_in_french_and_store_nothing(app, client, policy):
    before = row_counts()
    response = send_request(client, name="Jeanne\x00Martin")
    assert response.status_code == 400 and NUL_FRENCH in response.get_data(as_text=True)
    response = submit_form(client, "/newsletter", {"email": "a@example.fr\x00", "lists": "actualites-produit",
                                                   "consent": "y"})
    assert response.status_code == 400 and NUL_FRENCH in response.get_data(as_text=True)
    assert client.get("/confidentialite?q=%00").status_code == 400
    assert client.get("/demande/abc%00def").status_code == 400
    assert row_counts() == before


def test_a_body_over_64_kb_is_a_413_page(client, policy):
    page = client.get("/contact").get_data(as_text=True)
    response = client.post("/contact", data={"csrf_token": csrf_token(page), "message": "x" * 70_000})
    assert response.status_code == 413 and "64\u00a0Ko" in response.get_data(as_text=True)
    big_body = client.post("/contact", data=b"--x\r\n" + b"x" * 5_000_000,
                           content_type="multipart/form-data; boundary=x")
    assert big_body.status_code == 413


def test_out_of_range_numbers_in_urls_are_404(client, policy):
    for url in ("/confidentialite/versions/99999999999999999999999", "/en/privacy/versions/2147483648",
                "/admin/directives/99999999999999999999/revoquer"):
        response = client.get(url) if "admin" not in url else client.post(url)
        assert response.status_code in (404, 405), url


def test_cr_lf_in_next_is_ignored(client, policy):
    assert safe_next("/admin/\r\nSet-Cookie: x=1", within="/admin") is None
    response = choose(client, "refuse_all", next_path="/confidentialite\r\nSet-Cookie: x=1")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    response = client.get("/admin/%0D%0ASet-Cookie:%20x=1")
    assert response.status_code in (302, 404) and "\n" not in response.headers.get("Location", "")
    page = client.get("/admin/connexion?next=/admin/%0D%0Ax").get_data(as_text=True)
    response = client.post("/admin/connexion?next=/admin/%0D%0Ax", data={
        "csrf_token": csrf_token(page), "email": "x@example.fr", "password": "nope"})
    assert response.status_code == 400


def multipart(fields: dict[str, str]) -> bytes:
    """A multipart body: a part without a name (a text, then a file), then the named fields."""
    parts = [b'Content-Disposition: form-data\r\n\r\nsans nom', b'Content-Disposition: form-data; filename="a.txt"'
             b'\r\nContent-Type: text/plain\r\n\r\nfichier sans nom']
    parts += [f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode() for name, value in
              fields.items()]
    return b"".join(b"--B\r\n" + part + b"\r\n" for part in parts) + b"--B--\r\n"


def test_multipart_parts_without_a_name_are_ignored_on_every_post_route(app, client, mailbox, policy):
    for url, fields in FORMS:
        response = client.post(url, data=multipart(dict.fromkeys(fields, "x")),
                               content_type="multipart/form-data; boundary=B")
        assert response.status_code < 500, url
    unsubscribe = "/newsletter/desabonnement/" + manage_token("personne@example.fr")
    response = client.post(unsubscribe, data=multipart({"List-Unsubscribe": "One-Click"}),
                           content_type="multipart/form-data; boundary=B")
    assert response.status_code < 500
    response = client.post("/newsletter", data=multipart({"form": "subscribe", "email": "jeanne@example.fr",
                                                          "lists": "actualites-produit", "consent": "y"}),
                           content_type="multipart/form-data; boundary=B")
    assert response.status_code == 303, "the named fields are read as ever"
    assert subscriber("jeanne@example.fr") is not None


TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=80),
    st.sampled_from(["", "\x00", "a\x00b", "a\r\nb", "9" * 40, "-1", "é" * 300, "<script>", "{{ 7*7 }}",
                     "jeanne@example.fr", "+33612345678", "06 12", "x" * 70_000, "%00", "../../etc/passwd"]),
)
TOKEN = st.one_of(TEXT.filter(lambda v: v and "/" not in v and "?" not in v and "#" not in v),
                  st.from_regex(r"\A[A-Za-z0-9_\-]{1,40}(\.[A-Za-z0-9_\-]{1,30}){0,3}\Z"))
# Every public form: its address and its fields (the CSRF token is added, valid).
FORMS = [
    ("/contact", ("name", "email", "phone", "kind", "message", "correction", "designated_name",
                  "designated_contact", "website")),
    ("/en/contact", ("name", "email", "kind", "message")),
    ("/newsletter", ("email", "phone", "lists", "consent", "form")),
    ("/cookies/choix", ("choice", "next")),
    ("/cookies", ("choice", "categories", "next")),
    ("/cookies/gpc", ("x",)),
    ("/admin/connexion", ("email", "password")),
]
TOKEN_ROUTES = ["/newsletter/confirmer/{}", "/newsletter/desabonnement/{}", "/newsletter/reabonnement/{}",
                "/newsletter/preferences/{}", "/demande/confirmer/{}", "/demande/{}", "/demande/dossier/{}",
                "/en/request/{}", "/en/request/confirm/{}"]


def check(response, before: dict[str, int]) -> None:
    """No 5xx, and nothing written when the answer is a refusal."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert row_counts() == before


@pytest.mark.fuzz
def test_generated_values_in_every_public_form(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        from app.policy.services import load_first_version

        load_first_version()
        token = csrf_token(client.get("/contact").get_data(as_text=True))

        @given(st.sampled_from(FORMS).flatmap(
            lambda form: st.tuples(st.just(form[0]), st.fixed_dictionaries(dict.fromkeys(form[1], TEXT)))))
        def post(target):
            url, data = target
            before = row_counts()
            check(client.post(url, data={"csrf_token": token, **data}), before)

        post()


@pytest.mark.fuzz
def test_generated_tokens_in_every_token_route(make_app, mailbox):
    app = make_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        token = csrf_token(client.get("/contact").get_data(as_text=True))
        confirmed_request(client, mailbox)
        genuine = [sign(purpose, "not-a-known-id") for purpose in (NEWSLETTER_CONFIRM, RIGHTS_CONFIRM,
                                                                   RIGHTS_STATUS, RIGHTS_DOWNLOAD)]
        genuine.append(manage_token("not-a-known-id", "actualites-produit"))

        @given(st.sampled_from(TOKEN_ROUTES), st.one_of(TOKEN, st.sampled_from(genuine)), st.booleans(),
               st.dictionaries(st.sampled_from(["email_on", "sms_on", "lists", "List-Unsubscribe"]), TEXT))
        def visit(route, value, post, data):
            url = route.format(value.replace("%", "%25"))
            before = row_counts()
            response = client.post(url, data={"csrf_token": token, **data}) if post else client.get(url)
            check(response, before)

        visit()


@pytest.mark.fuzz
def test_generated_values_in_the_back_office_forms(make_app, mailbox):
    app = make_app(RATELIMIT_ENABLED=False)
    with app.app_context():
        visitor = app.test_client()
        found = confirmed_request(visitor, mailbox, "rectif@example.fr", kind="rectification",
                                  correction="Mon nom", phone="+33612345678")
        suppress(Channel.EMAIL, email="rectif@example.fr", source="test")
        suppress(Channel.SMS, phone="+33612345678", source="test")
        db.session.commit()
        reference = found.reference
        staff = staff_client(app, "dpo")
        token = csrf_token(staff.get(f"/admin/demandes/{reference}").get_data(as_text=True))
        actions = {"rectifier": ("name", "email", "phone"), "note": ("text",), "prolonger": ("months", "reason"),
                   "effacer": (), "dossier": (), "opposition": (), "inconnue": ("x",)}

        @given(st.sampled_from(sorted(actions)).flatmap(lambda action: st.tuples(
            st.just(action), st.fixed_dictionaries(dict.fromkeys(actions[action], TEXT)))))
        def act(target):
            action, data = target
            before = row_counts()
            check(staff.post(f"/admin/demandes/{reference}/{action}", data={"csrf_token": token, **data}), before)

        act()

        @given(st.sampled_from(["refuser", "effacer"]), TEXT, TEXT.filter(lambda value: value != "1"))
        def ask(action, reason, confirmed):
            """Refusal and erasure unconfirmed: a confirmation page (or a form error, or a refusal), nothing done."""
            before = row_counts()
            response = staff.post(f"/admin/demandes/{reference}/{action}",
                                  data={"csrf_token": token, "reason": reason, "confirmed": confirmed})
            assert response.status_code < 500 and response.status_code != 303 and row_counts() == before

        ask()
