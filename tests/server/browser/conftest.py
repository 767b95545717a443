"""Browser tests of the annotation page: the real server in a thread, a real Chromium.

Every test builds its own project in ``tmp_path``, starts uvicorn on a free port, logs in
through the real ``/login`` form and drives the page with real key presses. Afterwards it
reads the database through :class:`~goldsmith.Project`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect

from goldsmith import Project
from goldsmith.config import write_config
from goldsmith.schema import Response
from goldsmith.server import ServerSettings, create_app

PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving ``create_app`` for one project, in a background thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(ServerSettings(project_root=root)),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws="none",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Session:
    """A logged-in page on a live server over one project."""

    page: Page
    server: LiveServer
    root: Path
    errors: list[str]
    user: str = "alice"
    role: str = "annotator"

    def responses(self, user: str = "alice") -> dict[int, Response]:
        """``user``'s stored responses by record id, read straight from the store."""
        with Project.open(self.root) as proj:
            return {r.record_id: r for r in proj.responses(user=user)}

    def name(self, record_id: int) -> str:
        """How the page names record ``record_id`` for this user: an annotator's opaque
        handle (the page never shows a database id to annotators), else the id."""
        if self.role != "annotator":
            return str(record_id)
        with Project.open(self.root) as proj:
            return proj.record_handle(self.user, record_id)

    def wait_record(self, record_id: int) -> None:
        """Wait until the page shows record ``record_id`` and is idle."""
        meta = self.page.locator("#record-meta")
        expect(meta).to_have_attribute("data-record", self.name(record_id))
        expect(meta).to_contain_text("in your queue")
        expect(self.page.locator("#app")).to_have_attribute("aria-busy", "false")

    def wait_done(self) -> None:
        expect(self.page.locator("#done")).to_be_visible()
        expect(self.page.locator("#done")).to_contain_text("All done")

    def press(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)


def log_in(page: Page, url: str, user: str, password: str = PASSWORD) -> None:
    """Log ``user`` in through the real ``/login`` form; the page lands on the overview."""
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """``make_project(*questions, fields=..., **settings)``: a project with a hand-written task.

    Questions and fields are the TOML ``[task]`` tables as dicts; ``settings`` go to
    ``[task.settings]`` (for example ``keys={"skip": "x"}``).
    """

    def _make(
        *questions: dict[str, Any], fields: list[dict[str, Any]] | None = None, **settings: Any
    ) -> Project:
        task: dict[str, Any] = {
            "name": "t",
            "fields": fields or [{"name": "text", "kind": "text"}],
            "questions": list(questions),
        }
        if settings:
            task["settings"] = settings
        root = tmp_path / "p"
        root.mkdir(parents=True, exist_ok=True)
        write_config(root, task)
        return Project.open(root)

    return _make


OpenPage = Callable[..., Session]


@pytest.fixture
def open_page(browser: Browser, tmp_path: Path) -> Iterator[OpenPage]:
    """``open_page(project, user="alice")``: serve ``project``, log ``user`` in, open /annotate."""
    servers: list[LiveServer] = []
    contexts: list[BrowserContext] = []
    sessions: list[list[str]] = []

    def _open(proj: Project, user: str = "alice", role: str = "annotator") -> Session:
        password = proj.add_user(user, role=role, password=PASSWORD)
        root = proj.root
        proj.close()  # the server opens its own; tests read back through Session.responses
        server = LiveServer(root).start()
        servers.append(server)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sessions.append(errors)
        log_in(page, server.url, user, password)
        page.goto(f"{server.url}/annotate")
        expect(page.locator("#app")).to_have_attribute("aria-busy", "false")
        return Session(page, server, root, errors, user, role)

    yield _open
    for c in contexts:
        c.close()
    for s in servers:
        s.stop()
    uncaught = [e for errors in sessions for e in errors]
    assert not uncaught, f"uncaught errors in the page: {uncaught}"


@dataclass
class Site:
    """A live server over one project that several users visit, each in their own context."""

    server: LiveServer
    root: Path
    browser: Browser
    contexts: list[BrowserContext]
    errors: list[str]

    @property
    def url(self) -> str:
        return self.server.url

    def login(self, user: str) -> Page:
        """A fresh browser context with ``user`` logged in (created with ``PASSWORD``)."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: self.errors.append(f"{user}: {exc}"))
        log_in(page, self.url, user)
        return page


@pytest.fixture
def serve(browser: Browser) -> Iterator[Callable[..., Site]]:
    """``serve(project, users={name: role})``: add the users (password ``PASSWORD``), close
    ``project`` and serve it; each user logs in with ``site.login(name)``."""
    sites: list[Site] = []

    def _serve(proj: Project, users: dict[str, str] | None = None) -> Site:
        for name, role in (users or {}).items():
            proj.add_user(name, role=role, password=PASSWORD)
        root = proj.root
        proj.close()
        site = Site(LiveServer(root).start(), root, browser, [], [])
        sites.append(site)
        return site

    yield _serve
    for site in sites:
        for c in site.contexts:
            c.close()
        site.server.stop()
    uncaught = [e for site in sites for e in site.errors]
    assert not uncaught, f"uncaught errors in the page: {uncaught}"
