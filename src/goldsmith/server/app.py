"""``create_app(settings)``: the FastAPI application over one project. Nothing happens at
import time; the project, store and worker threads open when the app starts serving.

:func:`serve` runs it under uvicorn: in this process, or with ``workers > 1`` in that many
worker processes, each building its own app from the settings passed in the environment
(:func:`app_from_env`). Several workers are meant for PostgreSQL: their transactions run
concurrently there (row locks keep the queue right, see ``goldsmith.store.queue``); on SQLite
they would take turns at the one database lock.

Uvicorn's own reading of proxy headers is off: the client address comes from
``X-Forwarded-For`` only when ``ServerSettings.trusted_proxies`` says so (``server.auth``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from goldsmith import __version__
from goldsmith.errors import ArgumentError, ConfigError
from goldsmith.project import Project
from goldsmith.server import api, assets, browse_api, browse_pages, errors, pages, qa_api
from goldsmith.server.auth import Authenticator
from goldsmith.server.headers import SecurityHeaders
from goldsmith.server.retrainer import Retrainer
from goldsmith.server.runner import StoreRunner
from goldsmith.server.settings import ENV_SETTINGS, ServerSettings

HERE = Path(__file__).parent


CHECKPOINT_EVERY_S = 2.0
"""SQLite: how often ``serve`` copies the WAL back into the database (commits never do)."""


def create_app(settings: ServerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        project = Project.open(settings.project_root, db_url=settings.db_url)
        project.warm_record_handles()  # annotators' record handles need no store access later
        runner = StoreRunner(project.store.dialect, read_workers=settings.read_workers)
        app.state.project = project
        app.state.runner = runner
        app.state.auth = Authenticator(project, runner, settings)
        app.state.retrainer = Retrainer(project.retrain, every=settings.retrain_every)
        stop_checkpoints = project.store.checkpoint_every(CHECKPOINT_EVERY_S)
        try:
            yield
        finally:
            app.state.retrainer.wait()
            stop_checkpoints()
            runner.close()
            project.close()

    app = FastAPI(
        title="goldsmith",
        version=__version__,
        description="Annotation server of a goldsmith project. Authenticate with "
        "`Authorization: Bearer <API key>` (`goldsmith user key NAME`).",
        lifespan=lifespan,
        docs_url=None,  # served offline by server.assets, under the pages' CSP
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    errors.install(app)
    app.include_router(api.router)
    app.include_router(qa_api.router)
    app.include_router(browse_api.router)
    app.include_router(pages.router)
    app.include_router(browse_pages.router)
    app.include_router(assets.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_middleware(SecurityHeaders)
    return app


def app_from_env() -> FastAPI:
    """The app of one worker process: settings from ``$GOLDSMITH_SERVER_SETTINGS`` (JSON)."""
    text = os.environ.get(ENV_SETTINGS)
    if not text:
        raise ConfigError(f"${ENV_SETTINGS} is not set: start workers with goldsmith serve")
    return create_app(ServerSettings.from_json(text))


def serve(
    settings: ServerSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "warning",
) -> None:
    """Serve until interrupted; ``workers > 1`` runs that many uvicorn worker processes.

    Uvicorn's supervisor binds the socket once and restarts a worker that dies. The project
    is opened here first, so pending migrations run once, before any worker starts (workers
    opening a stale store together would race to upgrade it).
    """
    if workers < 1:
        raise ArgumentError(f"workers must be at least 1, not {workers}")
    if workers == 1:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level=log_level, proxy_headers=False
        )
        return
    Project.open(settings.project_root, db_url=settings.db_url).close()
    os.environ[ENV_SETTINGS] = settings.to_json()  # inherited by the worker processes
    uvicorn.run(
        f"{__name__}:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
    )
