"""``create_app(settings)``: the FastAPI application over one project. Nothing happens at
import time; the project, store and worker threads open when the app starts serving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from goldsmith import __version__
from goldsmith.project import Project
from goldsmith.server import api, errors, pages, qa_api
from goldsmith.server.auth import Authenticator
from goldsmith.server.headers import SecurityHeaders
from goldsmith.server.retrainer import Retrainer
from goldsmith.server.runner import StoreRunner
from goldsmith.server.settings import ServerSettings

HERE = Path(__file__).parent


def create_app(settings: ServerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        project = Project.open(settings.project_root, db_url=settings.db_url)
        runner = StoreRunner(project.store.dialect, read_workers=settings.read_workers)
        app.state.project = project
        app.state.runner = runner
        app.state.auth = Authenticator(project, runner, settings)
        app.state.retrainer = Retrainer(project.retrain, every=settings.retrain_every)
        try:
            yield
        finally:
            app.state.retrainer.wait()
            runner.close()
            project.close()

    app = FastAPI(
        title="goldsmith",
        version=__version__,
        description="Annotation server of a goldsmith project. Authenticate with "
        "`Authorization: Bearer <API key>` (`goldsmith user key NAME`).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    errors.install(app)
    app.include_router(api.router)
    app.include_router(qa_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_middleware(SecurityHeaders)
    return app
