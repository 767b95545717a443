"""A real OpenAI-compatible chat-completions server on 127.0.0.1, for the LLM tests.

Why it exists: no LLM service is reachable from CI (or from the machines these tests run on),
and mocking the ``openai`` client would test none of what can break: status codes, headers
such as ``Retry-After``, dropped connections, JSON bodies, ``n`` choices, logprobs. So the
tests talk to this server over real sockets, through the official SDK, exactly as they would
to OpenAI, vLLM or ``llama_cpp.server`` (the slow test runs the real one).

It speaks the protocol's subset goldsmith uses:

* ``GET /v1/models``: one model.
* ``POST /v1/chat/completions``: ``model``, ``messages``, ``response_format`` (must be a
  strict ``json_schema``), ``n`` (honoured unless ``honour_n=False``, like llama.cpp),
  ``logprobs`` (``choices[i].logprobs.content[]`` with ``token``, ``logprob``, ``bytes``,
  ``top_logprobs``), ``seed``, ``temperature``, ``max_tokens``; and ``usage``.
  ``reject_logprobs=True`` answers a request for logprobs with a 400, as some providers do.

The answer comes from a scriptable ``policy(body, choice_index) -> Reply | str``. A
:class:`Reply`'s ``confidence`` becomes the logprob of the first token of every top-level
value (other tokens get logprob 0), so a label's token probability is exactly it.

Faults are queued in ``server.faults`` and consumed one per chat request, in order:
``Fault("invalid_json")`` (a 200 whose content is not JSON), ``Fault("429", retry_after=s)``,
``Fault("500")``, ``Fault("drop")`` (close the connection without a response),
``Fault("garbage")`` (a 200 HTML page). With
``api_key`` set, a request without ``Authorization: Bearer <key>`` gets a 401 whose message
echoes the key it got, as OpenAI's does (partially). ``server.log`` records every request
(time, path, headers, body, status) for assertions.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What one choice says, and the probability its values' first tokens get."""

    content: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Fault:
    kind: str  # "invalid_json" | "429" | "500" | "drop" | "garbage"
    retry_after: float | None = None


@dataclass
class Logged:
    time: float
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] | None
    status: int = 0


Policy = Callable[[dict[str, Any], int], "Reply | str"]

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def record_text(body: dict[str, Any]) -> str:
    """The record a request asks about: its last user turn that is not a re-ask."""
    turns = [str(m["content"]) for m in body["messages"] if m["role"] == "user"]
    return [t for t in turns if t.startswith("## ")][-1]


def answer_with(question: str, rule: Callable[[str], Any], confidence: float = 1.0) -> Policy:
    """A policy that answers ``{question: rule(record text)}``."""

    def policy(body: dict[str, Any], index: int) -> Reply:
        value = rule(record_text(body))
        return Reply(json.dumps({question: value}), confidence)

    return policy


def _logprobs(content: str, confidence: float, top: int) -> dict[str, Any]:
    tokens = _TOKEN.findall(content)
    firsts: set[int] = set()
    try:  # the first word token of each top-level value
        data = json.loads(content)
        at = 0
        for key in data if isinstance(data, dict) else ():
            at = content.index(json.dumps(key), at) + len(json.dumps(key))
            pos = 0
            for i, tok in enumerate(tokens):
                if pos >= at and re.match(r"\w", tok):
                    firsts.add(i)
                    break
                pos += len(tok)
    except (ValueError, TypeError):
        pass
    out = []
    for i, tok in enumerate(tokens):
        lp = math.log(confidence) if i in firsts else 0.0
        alts = [{"token": tok, "logprob": lp, "bytes": list(tok.encode())}]
        if top > 1:
            rest = math.log(max(1 - math.exp(lp), 1e-9))
            alts.append({"token": "other", "logprob": rest, "bytes": list(b"other")})
        out.append({"token": tok, "logprob": lp, "bytes": list(tok.encode()), "top_logprobs": alts})
    return {"content": out, "refusal": None}


class OpenAIServer:
    """The loopback server. Use as a context manager; ``url`` is the ``base_url``."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        model: str = "test-model",
        api_key: str | None = None,
        logprobs: bool = True,
        honour_n: bool = True,
        reject_logprobs: bool = False,
        delay: float = 0.0,
    ) -> None:
        self.policy: Policy = policy or (lambda body, i: Reply("{}"))
        self.model, self.api_key = model, api_key
        self.logprobs, self.honour_n, self.delay = logprobs, honour_n, delay
        self.reject_logprobs = reject_logprobs
        self.faults: deque[Fault] = deque()
        self.log: list[Logged] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> OpenAIServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def chat(self) -> list[Logged]:
        """Logged chat-completions requests, in arrival order."""
        return [e for e in self.log if e.path.endswith("/chat/completions")]

    # ------------------------------------------------------------------ answering
    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        n = int(body.get("n") or 1) if self.honour_n else 1
        want_logprobs = bool(body.get("logprobs")) and self.logprobs
        top = int(body.get("top_logprobs") or 0)
        choices, completion_tokens = [], 0
        for i in range(n):
            reply = self.policy(body, i)
            reply = reply if isinstance(reply, Reply) else Reply(reply)
            completion_tokens += len(_TOKEN.findall(reply.content))
            choices.append(
                {
                    "index": i,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": "stop",
                    "logprobs": _logprobs(reply.content, reply.confidence, top)
                    if want_logprobs
                    else None,
                }
            )
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        with self._lock:
            self._ids += 1
            ident = self._ids
        return {
            "id": f"chatcmpl-{ident}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away mid-answer (the crash test kills one)


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        blob = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(blob)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(blob)
        self.entry.status = status

    def _enter(self, body: dict[str, Any] | None) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.entry = Logged(time.monotonic(), self.command, self.path, headers, body)
        with self.owner._lock:
            self.owner.log.append(self.entry)

    def _authorised(self) -> bool:
        key = self.owner.api_key
        got = self.headers.get("Authorization", "")
        if key is None or got == f"Bearer {key}":
            return True
        shown = got.removeprefix("Bearer ")
        self._send(
            401,
            _error(
                f"Incorrect API key provided: {shown}.", "invalid_request_error", "invalid_api_key"
            ),
        )
        return False

    def do_GET(self) -> None:
        self._enter(None)
        if not self._authorised():
            return
        if self.path.rstrip("/") != "/v1/models":
            self._send(404, _error(f"no route {self.path}", "invalid_request_error"))
            return
        model = {"id": self.owner.model, "object": "model", "created": 0, "owned_by": "tests"}
        self._send(200, {"object": "list", "data": [model]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            self._enter(None)
            self._send(400, _error("body is not JSON", "invalid_request_error"))
            return
        self._enter(body)
        if not self._authorised():
            return
        if self.path != "/v1/chat/completions":
            self._send(404, _error(f"no route {self.path}", "invalid_request_error"))
            return
        if body.get("model") != self.owner.model:
            message = f"The model {body.get('model')!r} does not exist."
            self._send(404, _error(message, "invalid_request_error", "model_not_found"))
            return
        problem = self._check(body)
        if problem:
            self._send(400, _error(problem, "invalid_request_error"))
            return
        owner = self.owner
        with owner._lock:
            fault = owner.faults.popleft() if owner.faults else None
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            if owner.delay:
                time.sleep(owner.delay)
            self._answer(body, fault)
        finally:
            with owner._lock:
                owner.in_flight -= 1

    def _check(self, body: dict[str, Any]) -> str | None:
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return "messages must be a non-empty list"
        rf = body.get("response_format") or {}
        if rf.get("type") == "json_object":  # llama-cpp-python's form: the schema beside it
            schema = rf.get("schema")
        elif rf.get("type") == "json_schema" and rf["json_schema"].get("strict") is True:
            schema = rf["json_schema"].get("schema")
        else:
            return "response_format must be a strict json_schema (or json_object with a schema)"
        if not isinstance(schema, dict) or schema.get("additionalProperties") is not False:
            return "strict schemas need additionalProperties: false"
        if self.owner.reject_logprobs and body.get("logprobs"):
            return "logprobs are not supported for this model"
        return None

    def _answer(self, body: dict[str, Any], fault: Fault | None) -> None:
        if fault is None:
            self._send(200, self.owner.completion(body))
        elif fault.kind == "invalid_json":
            reply = self.owner.completion({**body, "n": 1})
            reply["choices"][0]["message"]["content"] = '{"oops": this is not JSON'
            reply["choices"][0]["logprobs"] = None
            self._send(200, reply)
        elif fault.kind == "429":
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            message = "Rate limit reached; try again later."
            self._send(429, _error(message, "requests", "rate_limit_exceeded"), headers)
        elif fault.kind == "500":
            self._send(500, _error("The server had an error.", "server_error"))
        elif fault.kind == "garbage":  # a proxy's error page with a 200
            blob = b"<html>upstream hiccup</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            self.wfile.write(blob)
            self.entry.status = 200
        elif fault.kind == "drop":
            self.entry.status = -1
            self.close_connection = True  # no response at all
        else:
            raise ValueError(f"unknown fault {fault.kind!r}")
