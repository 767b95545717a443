"""Property-based fuzzing of the whole OpenAPI schema with schemathesis: no input gives a 5xx.

The schema is read from ``/openapi.json`` of a real server (uvicorn on loopback, so the app's
lifespan opens and closes the project with the test). Every operation is fuzzed with data that
fits the schema and with data that does not, as an owner and as an annotator, on SQLite and on
PostgreSQL.

schemathesis' own pytest integration (``schema.parametrize()``) does not run under pytest 9
(it reads ``request.node._nodeid``, which pytest 9 removed), so each operation's Hypothesis
strategy (``operation.as_strategy``) drives a ``@given`` test here instead.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,  # the same inputs every run: a failure reproduces
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def fuzz_env(make_api_env: Any) -> Any:
    env = make_api_env(records=5, settings={"overlap": 2}, live=True)
    env.ok("PUT", "/guidelines", "olive", json={"markdown": "# Rules"})
    return env


def _fuzz_operation(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> int:
    """Fuzz one operation; return how many calls were made (raises on a 5xx)."""
    label = f"{operation.label} ({mode})"
    calls = 0

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        nonlocal calls
        response = case.call(headers=headers)
        calls += 1
        assert response.status_code < 500, (
            f"{label}: {response.status_code} {response.text[:500]}\n"
            f"reproduce: {case.as_curl_command(headers=headers)}"
        )

    check()
    return calls


def _fuzz(env: Any, user: str) -> dict[str, int]:
    """Fuzz every operation as ``user``; return the number of calls per operation and mode."""
    schema = schemathesis.openapi.from_url(f"{env.url}/openapi.json")
    headers = env.auth(user)
    calls: dict[str, int] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.label} ({mode})"
            try:
                calls[label] = _fuzz_operation(operation, mode, headers)
            except AssertionError as exc:
                failures.append(str(exc))
            except Unsatisfiable:
                # an operation without parameters or body has no invalid request to make
                raw = operation.definition.raw
                assert mode == GenerationMode.NEGATIVE, label
                assert not raw.get("parameters") and "requestBody" not in raw, label
    assert not failures, "server errors:\n\n" + "\n\n".join(failures)
    return calls


def test_no_server_error_as_owner(fuzz_env: Any) -> None:
    calls = _fuzz(fuzz_env, "olive")
    assert len({label.split(" (")[0] for label in calls}) == 34  # every operation (8: browser)
    assert sum(calls.values()) > 17 * 10


def test_no_server_error_as_annotator(fuzz_env: Any) -> None:
    calls = _fuzz(fuzz_env, "alice")
    assert sum(calls.values()) > 17 * 10
