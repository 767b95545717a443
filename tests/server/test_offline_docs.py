"""Nothing loads from elsewhere: the API explorer at /docs is served from the fastapi-offline
package's files under the pages' strict CSP, no page names an outside host, and /favicon.ico
answers. (The browser side, Swagger UI rendering with no CSP violation, is in
``browser/test_offline_pages.py``.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from goldsmith.server.headers import CSP

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
URL_ATTRS = {"src", "href", "action", "data", "poster", "srcset", "formaction"}


class _Urls(HTMLParser):
    """Every URL an HTML page names in an attribute (and in inline ``style`` or ``<style>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value and (name in URL_ATTRS or name.startswith("data-") and "url" in name):
                self.urls.append(value)
            if value and name == "style":
                self.urls += re.findall(r"url\(['\"]?([^'\")]+)", value)

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += re.findall(r"url\(['\"]?([^'\")]+)", data)


def _urls(html: str) -> list[str]:
    parser = _Urls()
    parser.feed(html)
    return parser.urls


def _external(urls: list[str]) -> list[str]:
    """The URLs that leave the server: with a scheme and host, or protocol-relative."""
    return [u for u in urls if re.match(r"^\s*([a-z][a-z0-9+.-]*:)?//", u, re.I)]


def _log_in_owner(env: Any) -> None:
    assert env.ok(
        "POST", "/users", "olive", json={"name": "oona", "role": "owner", "password": PASSWORD}
    )
    page = env.client.get("/login")
    (token,) = CSRF_FIELD.findall(page.text)
    form = {"username": "oona", "password": PASSWORD, "csrf": token}
    assert env.client.post("/login", data=form).status_code == 303


def test_docs_is_swagger_ui_from_this_server_under_the_strict_csp(api_env: Any) -> None:
    env = api_env
    r = env.client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text and "<style" not in r.text and " style=" not in r.text
    urls = _urls(r.text)
    assert _external(urls) == []
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', r.text)
    assert any(s.endswith("/swagger-ui-bundle.js") for s in scripts)
    assert "/static/api-docs.js" in scripts
    for url in urls:  # every asset the page names is served here
        asset = env.client.get(url)
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"]
        if url.endswith(".js"):
            assert "javascript" in kind, (url, kind)
            assert len(asset.content) > (100_000 if "swagger" in url else 100)
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
    # the explorer reads this server's OpenAPI document, which is still served
    (openapi,) = re.findall(r'data-openapi-url="([^"]+)"', r.text)
    spec = env.client.get(openapi).json()
    assert spec["info"]["title"] == "goldsmith" and "/api/v1/me" in spec["paths"]


def test_only_the_explorers_own_files_are_served(api_env: Any) -> None:
    env = api_env
    page = env.client.get("/docs").text
    (bundle,) = [u for u in _urls(page) if u.endswith("/swagger-ui-bundle.js")]
    folder = bundle.rsplit("/", 1)[0]
    assert env.client.get(bundle).headers["cache-control"].startswith("public")
    # only the explorer's two files, nothing else of the package or beside it
    for name in ("redoc.standalone.js", "favicon.png", "..%2F__init__.py", "x.js"):
        assert env.client.get(f"{folder}/{name}").status_code == 404, name


def test_fastapis_cdn_pages_are_gone(api_env: Any) -> None:
    env = api_env
    for path in ("/redoc", "/docs/oauth2-redirect"):
        r = env.client.get(path)
        assert r.status_code == 404, path
        assert "cdn.jsdelivr.net" not in r.text and "unpkg.com" not in r.text


def test_no_page_names_an_outside_host(api_env: Any) -> None:
    env = api_env
    pages = {"/login": env.client.get("/login"), "/docs": env.client.get("/docs")}
    _log_in_owner(env)
    for path in ("/", "/annotate", "/review", "/records", "/qa"):
        pages[path] = env.client.get(path)
    for path, r in pages.items():
        assert r.status_code == 200, (path, r.status_code)
        urls = _urls(r.text)
        assert urls, path
        assert _external(urls) == [], path
        for url in urls:  # and the style sheets they link import nothing from outside
            if url.endswith(".css"):
                css = env.client.get(url).text
                assert not re.search(r"@import|url\(\s*['\"]?\s*([a-z]+:)?//", css, re.I), url


def test_favicon(api_env: Any) -> None:
    env = api_env
    ico = env.client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    count = int.from_bytes(ico.content[4:6], "little")
    assert count >= 2 and b"\x89PNG" in ico.content
    login = env.client.get("/login").text
    (icon,) = re.findall(r'<link rel="icon" href="([^"]+)"', login)
    svg = env.client.get(icon)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "<script" not in svg.text
    assert _urls(env.client.get("/docs").text).count(icon) == 1
