"""The server-rendered pages: login, the project overview, the annotate view, and the
reviewer's pages (the review queue and the QA report of the latest round).

The annotate and review views are shells; ``static/annotate.js`` and ``static/review.js``
fill them from the REST API using the session cookie and the CSRF token embedded in the page.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from goldsmith.access import credentials
from goldsmith.errors import (
    AuthenticationError,
    GoldsmithError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from goldsmith.project import Project
from goldsmith.quality import figures as qa_figures
from goldsmith.quality.report import figure_titles, report_figures
from goldsmith.schema import Role, User
from goldsmith.server.auth import (
    CSRF_HEADER,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    authenticator,
)
from goldsmith.server.payloads import feedback_record_out, record_view, task_payload
from goldsmith.server.policies import QualityPolicy
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


def _page(
    request: Request, principal: Principal, template: str, *, status_code: int = 200, **context: Any
) -> Response:
    """``template`` drawn for the signed-in ``principal``: the layout reads its ``user`` and
    ``csrf_token``; ``context`` is the page's own."""
    return _templates(request).TemplateResponse(
        request,
        template,
        {"user": principal.user, "csrf_token": principal.csrf, **context},
        status_code=status_code,
    )


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
    auth = authenticator(request)
    try:
        _, token, _ = await auth.login(username, password, auth.client_address(request))
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
    """End the session. The form carries the CSRF token as the ``csrf`` field (a script may
    send the ``X-CSRF-Token`` header instead); without it the session stays open: 403."""
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        runner: StoreRunner = request.app.state.runner
        project: Project = request.app.state.project
        try:
            user, csrf = await runner.read(project.session_user, token)
        except AuthenticationError:
            csrf = None  # no session to end; forget the stale cookie
        if csrf is not None:
            sent = (str(form.get("csrf", "")), request.headers.get(CSRF_HEADER, ""))
            if not any(hmac.compare_digest(s.encode(), csrf.encode()) for s in sent):
                refusal = (
                    "the log-out form had no valid CSRF token; reload the page and log out again"
                )
                return _page(
                    request, Principal(user, csrf), "base.html", status_code=403, refusal=refusal
                )
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
    return _page(
        request,
        principal,
        "overview.html",
        project_name=project.task.name,
        progress=progress,
        status=status,
        guideline_version=version,
        overlap=project.task.settings.overlap,
    )


@router.get("/annotate", response_class=HTMLResponse)
async def annotate(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    project: Project = request.app.state.project
    runner: StoreRunner = request.app.state.runner
    version, html = await runner.read(_guidelines, project)
    return _page(
        request,
        principal,
        "annotate.html",
        task_json=script_json(task_payload(project.task)),
        guidelines_html=html,
        guideline_version=version,
    )


FeedbackName = Annotated[str, Path(pattern=r"^(?:[1-9][0-9]{0,15}|r[0-9a-f]{16})$")]


@router.get("/feedback/{name}", response_class=HTMLResponse)
async def feedback_page(name: FeedbackName, request: Request) -> Response:
    """A record the user got feedback on, read-only: the same payload as
    ``GET /api/v1/feedback/{record_id}``, which ``static/feedback.js`` draws. Any record the
    user has no feedback on (another annotator's handle, a made-up one) is the 404 page."""
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    project: Project = request.app.state.project
    runner: StoreRunner = request.app.state.runner
    view = record_view(project, principal.user)
    try:
        rid = view.parse(name)
        found = await runner.read(project.feedback_record, principal.user.name, rid)
    except NotFoundError:
        return _page(request, principal, "base.html", status_code=404, missing="this feedback")
    return _page(
        request,
        principal,
        "feedback.html",
        task_json=script_json(task_payload(project.task)),
        feedback_json=script_json(feedback_record_out(found, view)),
        seq=found["seq"],
    )


# ---------------------------------------------------------------- reviewers' pages

QA_BOOT = 200  # bootstrap resamples of an open round's intervals (as /api/v1/qa/annotators)
FigureName = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}\.png$")]


def _refused(request: Request, principal: Principal, exc: PermissionDeniedError) -> Response:
    """The 403 page: the layout with the policy's reason."""
    return _page(request, principal, "base.html", status_code=403, refusal=str(exc))


async def _admitted(request: Request, policy: Callable[[User], None]) -> Principal | Response:
    """The signed-in principal that ``policy`` lets see the page; otherwise the login
    redirect, or the 403 page with the policy's reason."""
    principal = await _principal(request)
    if principal is None:
        return _to_login()
    try:
        policy(principal.user)
    except PermissionDeniedError as exc:
        return _refused(request, principal, exc)
    return principal


@router.get("/review", response_class=HTMLResponse)
async def review(request: Request) -> Response:
    principal = await _admitted(request, QualityPolicy.review)
    if not isinstance(principal, Principal):
        return principal
    project: Project = request.app.state.project
    return _page(
        request, principal, "review.html", task_json=script_json(task_payload(project.task))
    )


@dataclass
class _FigureCache:
    """The figures of the latest report data drawn, keyed by a digest of that data, so a page
    and its images draw them once. One lock: matplotlib work never runs twice at once."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    key: str = ""
    figures: dict[str, bytes] = field(default_factory=dict)


async def _qa_figures(request: Request, data: dict[str, Any]) -> dict[str, bytes]:
    cache: _FigureCache | None = getattr(request.app.state, "qa_figures", None)
    if cache is None:
        cache = request.app.state.qa_figures = _FigureCache()
    key = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    async with cache.lock:
        if cache.key != key:
            cache.figures = await run_in_threadpool(report_figures, data)
            cache.key = key
        return cache.figures


def _figure_entry(name: str, titles: dict[str, str]) -> dict[str, Any]:
    """What an ``<img>`` of figure ``name`` needs: its URL name, a title and its pixel size."""
    stem = name.removesuffix(".png")
    kind = "confusion" if stem.startswith("confusion") else stem
    width, height = qa_figures.SIZES.get(kind, (7.0, 4.0))
    return {
        "name": name,
        "title": titles.get(name, stem),
        "width": round(width * qa_figures.DPI),
        "height": round(height * qa_figures.DPI),
    }


@router.get("/qa", response_class=HTMLResponse)
async def qa(request: Request) -> Response:
    principal = await _admitted(request, QualityPolicy.scores)
    if not isinstance(principal, Principal):
        return principal
    project: Project = request.app.state.project
    runner: StoreRunner = request.app.state.runner
    data: dict[str, Any] = {}
    figures: dict[str, bytes] = {}
    error = None
    try:
        data = await runner.read(project.qa_report, n_boot=QA_BOOT)
        figures = await _qa_figures(request, data)
    except GoldsmithError as exc:
        error = str(exc)
    rows = await runner.read(project.annotator_scores, data)
    titles = figure_titles(data) if figures else {}
    return _page(
        request,
        principal,
        "qa.html",
        error=error,
        d=data,
        figures=[_figure_entry(name, titles) for name in figures],
        annotators=rows,
    )


@router.get("/qa/figures/{name}")
async def qa_figure(name: FigureName, request: Request) -> Response:
    """One PNG figure of the latest round's report (reviewers and owners)."""
    principal = await authenticator(request).principal(request)
    QualityPolicy.scores(principal.user)
    project: Project = request.app.state.project
    runner: StoreRunner = request.app.state.runner
    data = await runner.read(project.qa_report, n_boot=QA_BOOT)
    png = (await _qa_figures(request, data)).get(name)
    if png is None:
        raise NotFoundError(f"the QA report has no figure {name!r}")
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
