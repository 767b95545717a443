"""The Python SDK: a small HTTP client for a running ``goldsmith serve``.

>>> c = Client("http://127.0.0.1:8000", api_key="gsk_...")  # doctest: +SKIP
>>> ids = c.add_records([{"fields": {"text": "Aspirin lowers risk"}}])  # doctest: +SKIP

Every failed request raises :class:`ApiError` carrying the server's stable error code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from goldsmith.errors import GoldsmithError


class ApiError(GoldsmithError):
    """The server refused a request: ``status`` (HTTP), ``code`` (stable) and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Client:
    """Talk to the REST API at ``base_url`` as the user who owns ``api_key``.

    ``transport`` lets tests plug in an in-process ASGI transport.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.is_success:
            return response.json()
        try:
            err = response.json()["error"]
            code, message = str(err["code"]), str(err["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text[:200]
        raise ApiError(response.status_code, code, message)

    # ---------------------------------------------------------------- project

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/me")
        return result

    def task(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/task")
        return result

    def guidelines(self, version: int | None = None) -> dict[str, Any]:
        params = {} if version is None else {"version": version}
        result: dict[str, Any] = self._call("GET", "/guidelines", params=params)
        return result

    def set_guidelines(self, markdown: str) -> int:
        return int(self._call("PUT", "/guidelines", json={"markdown": markdown})["version"])

    def progress(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/progress")
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/status")
        return result

    # ---------------------------------------------------------------- data

    def add_records(self, records: Iterable[Mapping[str, Any]]) -> list[int]:
        """Add records (``{"fields", "metadata"?, "external_id"?}``); returns one id each,
        the stored record's id for an exact duplicate."""
        ids: list[int] = self._call("POST", "/records", json={"records": list(records)})["ids"]
        return ids

    def add_suggestions(self, suggestions: Iterable[Mapping[str, Any]]) -> int:
        body = {"suggestions": list(suggestions)}
        return int(self._call("POST", "/suggestions", json=body)["inserted"])

    def records(self, *, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call(
            "GET", "/records", params={"offset": offset, "limit": limit}
        )["records"]
        return found

    def record(self, record_id: int | str) -> dict[str, Any]:
        """One record as an item: by id (owners, reviewers) or by the handle an annotator
        got from the queue (``item["record"]["id"]``)."""
        result: dict[str, Any] = self._call("GET", f"/records/{record_id}")
        return result

    def responses(
        self,
        *,
        user: str | None = None,
        status: str | None = None,
        record_id: int | str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        for key, value in (("user", user), ("status", status), ("record_id", record_id)):
            if value is not None:
                params[key] = value
        found: list[dict[str, Any]] = self._call("GET", "/responses", params=params)["responses"]
        return found

    # ---------------------------------------------------------------- annotating

    def next(self) -> dict[str, Any] | None:
        """Lease the next record to annotate; None when the queue has nothing for you."""
        item: dict[str, Any] | None = self._call("GET", "/queue/next")["item"]
        return item

    def submit(
        self,
        record_id: int | str,
        values: Mapping[str, Any],
        *,
        status: str = "submitted",
        time_spent: float | None = None,
    ) -> dict[str, Any]:
        """Answer a record leased to you: ``record_id`` is ``item["record"]["id"]`` as the
        queue gave it (an opaque handle for annotators, an id for owners and reviewers)."""
        body: dict[str, Any] = {"values": dict(values), "status": status}
        if time_spent is not None:
            body["time_spent"] = time_spent
        result: dict[str, Any] = self._call("PUT", f"/records/{record_id}/response", json=body)[
            "response"
        ]
        return result

    def submit_and_next(
        self,
        record_id: int | str,
        values: Mapping[str, Any],
        *,
        status: str = "submitted",
        time_spent: float | None = None,
    ) -> dict[str, Any] | None:
        """Submit, and get the next record leased to you in the same round trip (or None)."""
        body: dict[str, Any] = {"values": dict(values), "status": status}
        if time_spent is not None:
            body["time_spent"] = time_spent
        result = self._call(
            "PUT", f"/records/{record_id}/response", params={"next": "true"}, json=body
        )
        item: dict[str, Any] | None = result["next"]
        return item

    def skip(self, record_id: int | str) -> dict[str, Any]:
        return self.submit(record_id, {}, status="discarded")

    # ---------------------------------------------------------------- users

    def users(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/users")["users"]
        return found

    def add_user(self, name: str, role: str = "annotator", password: str | None = None) -> str:
        """Create a user (owners only); returns the password, generated when not given."""
        body: dict[str, Any] = {"name": name, "role": role}
        if password is not None:
            body["password"] = password
        return str(self._call("POST", "/users", json=body)["password"])

    def create_api_key(self, name: str) -> str:
        return str(self._call("POST", f"/users/{name}/keys")["key"])
