"""The server-rendered pages: login, the project overview and the annotate view.

The annotate view is a shell; ``static/annotate.js`` fills it from the REST API using the
session cookie and the CSRF token embedded in the page.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from goldsmith.access import credentials
from goldsmith.errors import AuthenticationError, NotFoundError, RateLimitedError
from goldsmith.project import Project
from goldsmith.schema import Role
from goldsmith.server.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    authenticator,
)
from goldsmith.server.payloads import task_payload
from goldsmith.server.render import markdown_html
from goldsmith.server.runner import StoreRunner
from goldsmith.server.settings import ServerSettings

router = APIRouter(include_in_schema=False)


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def _settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


async def _principal(request: Request) -> Principal | None:
    if SESSION_COOKIE not in request.cookies:
        return None
    try:
        return await authenticator(request).principal(request)
    except AuthenticationError:
        return None


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&``."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---------------------------------------------------------------- login


def _login_page(
    request: Request, *, error: str | None = None, username: str = "", status: int = 200
) -> HTMLResponse:
    token = credentials.new_token()
    response = _templates(request).TemplateResponse(
        request,
        "login.html",
        {
            "user": None,
            "csrf_token": None,
            "login_csrf": token,
            "error": error,
            "username": username,
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_settings(request).secure_cookies,
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    if await _principal(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    sent, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, error="The form expired; please try again.", status=403)
    client = request.client.host if request.client else "unknown"
    try:
        _, token, _ = await authenticator(request).login(username, password, client)
    except RateLimitedError as exc:
        page = _login_page(request, error=str(exc), username=username, status=429)
        page.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return page
    except AuthenticationError as exc:
        return _login_page(request, error=str(exc), username=username, status=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_settings(request).secure_cookies,
        max_age=int(_settings(request).session_seconds),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session. The form carries the CSRF token as a field, not as a header."""
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        runner: StoreRunner = request.app.state.runner
        project: Project = request.app.state.project
        try:
            _, csrf = await runner.read(project.session_user, token)
        except AuthenticationError:
            csrf = None
        sent = str(form.get("csrf", "")).encode()
        if csrf is not None and hmac.compare_digest(sent, csrf.encode()):
            await runner.write(project.close_session, token)
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------- pages


def _guidelines(project: Project) -> tuple[int | None, str]:
    try:
        version, text = project.guidelines()
    except NotFoundError:
        return None, ""
    return version, markdown_html(text)


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    project: Project = request.app.state.project
    runner: StoreRunner = request.app.state.runner
    user = principal.user
    progress = await runner.read(project.progress, user.name)
    status = None
    if user.role in (Role.OWNER, Role.REVIEWER):
        status = await runner.read(project.status)
    version, _ = await runner.read(_guidelines, project)
    return _templates(request).TemplateResponse(
        request,
        "overview.html",
        {
            "user": user,
            "csrf_token": principal.csrf,
            "project_name": project.task.name,
            "progress": progress,
            "status": status,
            "guideline_version": version,
            "overlap": project.task.settings.overlap,
        },
    )


@router.get("/annotate", response_class=HTMLResponse)
async def annotate(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    project: Project = request.app.state.project
    runner: StoreRunner = request.app.state.runner
    version, html = await runner.read(_guidelines, project)
    return _templates(request).TemplateResponse(
        request,
        "annotate.html",
        {
            "user": principal.user,
            "csrf_token": principal.csrf,
            "task_json": script_json(task_payload(project.task)),
            "guidelines_html": html,
            "guideline_version": version,
        },
    )
