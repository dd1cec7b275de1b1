"""deploy/nginx.conf: Debian's nginx in front of a real gunicorn keeps each public page once per variant, never
keeps anything personal, and no visitor's headers change another visitor's page."""

import http.client
import io
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import built_app
from tests.support.nginx import ROOT, Gunicorn, Nginx

HOST = "www.k-inventory.com"
SITE_URL = f"http://{HOST}"
PAGE_CACHE_SECONDS = 2
POLICY_RECHECK_SECONDS = 1
SCHEMA = "nginx_site"  # the servers' own tables, in a PostgreSQL run (tests empty the worker's tables after each test)
PAGES = ["/", "/en/", "/confidentialite", "/en/privacy", "/confidentialite/versions", "/en/privacy/versions",
         "/confidentialite/versions/1", "/en/privacy/versions/1", "/cookies", "/en/cookies", "/newsletter",
         "/en/newsletter", "/contact", "/en/contact"]
PUBLIC = f"public, max-age=0, s-maxage={PAGE_CACHE_SECONDS}"
PRIVATE = "private, no-store"
ANALYTICS_TAG = "googletagmanager.com/gtag/js"  # on the page of a visitor who accepted the analytics category
TRACKERS = "_ga=GA1.1.1234567890.1765000000; _gcl_au=1.1.987654321.1765000000"


@dataclass
class Site:
    """nginx (deploy/nginx.conf) in front of gunicorn, and what a test needs to visit it and act as the operator."""

    nginx: Nginx
    gunicorn: Gunicorn
    env: dict[str, str]
    variants: dict[str, str] = field(default_factory=dict)  # "refused"/"accepted": a real `kinv_page` value


def own_database(tests_url: str, folder: Path) -> str:
    """The servers' database: a schema of their own beside the worker's tables, or a SQLite file of their own."""
    if not tests_url.startswith("postgresql"):
        return f"sqlite:///{folder / 'site.sqlite'}"
    run_sql(tests_url, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    url = sa.make_url(tests_url).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    return url.render_as_string(hide_password=False)


def run_sql(url: str, statement: str) -> None:
    """Run one statement on a database."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def migrate_and_publish(url: str, smtp_port: int) -> None:
    """Bring the database to the newest schema and publish the first policy version (`flask policy init`)."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.policy.services import load_first_version

    app = built_app(smtp_port, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision="heads")
        load_first_version()
        db.session.remove()
        db.engine.dispose()


def site_env(folder: Path, database_url: str) -> dict[str, str]:
    """gunicorn's and the operator's `flask` settings: one trusted proxy (nginx), the site's host, short delays,
    JSON logs (the request id of each line)."""
    return {"DATABASE_URL": database_url, "APP_ENV": "development", "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": secrets.token_urlsafe(48), "HASH_KEY": secrets.token_urlsafe(48), "FLASK_APP": "wsgi:app",
            "TRUSTED_PROXY_COUNT": "1", "TRUSTED_HOSTS": HOST, "SITE_URL": SITE_URL, "WEB_CONCURRENCY": "2",
            "PAGE_CACHE_SECONDS": str(PAGE_CACHE_SECONDS), "POLICY_RECHECK_SECONDS": str(POLICY_RECHECK_SECONDS),
            "LOG_FORMAT": "json", "GUNICORN_ACCESS_LOG": str(folder / "access.log")}


@pytest.fixture(scope="module")
def site(tmp_path_factory, migrated_database, smtp_server):
    """gunicorn (2 workers) and Debian's nginx in front with the shipped configuration, for this module. Their
    database is their own beside the worker's (the tests' tables are emptied after each test; these servers outlive
    one), migrated and given the first policy version."""
    folder = tmp_path_factory.mktemp("nginx-site")
    database = own_database(migrated_database, folder)
    migrate_and_publish(database, smtp_server.port)
    env = site_env(folder, database)
    gunicorn = Gunicorn(env, folder / "gunicorn.log")
    nginx = Nginx(folder / "nginx", f"127.0.0.1:{gunicorn.port}", HOST)
    try:
        gunicorn.start()
        nginx.start()
        served = Site(nginx, gunicorn, env)
        served.variants = {choice: chosen_variant(served, choice) for choice in ("refused", "accepted")}
        yield served
    finally:
        nginx.stop()
        gunicorn.stop()
        if database.startswith("postgresql"):
            run_sql(migrated_database, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def visit(site: Site, path: str, cookie: str = "", method: str = "GET", data: dict | None = None,
          **headers) -> requests.Response:
    """One request through nginx, as a browser at the site's address sends it."""
    sent = {"Host": HOST, **({"Cookie": cookie} if cookie else {}), **headers}
    return requests.request(method, site.nginx.url + path, headers=sent, data=data, allow_redirects=False,
                            timeout=15)


def chosen_variant(site: Site, choice: str) -> str:
    """The `kinv_page` cookie a visitor gets by pressing the banner's refuse-all or accept-all button."""
    button = {"refused": "refuse_all", "accepted": "accept_all"}[choice]
    answer = visit(site, "/cookies/choix", method="POST", data={"choice": button, "next": "/"})
    assert answer.status_code == 303, answer.text
    return answer.cookies["kinv_page"]


def variant_cookie(site: Site, variant: str | None) -> str:
    """The Cookie header of a visitor of that variant (none: no choice yet)."""
    return f"kinv_page={site.variants[variant]}" if variant else ""


def fresh(path: str) -> tuple[str, str]:
    """The page at an address nobody asked for yet (a query of its own, which the page may repeat), and that query."""
    token = f"visit{secrets.token_hex(6)}"
    return f"{path}?{token}=1", token


def raw_request(site: Site, *lines: str) -> http.client.HTTPResponse | None:
    """A request sent as written (absolute request line, repeated headers); None when nginx closes without answer."""
    with socket.create_connection(("127.0.0.1", site.nginx.port), timeout=15) as sock:
        sock.sendall("\r\n".join([*lines, "Connection: close", "", ""]).encode())
        received = []
        try:
            while chunk := sock.recv(65536):
                received.append(chunk)
        except ConnectionResetError:
            pass
    if not received:
        return None
    answer = http.client.HTTPResponse(RawSocket(b"".join(received)))
    answer.begin()
    return answer


class RawSocket:
    """Received bytes as http.client reads a socket."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, _mode: str) -> io.BytesIO:
        """The bytes, as a file."""
        return io.BytesIO(self.data)


def cache_status(answer) -> str | None:
    """What nginx did with the cache for this answer."""
    return answer.headers.get("X-Cache-Status")


@pytest.mark.parametrize("variant", [None, "refused", "accepted"])
@pytest.mark.parametrize("path", PAGES)
def test_a_second_visit_of_a_cacheable_page_is_a_hit_with_the_same_bytes(site, path, variant):
    address, _token = fresh(path)
    first = visit(site, address, variant_cookie(site, variant))
    second = visit(site, address, variant_cookie(site, variant))
    assert first.status_code == 200 and cache_status(first) == "MISS"
    assert first.headers["Cache-Control"] == PUBLIC and first.headers["Vary"] == "Cookie, Sec-GPC"
    assert "Set-Cookie" not in first.headers
    assert cache_status(second) == "HIT" and second.content == first.content
    assert second.headers["Cache-Control"] == PUBLIC


def test_each_variant_has_its_own_entry(site):
    address, _token = fresh("/")
    firsts = {variant: visit(site, address, variant_cookie(site, variant)) for variant in (None, "refused", "accepted")}
    assert [cache_status(answer) for answer in firsts.values()] == ["MISS"] * 3
    assert len({answer.content for answer in firsts.values()}) == 3
    assert ANALYTICS_TAG in firsts["accepted"].text and ANALYTICS_TAG not in firsts["refused"].text
    for variant, first in firsts.items():
        again = visit(site, address, variant_cookie(site, variant))
        assert cache_status(again) == "HIT" and again.content == first.content, variant


def test_an_expired_page_is_renewed_while_the_visitor_gets_the_kept_copy(site):
    address, _token = fresh("/cookies")
    first = visit(site, address)
    time.sleep(PAGE_CACHE_SECONDS + 1.1)  # nginx counts whole seconds
    on_expiry = visit(site, address)  # answered at once; one request to the app renews the entry behind it
    assert cache_status(on_expiry) in {"STALE", "UPDATING"} and on_expiry.content == first.content
    deadline = time.monotonic() + 5
    while cache_status(renewed := visit(site, address)) != "HIT" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache_status(renewed) == "HIT" and renewed.status_code == 200


def test_other_cookies_are_served_the_entry_of_their_variant(site):
    address, _token = fresh("/confidentialite")
    first = visit(site, address, variant_cookie(site, "accepted"))
    with_trackers = visit(site, address, f"{TRACKERS}; {variant_cookie(site, 'accepted')}")
    assert cache_status(first) == "MISS"
    assert cache_status(with_trackers) == "HIT" and with_trackers.content == first.content


def test_a_visitor_with_a_session_neither_reads_nor_fills_the_cache(site):
    login = visit(site, "/admin/connexion")
    session = f"session={login.cookies['session']}"
    address, _token = fresh("/confidentialite")
    cached = visit(site, address), visit(site, address)
    assert [cache_status(answer) for answer in cached] == ["MISS", "HIT"]
    for _ in range(2):
        answer = visit(site, address, session)
        assert answer.status_code == 200 and cache_status(answer) == "BYPASS"
        assert answer.headers["Cache-Control"] == PRIVATE
    other, _token = fresh("/cookies")
    assert cache_status(visit(site, other, session)) == "BYPASS"
    assert cache_status(visit(site, other)) == "MISS", "the session's answer was not stored"


@pytest.mark.parametrize("path", ["/admin/connexion", "/admin/", "/admin/journal"])
def test_the_back_office_is_never_cached(site, path):
    for _ in range(2):
        answer = visit(site, path)
        assert answer.status_code in (200, 302) and cache_status(answer) == "MISS"
        assert answer.headers["Cache-Control"] == PRIVATE


def test_posts_are_never_cached(site):
    for _ in range(2):
        answer = visit(site, "/newsletter", method="POST", data={"email": "not an address"})
        assert answer.status_code == 400 and answer.headers["Cache-Control"] == PRIVATE
        assert cache_status(answer) is None, "nginx keeps GET and HEAD answers only: a POST never meets the cache"
    choice = visit(site, "/cookies/choix", method="POST", data={"choice": "refuse_all", "next": "/"})
    assert choice.status_code == 303 and choice.headers["Cache-Control"] == PRIVATE and cache_status(choice) is None


@pytest.mark.parametrize("visitor", [{"Sec-GPC": "1"}, {"Cookie": TRACKERS}], ids=["gpc-recorded", "cookies-expired"])
def test_an_answer_that_sets_a_cookie_is_never_stored(site, visitor):
    address, _token = fresh("/")
    for _ in range(2):
        answer = visit(site, address, **visitor)
        assert answer.headers.get("Set-Cookie") and answer.headers["Cache-Control"] == PRIVATE
        assert cache_status(answer) == "MISS"


ATTACKS = {
    "SCRIPT_NAME": {"SCRIPT_NAME": "//attacker.example"},
    "Script-Name": {"Script-Name": "//attacker.example"},
    "X-Forwarded-Host": {"X-Forwarded-Host": "attacker.example"},
    "X-Forwarded-Proto": {"X-Forwarded-Proto": "https"},
    "X-Forwarded-For": {"X-Forwarded-For": "203.0.113.66"},
    "X-Forwarded-Prefix": {"X-Forwarded-Prefix": "//attacker.example"},
    "Forwarded": {"Forwarded": "for=203.0.113.66;host=attacker.example;proto=https"},
}


def assert_plain_page(attacked: requests.Response, attacked_token: str, site: Site, path: str) -> None:
    """The page is the one a plain visitor gets at another address (its query aside), naming nothing foreign."""
    clean, clean_token = fresh(path)
    reference = visit(site, clean)
    assert "attacker.example" not in attacked.text and ":1234" not in attacked.text
    assert attacked.text.replace(attacked_token, clean_token) == reference.text


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_clients_forwarding_headers_change_nobody_elses_page(site, attack):
    address, token = fresh("/confidentialite")
    assert visit(site, address, **ATTACKS[attack]).status_code == 200
    plain = visit(site, address)
    assert cache_status(plain) == "HIT", "the attacker's answer is the one stored"
    assert_plain_page(plain, token, site, "/confidentialite")


@pytest.mark.parametrize("host", ["www.k-inventory.com:1234", "WWW.K-INVENTORY.COM", "www.k-inventory.com."])
def test_another_port_or_spelling_of_the_host_gets_no_page(site, host):
    address, token = fresh("/")
    refused = visit(site, address, Host=host)
    assert refused.status_code == 421 and "K-Inventory" not in refused.text
    plain = visit(site, address)
    assert cache_status(plain) == "MISS"
    assert_plain_page(plain, token, site, "/")


@pytest.mark.parametrize("host", ["attacker.example", "127.0.0.1", "k-inventory.com"])
def test_an_unknown_host_gets_no_answer(site, host):
    with pytest.raises(requests.ConnectionError):
        visit(site, "/", Host=host)


def test_an_absolute_request_line_cannot_name_another_host(site):
    address, token = fresh("/")
    assert raw_request(site, "GET http://attacker.example/ HTTP/1.1", f"Host: {HOST}") is None
    misdirected = raw_request(site, f"GET http://{HOST}{address} HTTP/1.1", "Host: attacker.example")
    assert misdirected.status == 421
    plain = visit(site, address)
    assert cache_status(plain) == "MISS"
    assert_plain_page(plain, token, site, "/")


@pytest.mark.parametrize("cookie", ["KINV_PAGE={refused}; kinv_page={accepted}", "a=1,kinv_page={accepted}",
                                    'a="x; kinv_page={refused}"; kinv_page={accepted}', "a=1;\tkinv_page={accepted}"])
def test_cookies_nginx_and_the_app_would_read_differently_are_never_stored(site, cookie):
    address, _token = fresh("/")
    odd = visit(site, address, cookie.format(**site.variants))
    assert odd.status_code == 200 and cache_status(odd) == "BYPASS"
    for variant in ("refused", "accepted"):
        assert cache_status(visit(site, address, variant_cookie(site, variant))) == "MISS", variant


def test_cookies_in_two_headers_are_read_as_one_by_nginx_and_the_app(site):
    address, token = fresh("/")
    split = raw_request(site, f"GET {address} HTTP/1.1", f"Host: {HOST}", f"Cookie: {TRACKERS}",
                        f"Cookie: {variant_cookie(site, 'accepted')}")
    body = split.read().decode()
    assert split.status == 200 and split.getheader("X-Cache-Status") == "MISS"
    clean, clean_token = fresh("/")
    assert body.replace(token, clean_token) == visit(site, clean, variant_cookie(site, "accepted")).text
    assert cache_status(visit(site, address, variant_cookie(site, "accepted"))) == "HIT"


def test_each_answer_has_nginxs_request_id_which_the_app_logs(site):
    address, _token = fresh("/contact")
    first = visit(site, address, **{"X-Request-ID": "chosen-by-the-client-1"})
    second = visit(site, address)
    ids = [answer.headers["X-Request-ID"] for answer in (first, second)]
    assert [cache_status(first), cache_status(second)] == ["MISS", "HIT"]
    assert ids[0] != ids[1] and all(len(found) == 32 for found in ids) and "chosen-by-the-client-1" not in ids
    logged = [json.loads(line) for line in site.gunicorn.log.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == ids[0] and line.get("route") == "/contact" for line in logged)


def test_static_files_are_served_by_nginx(site):
    answer = visit(site, "/static/consent/banner.js")
    assert answer.status_code == 200 and answer.content == (ROOT / "static" / "consent" / "banner.js").read_bytes()
    assert answer.headers["Cache-Control"] == "no-cache" and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert cache_status(answer) is None and answer.headers["X-Request-ID"]
    assert visit(site, "/static/consent/none.js").status_code == 404


def publish_policy(site: Site, smtp_port: int, marker: str) -> float:
    """The operator publishes a new version (`flask policy publish`'s service) on the site's database; when it was
    done (time.monotonic())."""
    from app.extensions import db
    from app.policy.services import publish

    app = built_app(smtp_port, SQLALCHEMY_DATABASE_URI=site.env["DATABASE_URL"])
    with app.app_context():
        publish(f"{(ROOT / 'content' / 'policy' / 'v1' / 'fr.txt').read_text()}\n\n{marker}", "Nouvelle version")
        done = time.monotonic()
        db.session.remove()
        db.engine.dispose()
    return done


def shown_at(site: Site, marker: str, cookie: str, deadline: float) -> float:
    """When /confidentialite first showed the marker to a visitor (polled every 0.1 s until the deadline)."""
    while time.monotonic() < deadline:
        if marker in visit(site, "/confidentialite", cookie).text:
            return time.monotonic()
        time.sleep(0.1)
    return float("inf")


def test_a_new_policy_version_reaches_cached_visitors_within_the_cache_and_recheck_delays(site, smtp_server):
    """Last in this file: every test before it sees version 1 only."""
    visitors = ["", variant_cookie(site, "accepted")]
    for cookie in visitors:
        visit(site, "/confidentialite", cookie)
        assert cache_status(visit(site, "/confidentialite", cookie)) == "HIT"
    marker = f"Version-de-test-{secrets.token_hex(4)}"
    published = publish_policy(site, smtp_server.port, marker)
    bound = PAGE_CACHE_SECONDS + POLICY_RECHECK_SECONDS + 0.5  # 0.5 s: a request's own time and the poll's step
    for cookie in visitors:
        assert shown_at(site, marker, cookie, published + bound + 5) - published <= bound, cookie or "no choice yet"
