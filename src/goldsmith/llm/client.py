"""An OpenAI-compatible chat-completions client that answers task questions about records.

It speaks to any endpoint with the OpenAI protocol (OpenAI, vLLM, llama.cpp's server, ...)
through the official ``openai`` SDK:

* **Retries** with backoff on 429, 5xx and dropped connections, honouring ``Retry-After``.
* **Re-asks** when a reply is not valid JSON or breaks the answer schema: the bad reply and
  the error go back to the model, at most ``max_reasks`` times.
* **A cache** (:mod:`~goldsmith.llm.cache`): every paid answer is committed as it
  arrives, so a rerun after a crash repeats no paid call.
* **A token budget** (prompt + completion tokens of paid calls; cache hits are free): once it
  is spent nothing more is sent.
* **Confidence** from logprobs when the endpoint returns them, else self-consistency over
  ``samples`` answers (:mod:`~goldsmith.llm.confidence`).

The API key comes from the config, else ``GOLDSMITH_LLM_API_KEY``, else ``OPENAI_API_KEY``;
it is never logged, never in a ``repr`` and scrubbed from every error message. Batches run
through :func:`goldsmith.llm.batch.answer_many`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from goldsmith.errors import ConfigError, SchemaError
from goldsmith.llm._http import CallFailed, Endpoint
from goldsmith.llm.cache import LLMCache, request_key
from goldsmith.llm.confidence import Choice, ConfidenceSource, combine
from goldsmith.llm.prompt import ChatRequest

Status = Literal["ok", "failed", "not_sent"]


class LLMConfig(BaseModel):
    """How to reach the endpoint and how hard to try. ``api_key`` is kept as a secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    base_url: str | None = None  # None: the SDK's default (OPENAI_BASE_URL, else OpenAI)
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0)
    temperature: float = 0.0
    max_tokens: int | None = Field(default=1024, ge=1)
    concurrency: int = Field(default=4, ge=1)
    max_retries: int = Field(default=5, ge=0)
    backoff: float = Field(default=0.5, ge=0)  # first wait; doubles per retry, ±50 % jitter
    max_backoff: float = Field(default=30.0, ge=0)
    max_reasks: int = Field(default=2, ge=0)
    # "json_object": {"type": "json_object", "schema": ...}, as llama-cpp-python's server wants
    response_format: Literal["json_schema", "json_object"] = "json_schema"
    confidence: Literal["auto", "logprobs", "self_consistency", "none"] = "auto"
    top_logprobs: int = Field(default=1, ge=0, le=20)  # llama.cpp sends none without it
    samples: int = Field(default=5, ge=1)  # self-consistency answers per record
    sample_temperature: float = 0.7
    token_budget: int | None = Field(default=None, ge=0)  # per run
    max_consecutive_failures: int = Field(default=5, ge=1)


@dataclass(frozen=True, slots=True)
class LLMResult:
    """The answer to one request.

    ``tokens`` and ``paid_calls`` count paid calls only; ``cached`` is true when every call
    it needed came from the cache; ``transient`` marks a failure of the endpoint itself
    (retries ran out), which a later run may not meet.
    """

    index: int
    record_id: int | None
    status: Status
    values: dict[str, Any]
    confidence: dict[str, float | None]
    confidence_source: ConfidenceSource = "none"
    tokens: int = 0
    paid_calls: int = 0
    cached: bool = False
    error: str | None = None
    transient: bool = False


class TokenBudget:
    """Tokens a run may spend on paid calls (None: no limit); shared by its threads."""

    def __init__(self, limit: int | None) -> None:
        self.limit, self.spent, self._lock = limit, 0, threading.Lock()

    def allows(self) -> bool:
        return self.limit is None or self.spent < self.limit

    def spend(self, tokens: int) -> None:
        with self._lock:
            self.spent += tokens


class _BudgetReached(Exception):
    pass


@dataclass(slots=True)
class _Tally:
    tokens: int = 0
    paid: int = 0
    cached: int = 0


class LLMClient:
    """Answers :class:`~goldsmith.llm.prompt.ChatRequest` s through an endpoint.

    Parameters
    ----------
    config
        Endpoint, model and limits.
    cache
        An :class:`~goldsmith.llm.cache.LLMCache` or the path of its SQLite file;
        None caches nothing.
    sleep
        How to wait between retries.
    """

    def __init__(
        self,
        config: LLMConfig,
        *,
        cache: LLMCache | str | Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.endpoint = Endpoint(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value() if config.api_key else None,
            model=config.model,
            timeout=config.timeout,
            max_retries=config.max_retries,
            backoff=config.backoff,
            max_backoff=config.max_backoff,
            sleep=sleep,
        )
        self._owns_cache = isinstance(cache, str | Path)
        self.cache = LLMCache(cache) if isinstance(cache, str | Path) else cache
        self._logprobs_missing = False  # the endpoint answered without logprobs once

    def __repr__(self) -> str:
        return f"LLMClient(model={self.config.model!r}, base_url={self.endpoint.base_url!r})"

    def close(self) -> None:
        self.endpoint.close()
        if self._owns_cache and self.cache is not None:
            self.cache.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def models(self) -> list[str]:
        """The model ids the endpoint serves, to check that it is up."""
        return self.endpoint.models()

    def _call(self, body: dict[str, Any], tally: _Tally, budget: TokenBudget) -> dict[str, Any]:
        """One completion: from the cache, else paid for (within budget) and cached."""
        key = request_key(body)
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            tally.cached += 1
            return hit
        if not budget.allows():
            raise _BudgetReached
        data = self.endpoint.send(body)
        if self.cache is not None:
            self.cache.put(key, self.config.model, data)
        usage = data.get("usage") or {}
        tokens = int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)
        if not usage:  # none reported: estimate (4 characters a token) so the budget binds
            tokens = (len(str(body["messages"])) + len(str(data.get("choices")))) // 4
        budget.spend(tokens)
        tally.tokens, tally.paid = tally.tokens + tokens, tally.paid + 1
        return data

    def _ask(
        self,
        req: ChatRequest,
        tally: _Tally,
        budget: TokenBudget,
        *,
        n: int = 1,
        logprobs: bool = False,
        temperature: float | None = None,
        seed: int | None = None,
    ) -> list[Choice]:
        """The valid choices of one request; re-asks while none is valid."""
        cfg = self.config
        messages = list(req.messages)
        error: SchemaError | None = None
        response_format = req.response_format
        if cfg.response_format == "json_object":
            response_format = {"type": "json_object", "schema": req.answer.schema}
        for _ in range(cfg.max_reasks + 1):
            body: dict[str, Any] = {
                "model": cfg.model,
                "messages": messages,
                "response_format": response_format,
                "temperature": cfg.temperature if temperature is None else temperature,
            }
            body.update({"max_tokens": cfg.max_tokens} if cfg.max_tokens else {})
            body.update({"n": n} if n > 1 else {})
            if logprobs:
                body.update(logprobs=True, top_logprobs=cfg.top_logprobs)
            body.update({"seed": seed} if seed is not None else {})
            valid, bad = [], ""
            for choice in self._call(body, tally, budget).get("choices") or []:
                content = (choice.get("message") or {}).get("content") or ""
                try:
                    values = req.answer.parse(content, req.fields)
                except SchemaError as exc:
                    error, bad = exc, content
                    continue
                tokens = (choice.get("logprobs") or {}).get("content")
                valid.append(Choice(values, content, tokens))
            if valid:
                return valid
            retry = f"That reply was not valid: {error}. Reply again with only the JSON object."
            messages = [
                *messages,
                {"role": "assistant", "content": bad},
                {"role": "user", "content": retry},
            ]
        raise CallFailed(
            f"no valid answer in {cfg.max_reasks + 1} attempt(s): {error}", transient=False
        )

    def _samples(self, req: ChatRequest, tally: _Tally, budget: TokenBudget) -> list[Choice]:
        """``samples`` answers; endpoints that ignore ``n`` are topped up with seeded calls."""
        k, t = self.config.samples, self.config.sample_temperature
        choices = self._ask(req, tally, budget, n=k, temperature=t)
        for seed in range(1, k + 1):
            if len(choices) >= k:
                break
            choices += self._ask(req, tally, budget, n=k - len(choices), temperature=t, seed=seed)
        return choices[:k]

    def _choices(
        self, req: ChatRequest, tally: _Tally, budget: TokenBudget
    ) -> tuple[list[Choice], str]:
        cfg = self.config
        mode: str = cfg.confidence
        if mode == "auto" and self._logprobs_missing:
            mode = "self_consistency" if cfg.samples > 1 else "none"
        if mode == "self_consistency":
            return self._samples(req, tally, budget), mode
        if mode == "none":
            return self._ask(req, tally, budget), mode
        try:
            choices = self._ask(req, tally, budget, logprobs=True)
        except CallFailed as exc:
            if cfg.confidence != "auto" or exc.status != 400:
                raise
            choices = self._ask(req, tally, budget)  # some endpoints refuse logprobs (400)
        if choices[0].tokens is not None:
            return choices, "logprobs"
        if cfg.confidence == "logprobs":
            raise ConfigError(
                "the LLM endpoint returned no logprobs; start llama_cpp.server with "
                "--logits_all true, or set the LLM confidence to 'self_consistency'"
            )
        self._logprobs_missing = True  # from now on go straight to the fallback
        if cfg.samples > 1:
            return self._samples(req, tally, budget), "self_consistency"
        return choices, "none"

    def answer(
        self, request: ChatRequest, *, index: int = 0, budget: TokenBudget | None = None
    ) -> LLMResult:
        """Answer one request; failures are reported in the result, not raised.

        Parameters
        ----------
        request
            From :func:`~goldsmith.llm.prompt.build_request`.
        index
            Copied into the result (its position in a batch).
        budget
            The run's budget; by default a fresh one of ``config.token_budget``.

        Raises
        ------
        ConfigError
            The endpoint refused the key, does not know the model, or gave no logprobs
            when ``confidence="logprobs"`` asked for them.
        """
        budget = budget or TokenBudget(self.config.token_budget)
        tally = _Tally()
        status: Status = "ok"
        values: dict[str, Any] = {}
        confidence: dict[str, float | None] = {}
        source: ConfidenceSource = "none"
        error, transient = None, False
        try:
            choices, mode = self._choices(request, tally, budget)
            values, confidence, source = combine(choices, request.answer.questions, mode)
        except _BudgetReached:
            status, error = "not_sent", "the token budget is spent"
        except CallFailed as exc:
            status, error, transient = "failed", str(exc), exc.transient
        return LLMResult(
            index=index,
            record_id=request.record_id,
            status=status,
            values=values,
            confidence=confidence,
            confidence_source=source,
            tokens=tally.tokens,
            paid_calls=tally.paid,
            cached=tally.paid == 0 and tally.cached > 0,
            error=error,
            transient=transient,
        )
