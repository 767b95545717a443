"""Turn goldsmith's errors into JSON with stable codes: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from goldsmith.errors import (
    AuthenticationError,
    ConflictError,
    GoldsmithError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SchemaError,
    StoreError,
)
from goldsmith.server.auth import CsrfError

# most specific first: the first matching class gives the status and code
_CODES: list[tuple[type[Exception], int, str]] = [
    (CsrfError, 403, "csrf_failed"),
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (RateLimitedError, 429, "rate_limited"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (SchemaError, 422, "invalid"),
    (InputError, 422, "invalid"),
    (StoreError, 503, "store_unavailable"),  # the server's store, not the request, is at fault
    (GoldsmithError, 400, "bad_request"),
]
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
STORE_RETRY_AFTER_S = 5


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def status_and_code(exc: Exception) -> tuple[int, str]:
    for cls, status, code in _CODES:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal"


async def _goldsmith_error(request: Request, exc: Exception) -> JSONResponse:
    status, code = status_and_code(exc)
    headers = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(int(exc.retry_after) + 1)
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, StoreError):
        headers["Retry-After"] = str(STORE_RETRY_AFTER_S)
    return JSONResponse(error_body(code, str(exc)), status_code=status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return JSONResponse(error_body("invalid", f"{where}: {first.get('msg')}"), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "bad_request")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _store_rejected(request: Request, exc: Exception) -> JSONResponse:
    """Values the database refuses (a NUL in PostgreSQL text, a dangling reference)."""
    status, code = (409, "conflict") if isinstance(exc, IntegrityError) else (422, "invalid")
    message = str(getattr(exc, "orig", exc)).splitlines()[0]
    return JSONResponse(error_body(code, f"the store refused the data: {message}"), status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GoldsmithError, _goldsmith_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _store_rejected)
    app.add_exception_handler(DataError, _store_rejected)
    app.add_exception_handler(OperationalError, _store_unavailable)


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database could not run the statement (locked past the busy timeout, the server
    gone): a 503 the client may retry, never a traceback."""
    first = str(getattr(exc, "orig", exc)).splitlines()[0]
    return JSONResponse(
        error_body("store_unavailable", f"the store cannot answer right now ({first}); retry"),
        status_code=503,
        headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
    )
