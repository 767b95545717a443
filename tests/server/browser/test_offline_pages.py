"""Offline and hardening in a real Chromium (issue 20, item 6): the API explorer at /docs
renders this server's operations from local files with no CSP violation and no failed
request; no page asks for anything that is missing (the favicon included); the page's
"Log out" works, while a log-out POST without the CSRF token is refused and leaves the
session open (checked in the store). Screenshots go to $GOLDSMITH_TEST_SHOTS (default
/tmp/goldsmith-shots)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from goldsmith import Project
from goldsmith.errors import AuthenticationError

pytestmark = pytest.mark.browser
Site = Any  # conftest.Site
Serve = Callable[..., Site]
SHOTS = Path(os.environ.get("GOLDSMITH_TEST_SHOTS", "/tmp/goldsmith-shots")) / "offline"
USERS = {"olive": "owner", "alice": "annotator"}
CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


class Watch:
    """Everything that goes wrong on a page: failed or 4xx/5xx requests, requests to other
    hosts, console errors and CSP violations.

    A request the next navigation cancels (`net::ERR_ABORTED`, most often the favicon,
    which Chromium asks for after the load) is a problem only if that address never loaded
    at all; `problems` holds those too."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self._problems: list[str] = []
        self.requested: list[str] = []
        self.aborted: set[str] = set()
        self.loaded: set[str] = set()
        page.add_init_script(CSP_WATCH)
        page.on("requestfailed", self._failed)
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("console", self._console)

    @property
    def problems(self) -> list[str]:
        never_loaded = sorted(self.aborted - self.loaded)
        return self._problems + [f"aborted and never loaded {url}" for url in never_loaded]

    def _failed(self, request: Any) -> None:
        if request.failure == "net::ERR_ABORTED":
            self.aborted.add(request.url)
        else:
            self._problems.append(f"failed {request.url} {request.failure}")

    def _request(self, request: Any) -> None:
        self.requested.append(request.url)
        host = urlsplit(request.url)
        if request.url.startswith(("http:", "https:")) and (
            f"{host.scheme}://{host.netloc}" != self.origin
        ):
            self._problems.append(f"outside request {request.url}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self._problems.append(f"{response.status} {response.url}")
        else:
            self.loaded.add(response.url)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self._problems.append(f"console {message.type}: {message.text}")

    def visit(self, path: str) -> None:
        self.page.goto(f"{self.origin}{path}")
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.__csp || []")
        self._problems += [f"CSP violation on {path}: {v}" for v in violations]


def _site(make_project: Callable[..., Project], serve: Serve) -> Site:
    proj = make_project({"name": "label", "kind": "label", "labels": ["pos", "neg"]})
    proj.add_records([{"fields": {"text": f"record {i}"}} for i in range(3)])
    return serve(proj, users=USERS)


def _watched(make_project: Callable[..., Project], serve: Serve) -> tuple[Site, Page, Watch]:
    """A served project and a laptop-size page on it, watched from its first request."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    site = _site(make_project, serve)
    context = site.browser.new_context(viewport={"width": 1366, "height": 850})
    site.contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return site, page, Watch(page, site.url)


def _session_token(page: Page) -> str:
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "gs_session"]
    return str(cookie["value"])


def _session_open(root: Path, token: str) -> bool:
    with Project.open(root) as proj:
        try:
            proj.session_user(token)
        except AuthenticationError:
            return False
    return True


def test_docs_render_offline_under_the_csp(
    make_project: Callable[..., Project], serve: Serve
) -> None:
    site, page, watch = _watched(make_project, serve)
    watch.visit("/docs")
    blocks = page.locator(".opblock")
    expect(blocks.first).to_be_visible()
    assert blocks.count() >= 20
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/queue/next")).to_have_count(1)
    page.screenshot(path=SHOTS / "docs.png")
    # an operation opens and shows its parameters and responses
    page.locator(".opblock-summary", has_text="/api/v1/me").first.click()
    expect(page.locator(".opblock.is-open .responses-wrapper").first).to_be_visible()
    page.screenshot(path=SHOTS / "docs-operation.png")
    violations = page.evaluate("window.__csp")
    assert violations == [] and watch.problems == [], (violations, watch.problems)
    assert any(u.endswith("/swagger-ui-bundle.js") for u in watch.requested)
    assert any(u.endswith("/openapi.json") for u in watch.requested)


def test_no_page_asks_for_anything_missing(
    make_project: Callable[..., Project], serve: Serve
) -> None:
    site, page, watch = _watched(make_project, serve)
    watch.visit("/login")
    page.fill("input[name=username]", "olive")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/")
    for path in ("/", "/annotate", "/review", "/records", "/qa", "/docs"):
        watch.visit(path)
    page.screenshot(path=SHOTS / "last-page.png")
    icon = page.request.get(f"{site.url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    assert any(u.endswith("/static/favicon.svg") for u in watch.requested)
    assert watch.problems == []


def test_log_out_needs_the_csrf_token(make_project: Callable[..., Project], serve: Serve) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    site = _site(make_project, serve)
    page = site.login("alice")
    token = _session_token(page)
    assert _session_open(site.root, token)
    # a POST without the token, as a cross-site form would send it: refused, session kept
    refused = page.request.post(f"{site.url}/logout", form={}, max_redirects=0)
    assert refused.status == 403
    assert _session_open(site.root, token)
    page.evaluate(  # a form with no token submitted in the browser: the refusal page
        """() => { const f = document.createElement("form"); f.method = "post";
        f.action = "/logout"; document.body.append(f); f.submit(); }"""
    )
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("CSRF token")
    page.screenshot(path=SHOTS / "logout-refused.png")
    assert _session_open(site.root, token)
    page.goto(f"{site.url}/annotate")
    expect(page.locator(".who")).to_contain_text("alice")
    page.screenshot(path=SHOTS / "still-logged-in.png")
    # the page's own button carries the token: the session ends, in the store too
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{site.url}/login")
    page.screenshot(path=SHOTS / "logged-out.png")
    assert not _session_open(site.root, token)
    assert [c for c in page.context.cookies() if c["name"] == "gs_session"] == []
    page.goto(f"{site.url}/annotate")
    page.wait_for_url(f"{site.url}/login")
