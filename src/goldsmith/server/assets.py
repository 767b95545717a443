"""What the server ships so that nothing loads from elsewhere: the API explorer at ``/docs``
and ``/favicon.ico``.

``/docs`` is Swagger UI 5 as shipped in the ``fastapi-offline`` package (a core dependency;
only its files are used), served from ``/docs/assets/<version>/`` and started by
``static/api-docs.js``, under the same strict CSP as every page: no CDN, no inline script.
(``swagger-ui-bundle`` ships Swagger UI 4, which cannot read FastAPI's OpenAPI 3.1.)
FastAPI's own ``/docs`` and ``/redoc`` are off (they load their scripts from a CDN; Redoc
also needs inline styles); ``/openapi.json`` stays.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from goldsmith.errors import NotFoundError

HERE = Path(__file__).parent
SWAGGER_UI = Path(str(importlib.resources.files("fastapi_offline") / "static"))
ASSETS = f"/docs/assets/{importlib.metadata.version('fastapi-offline')}"  # cached for long
SWAGGER_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})
"""The files of the package that the page uses (not Redoc, not its favicon)."""
CACHE = "public, max-age=604800, immutable"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> Response:
    """The API explorer over this server's OpenAPI document."""
    app: FastAPI = request.app
    templates: Jinja2Templates = app.state.templates
    return templates.TemplateResponse(
        request,
        "api_docs.html",
        {"title": app.title, "openapi_url": app.openapi_url, "assets": ASSETS},
    )


@router.get(ASSETS + "/{name}")
async def swagger_asset(name: str) -> Response:
    if name not in SWAGGER_FILES:
        raise NotFoundError(f"no API explorer file {name!r}")
    return FileResponse(SWAGGER_UI / name, headers={"Cache-Control": CACHE})


@router.get("/favicon.ico")
async def favicon() -> Response:
    """The icon for clients that ask for it without reading the pages' ``<link rel=icon>``
    (``/static/favicon.svg``)."""
    return FileResponse(
        HERE / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )
