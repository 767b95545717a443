"""The records browser page (``/records``): a shell for owners and reviewers that
``static/records.js`` fills from ``/api/v1/browse``. Annotators get the 403 page (and no
link to it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from goldsmith.project import Project
from goldsmith.schema import Provenance
from goldsmith.server.auth import Principal
from goldsmith.server.pages import _admitted, _page, script_json
from goldsmith.server.payloads import task_payload
from goldsmith.server.policies import BrowsePolicy
from goldsmith.store.browse import SORTS, STATUSES

router = APIRouter(include_in_schema=False)


@router.get("/records", response_class=HTMLResponse)
async def records_page(request: Request) -> Response:
    principal = await _admitted(request, BrowsePolicy.read)
    if not isinstance(principal, Principal):
        return principal
    project: Project = request.app.state.project
    boot = {
        "task": task_payload(project.task),
        "statuses": list(STATUSES),
        "sorts": list(SORTS),
        "provenances": [str(p) for p in Provenance],
        "formats": project.export_formats(),
        "owner": principal.user.role == "owner",
    }
    return _page(request, principal, "records.html", boot_json=script_json(boot))
