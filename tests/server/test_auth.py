"""Logging in through the real form, sessions and CSRF, the login limit (per name and
address, trusted proxies), security headers, and how credentials are stored (hashed
passwords, digested keys and session tokens)."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from goldsmith import Project
from goldsmith.cli import app
from goldsmith.errors import ConfigError
from goldsmith.server import ServerSettings
from goldsmith.server.client_address import ClientAddress

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def _cookie_attrs(response: httpx.Response, name: str) -> dict[str, str]:
    """Attributes of the ``Set-Cookie`` header for ``name`` (lower-cased keys)."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            parts = [p.strip() for p in header.split(";")]
            attrs = {"value": parts[0].split("=", 1)[1]}
            for p in parts[1:]:
                key, _, value = p.partition("=")
                attrs[key.lower()] = value
            return attrs
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


def _add_login_user(env: Any, name: str = "lena", role: str = "annotator") -> None:
    body = {"name": name, "role": role, "password": PASSWORD}
    assert env.ok("POST", "/users", "olive", json=body)["password"] == PASSWORD


def _login_form(env: Any) -> str:
    page = env.client.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    (token,) = CSRF_FIELD.findall(page.text)
    cookie = _cookie_attrs(page, "gs_login_csrf")
    assert cookie["value"] == token
    assert "httponly" in cookie and cookie["samesite"].lower() == "strict"
    return token


def _login(env: Any, name: str = "lena", password: str = PASSWORD) -> httpx.Response:
    token = _login_form(env)
    form = {"username": name, "password": password, "csrf": token}
    return env.client.post("/login", data=form)


def _session_csrf(env: Any) -> str:
    page = env.client.get("/annotate")
    assert page.status_code == 200, page.text
    (token,) = CSRF_META.findall(page.text)
    return str(token)


# ---------------------------------------------------------------- logging in


def test_login_through_the_form_sets_a_strict_httponly_session(api_env: Any) -> None:
    env = api_env
    _add_login_user(env)
    r = _login(env)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = _cookie_attrs(r, "gs_session")
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert "secure" not in cookie  # ServerSettings(secure_cookies=False), plain http in tests
    assert env.client.cookies.get("gs_session") == cookie["value"]
    # the session works for the API and the pages
    assert env.client.get("/api/v1/me").json() == {"name": "lena", "role": "annotator"}
    overview = env.client.get("/")
    assert overview.status_code == 200 and "lena" in overview.text
    assert CSRF_META.search(overview.text)
    assert env.client.get("/login").status_code == 303  # already logged in
    # one session row, holding only the digest of the cookie token
    rows = env.query("SELECT digest FROM sessions")
    assert [row.digest for row in rows] == [hashlib.sha256(cookie["value"].encode()).hexdigest()]


def test_secure_cookies_when_configured(make_api_env: Any) -> None:
    env = make_api_env(records=0, server={"secure_cookies": True})
    _add_login_user(env)
    env.client.base_url = "https://testserver"  # secure cookies come back only over https
    r = _login(env)
    assert r.status_code == 303
    assert "secure" in _cookie_attrs(r, "gs_session")
    assert env.client.get("/api/v1/me").json()["name"] == "lena"


def test_sessions_last_session_seconds_on_the_server_too(make_api_env: Any) -> None:
    """``ServerSettings.session_seconds`` must bound the session itself, not only the cookie's
    Max-Age: a copied cookie must stop working when the session is meant to end."""
    env = make_api_env(records=0, server={"session_seconds": 60})
    _add_login_user(env)
    before = time.time()
    r = _login(env)
    assert r.status_code == 303
    assert _cookie_attrs(r, "gs_session")["max-age"] == "60"
    (expires,) = [row[0] for row in env.query("SELECT expires_at FROM sessions")]
    assert before + 59 <= expires <= time.time() + 61, f"session ends in {expires - before:.0f} s"


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user"])
def test_bad_login_is_a_401_page(api_env: Any, who: str) -> None:
    env = api_env
    _add_login_user(env)
    name, password = (
        ("lena", "not the password") if who == "wrong-password" else ("nobody", PASSWORD)
    )
    r = _login(env, name, password)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("text/html")
    assert "wrong user name or password" in r.text
    assert "gs_session" not in env.client.cookies
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 0


@pytest.mark.parametrize("csrf", ["", "forged-token"])
def test_login_form_needs_its_csrf_token(api_env: Any, csrf: str) -> None:
    env = api_env
    _add_login_user(env)
    _login_form(env)
    r = env.client.post("/login", data={"username": "lena", "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 403
    assert "gs_session" not in env.client.cookies
    # and without the pre-login cookie, even a token taken from a page is refused
    token = _login_form(env)
    env.client.cookies.clear()
    r = env.client.post("/login", data={"username": "lena", "password": PASSWORD, "csrf": token})
    assert r.status_code == 403
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 0


def test_failed_logins_are_rate_limited_per_user(make_api_env: Any) -> None:
    env = make_api_env(records=0, server={"login_failures": 3, "login_window": 60})
    _add_login_user(env)
    for _ in range(3):
        assert _login(env, "lena", "guess guess").status_code == 401
    r = _login(env, "lena", PASSWORD)  # the right password, too late
    assert r.status_code == 429
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 61
    assert "too many failed logins" in r.text
    assert "gs_session" not in env.client.cookies
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 0


def _client_at(env: Any, host: str) -> TestClient:
    """A second client of ``env``'s app whose requests come from the peer address ``host``."""
    return TestClient(env.app, client=(host, 40000), follow_redirects=False)


def _login_from(
    client: httpx.Client, name: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    """Log in through the form with ``client``, sending ``headers`` with both requests."""
    page = client.get("/login", headers=headers)
    (token,) = CSRF_FIELD.findall(page.text)
    form = {"username": name, "password": password, "csrf": token}
    return client.post("/login", data=form, headers=headers)


def test_one_users_failed_logins_never_lock_out_another_user(api_env: Any) -> None:
    """Issue 20: five typos of one person locked everyone behind the same address out (the
    limit counted failures per address). The limit keys on name plus address now."""
    env = api_env  # the default settings: 5 failures in 300 s
    _add_login_user(env, "lena")
    _add_login_user(env, "oscar", "owner")
    for _ in range(5):
        assert _login(env, "lena", "typo typo").status_code == 401
    assert _login(env, "lena", PASSWORD).status_code == 429  # lena is locked here...
    r = _login(env, "oscar", PASSWORD)  # ...her colleague at the same address is not
    assert r.status_code == 303, r.text
    assert env.client.get("/api/v1/me").json() == {"name": "oscar", "role": "owner"}
    rows = env.query("SELECT u.name FROM sessions s JOIN users u ON u.id = s.user_id")
    assert [row.name for row in rows] == ["oscar"]


def test_a_locked_name_logs_in_again_once_the_window_has_passed(make_api_env: Any) -> None:
    env = make_api_env(records=0, server={"login_failures": 2, "login_window": 5.0})
    _add_login_user(env)
    for _ in range(2):
        assert _login(env, "lena", "typo typo").status_code == 401
    r = _login(env, "lena", PASSWORD)
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 6
    time.sleep(5.1)
    assert _login(env, "lena", PASSWORD).status_code == 303
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 1


def test_a_locked_name_still_logs_in_from_another_address(make_api_env: Any) -> None:
    env = make_api_env(records=0, server={"login_failures": 3, "login_window": 60})
    _add_login_user(env)
    attacker, lena = _client_at(env, "198.51.100.66"), _client_at(env, "192.0.2.10")
    for _ in range(3):
        assert _login_from(attacker, "lena", "guess guess").status_code == 401
    assert _login_from(attacker, "lena", PASSWORD).status_code == 429
    assert _login_from(lena, "lena", PASSWORD).status_code == 303
    assert lena.get("/api/v1/me").json()["name"] == "lena"
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 1


def test_the_address_limit_stops_spraying_but_not_users_who_logged_in_there(
    make_api_env: Any,
) -> None:
    """Many names from one address lock that address for names that have not logged in
    from it; the team members who have logged in there keep logging in."""
    env = make_api_env(
        records=0, server={"login_failures": 3, "login_address_failures": 4, "login_window": 60}
    )
    _add_login_user(env, "lena")
    _add_login_user(env, "oscar", "owner")
    office = _client_at(env, "203.0.113.9")
    assert _login_from(office, "lena", PASSWORD).status_code == 303
    office.cookies.clear()
    for name in ("x1", "x2", "x3", "root"):  # one guess per name: spraying
        assert _login_from(office, name, "Summer2026!").status_code == 401
    r = _login_from(office, "x5", "Summer2026!")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # a name with no login from this address is refused like any unknown one...
    assert _login_from(office, "oscar", PASSWORD).status_code == 429
    # ...but lena, who logged in here before, is held only by her own limit
    assert _login_from(office, "lena", "typo typo").status_code == 401
    assert _login_from(office, "lena", PASSWORD).status_code == 303
    # and elsewhere nothing is locked
    assert _login_from(_client_at(env, "192.0.2.10"), "oscar", PASSWORD).status_code == 303
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 3


def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_api_env: Any) -> None:
    """Without trusted proxies a client cannot escape its limit by inventing addresses."""
    env = make_api_env(records=0, server={"login_failures": 3, "login_window": 60})
    _add_login_user(env)
    client = _client_at(env, "198.51.100.66")
    for i in range(3):
        r = _login_from(client, "lena", "guess guess", **{"X-Forwarded-For": f"10.9.9.{i}"})
        assert r.status_code == 401
    r = _login_from(client, "lena", PASSWORD, **{"X-Forwarded-For": "10.9.9.200"})
    assert r.status_code == 429
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 0


def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_api_env: Any) -> None:
    env = make_api_env(
        records=0,
        server={"login_failures": 3, "login_window": 60, "trusted_proxies": ("10.0.0.0/8",)},
    )
    _add_login_user(env)
    proxy = _client_at(env, "10.0.0.2")

    def via_proxy(client_ip: str, password: str, spoofed: str = "") -> int:
        chain = f"{spoofed}, {client_ip}, 10.0.0.7" if spoofed else f"{client_ip}, 10.0.0.7"
        return _login_from(proxy, "lena", password, **{"X-Forwarded-For": chain}).status_code

    for i in range(3):  # the attacker makes up the left part of the chain each time
        assert via_proxy("198.51.100.66", "guess guess", spoofed=f"192.0.2.{i}") == 401
    assert via_proxy("198.51.100.66", PASSWORD, spoofed="192.0.2.99") == 429
    assert via_proxy("203.0.113.5", PASSWORD) == 303  # lena at her own desk
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 1


def test_client_address_reads_forwarded_for_from_the_right() -> None:
    trusting = ClientAddress(["10.0.0.0/8", "2001:db8::/32"])
    assert trusting.of("10.1.2.3", ["198.51.100.1, 203.0.113.5"]) == "203.0.113.5"
    assert trusting.of("10.1.2.3", ["198.51.100.1", "203.0.113.5, 10.0.0.4"]) == "203.0.113.5"
    assert trusting.of("10.1.2.3", ["10.0.0.9, 10.0.0.4"]) == "10.0.0.9"  # all trusted
    assert trusting.of("10.1.2.3", []) == "10.1.2.3"
    assert trusting.of("::ffff:10.1.2.3", ["[2001:db9::1]:443"]) == "2001:db9::1"
    assert trusting.of("2001:db8::5", ["203.0.113.5:5555"]) == "203.0.113.5"
    assert trusting.of("198.51.100.1", ["203.0.113.5"]) == "198.51.100.1"  # untrusted peer
    assert trusting.of(None, ["203.0.113.5"]) == "unknown"
    assert ClientAddress([]).of("10.1.2.3", ["203.0.113.5"]) == "10.1.2.3"


@pytest.mark.parametrize("bad", ["10.0.0.300", "proxy.local", "10.0.0.0/33"])
def test_a_bad_trusted_proxy_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(repr(bad))):
        ServerSettings(project_root=Path("."), trusted_proxies=("10.0.0.1", bad))


@pytest.mark.parametrize("how", ["option", "env"])
def test_serve_refuses_a_bad_trusted_proxy_before_serving(tmp_path: Path, how: str) -> None:
    Project.init(tmp_path / "p", template="classification", labels=["a", "b"]).close()
    args = ["serve", "-p", str(tmp_path / "p"), "--port", "1"]
    env = {"GOLDSMITH_TRUSTED_PROXIES": "10.0.0.1, nginx.local"}
    if how == "option":
        args += ["--trusted-proxies", env["GOLDSMITH_TRUSTED_PROXIES"]]
    result = CliRunner().invoke(app, args, env=env if how == "env" else {})
    assert result.exit_code == 1, result.output
    assert "trusted proxy 'nginx.local' is not an IP address" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_trusted_proxies_travel_to_workers() -> None:
    settings = ServerSettings(project_root=Path("p"), trusted_proxies=("10.0.0.1", "fd00::/8"))
    again = ServerSettings.from_json(settings.to_json())
    assert again == settings and again.trusted_proxies == ("10.0.0.1", "fd00::/8")


def test_logout_invalidates_the_session(api_env: Any, api_error: Any) -> None:
    """The page's "Log out" button is a plain form POST carrying the session's CSRF token as
    the ``csrf`` field (base.html); no script adds an ``X-CSRF-Token`` header to it."""
    env = api_env
    _add_login_user(env)
    assert _login(env).status_code == 303
    old = env.client.cookies["gs_session"]
    csrf = _session_csrf(env)
    r = env.client.post("/logout", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 0
    env.client.cookies.clear()
    env.client.cookies.set("gs_session", old)  # replay the old cookie
    assert api_error(env.client.get("/api/v1/me")) == (401, "unauthenticated")
    assert env.client.get("/").headers["location"] == "/login"


def test_logout_with_the_csrf_header_too_invalidates_the_session(
    api_env: Any, api_error: Any
) -> None:
    env = api_env
    _add_login_user(env)
    assert _login(env).status_code == 303
    old = env.client.cookies["gs_session"]
    csrf = _session_csrf(env)
    r = env.client.post("/logout", data={"csrf": csrf}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "gs_session" not in env.client.cookies
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 0
    env.client.cookies.set("gs_session", old)
    assert api_error(env.client.get("/api/v1/me")) == (401, "unauthenticated")


@pytest.mark.parametrize(
    "sent",
    [{}, {"data": {"csrf": "forged"}, "headers": {"X-CSRF-Token": "forged"}}],
    ids=["no-token", "forged-token"],
)
def test_logout_without_the_token_is_refused_and_keeps_the_session(
    api_env: Any, sent: dict[str, Any]
) -> None:
    """Issue 20: ``POST /logout`` was accepted without the CSRF token (it answered like a
    logout and dropped the cookie). A cross-site form cannot log a user out: 403, and the
    session and its cookie stay."""
    env = api_env
    _add_login_user(env)
    assert _login(env).status_code == 303
    old = env.client.cookies["gs_session"]
    r = env.client.post("/logout", **sent)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "CSRF token" in r.text and "Not allowed" in r.text
    assert "gs_session" not in r.headers.get("set-cookie", "")
    assert env.query("SELECT count(*) FROM sessions")[0][0] == 1
    assert env.client.cookies["gs_session"] == old
    assert env.client.get("/api/v1/me").json()["name"] == "lena"


def test_logout_of_an_ended_session_just_clears_the_cookie(api_env: Any) -> None:
    env = api_env
    env.client.cookies.set("gs_session", "a-session-that-ended")
    r = env.client.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert 'gs_session=""' in r.headers["set-cookie"]


@pytest.mark.parametrize("path", ["/", "/annotate"])
def test_pages_redirect_to_login_when_logged_out(api_env: Any, path: str) -> None:
    env = api_env
    r = env.client.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    env.client.cookies.set("gs_session", "forged-session-token")
    r = env.client.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # a bearer key does not open the pages: they are for browser sessions
    env.client.cookies.clear()
    r = env.client.get(path, headers=env.auth("olive"))
    assert r.status_code == 303


# ---------------------------------------------------------------- CSRF on cookie sessions


def test_cookie_writes_need_the_csrf_header(api_env: Any, api_error: Any) -> None:
    env = api_env
    _add_login_user(env, "oscar", "owner")
    assert _login(env, "oscar").status_code == 303
    csrf = _session_csrf(env)
    body = {"markdown": "# from the page"}
    r = env.client.put("/api/v1/guidelines", json=body)
    assert api_error(r) == (403, "csrf_failed")
    r = env.client.put("/api/v1/guidelines", json=body, headers={"X-CSRF-Token": "wrong" + csrf})
    assert api_error(r) == (403, "csrf_failed")
    r = env.client.put("/api/v1/guidelines", json=body, headers={"X-CSRF-Token": ""})
    assert api_error(r) == (403, "csrf_failed")
    assert env.query("SELECT count(*) FROM guidelines")[0][0] == 0
    rid = env.record_ids[0]
    answer = {"values": {"label": "onco"}}
    r = env.client.put(f"/api/v1/records/{rid}/response", json=answer)
    assert api_error(r) == (403, "csrf_failed")
    r = env.client.post("/api/v1/users/oscar/keys")
    assert api_error(r) == (403, "csrf_failed")
    assert env.query("SELECT count(*) FROM responses")[0][0] == 0
    # reads need no token; writes with the right one go through
    assert env.client.get("/api/v1/guidelines").status_code == 200
    ok = env.client.put("/api/v1/guidelines", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json() == {"version": 1}
    # a bearer request needs no CSRF token, even with a session cookie around
    r = env.client.put("/api/v1/guidelines", json={"markdown": "v2"}, headers=env.auth("olive"))
    assert r.status_code == 200 and r.json() == {"version": 2}


def test_the_csrf_token_of_one_session_does_not_work_for_another(
    api_env: Any, api_error: Any
) -> None:
    env = api_env
    _add_login_user(env, "lena")
    _add_login_user(env, "oscar", "owner")
    assert _login(env, "lena").status_code == 303
    lena_csrf = _session_csrf(env)
    env.client.cookies.clear()
    assert _login(env, "oscar").status_code == 303
    r = env.client.put(
        "/api/v1/guidelines", json={"markdown": "x"}, headers={"X-CSRF-Token": lena_csrf}
    )
    assert api_error(r) == (403, "csrf_failed")


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("path", ["/login", "/", "/annotate"])
def test_html_pages_carry_security_headers(api_env: Any, path: str) -> None:
    env = api_env
    if path != "/login":
        _add_login_user(env)
        assert _login(env).status_code == 303
    r = env.client.get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    api = env.api("GET", "/me", "olive")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_annotate_page_renders_guidelines_safely(api_env: Any) -> None:
    env = api_env
    markdown = (
        "# Guide\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(2)) [good](https://x.org)"
    )
    env.ok("PUT", "/guidelines", "olive", json={"markdown": markdown})
    _add_login_user(env)
    assert _login(env).status_code == 303
    page = env.client.get("/annotate").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert 'href="javascript:' not in page
    assert '<a href="https://x.org">good</a>' in page
    # the task JSON embedded in the page cannot close its script element
    assert "</script><script" not in page


def test_task_json_in_the_page_cannot_break_out(make_api_env: Any) -> None:
    task = {
        "name": "</script><script>alert(1)</script>",
        "fields": [{"name": "text", "kind": "text"}],
        "questions": [{"name": "label", "kind": "label", "labels": ["a</script>", "b&c"]}],
    }
    env = make_api_env(records=0, task=task)
    _add_login_user(env)
    assert _login(env).status_code == 303
    page = env.client.get("/annotate").text
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == page.count("<script")


# ---------------------------------------------------------------- how credentials are stored


def _database_bytes(env: Any) -> bytes:
    """Every byte the store holds: the SQLite files, or every PostgreSQL row as text."""
    if env.db.backend == "sqlite":
        return b"".join(p.read_bytes() for p in sorted(env.root.glob("goldsmith.db*")))
    tables = [
        row[0]
        for row in env.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :s",
            s=env.db.schema,
        )
    ]
    assert {"users", "api_keys", "sessions"} <= set(tables)
    rows = [str(row[0]) for t in tables for row in env.query(f'SELECT t::text FROM "{t}" AS t')]
    return "\n".join(rows).encode()


def test_passwords_are_argon2id_hashes_and_never_stored_plain(api_env: Any) -> None:
    env = api_env
    _add_login_user(env)  # POST /users with a password
    generated = env.ok("POST", "/users", "olive", json={"name": "gen"})["password"]
    with env.project() as proj:  # and through the library
        proj.add_user("libby", "reviewer", "another secret pw")
    rows = {r.name: r.password_hash for r in env.query("SELECT name, password_hash FROM users")}
    for name in ("lena", "gen", "libby"):
        assert rows[name].startswith("$argon2id$"), rows[name]
    assert len({rows["lena"], rows["gen"], rows["libby"]}) == 3
    assert _login(env).status_code == 303  # the hash verifies
    assert env.client.cookies["gs_session"]
    stored = _database_bytes(env)
    for secret in (PASSWORD, generated, "another secret pw"):
        assert secret.encode() not in stored


def test_api_keys_and_session_tokens_are_stored_as_digests(api_env: Any) -> None:
    env = api_env
    new_key = env.ok("POST", "/users/alice/keys", "alice")["key"]
    _add_login_user(env)
    assert _login(env).status_code == 303
    session = env.client.cookies["gs_session"]
    digests = {r.digest for r in env.query("SELECT digest FROM api_keys")}
    for key in [*env.keys.values(), new_key]:
        assert hashlib.sha256(key.encode()).hexdigest() in digests
    prefixes = {r.prefix for r in env.query("SELECT prefix FROM api_keys")}
    assert all(len(p) <= 8 for p in prefixes)
    stored = _database_bytes(env)
    for secret in [*env.keys.values(), new_key, session]:
        assert secret.encode() not in stored
        assert secret[4:].encode() not in stored  # not even without the gsk_ prefix
