"""One chat-completions call over HTTP, with retries, through the official ``openai`` SDK.

The SDK's own retries are off (``max_retries=0``); ours retry 408, 409, 429, 5xx and dropped
or timed-out connections with exponential backoff and ±50 % jitter, and wait at least what
``Retry-After`` (or ``retry-after-ms``) says. The API key is never logged and is scrubbed
from every message, and no SDK exception (whose text may echo the key) is chained.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.errors import ConfigError

if TYPE_CHECKING:
    import openai
else:
    openai = lazy_module("openai")

log = logging.getLogger("goldsmith.llm.client")

ENV_KEYS = ("GOLDSMITH_LLM_API_KEY", "OPENAI_API_KEY")
"""Where the API key is looked up, in order, when the config has none."""
NO_KEY = "no-key"  # sent when no key is configured: local servers ignore it
MAX_RETRY_AFTER = 600.0


class CallFailed(Exception):
    """A call that retrying did not fix; ``transient``: the endpoint kept failing."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``).

    >>> retry_after({"retry-after": "0.05"})
    0.05
    """
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return min(max(float(raw) / scale, 0.0), MAX_RETRY_AFTER)
        except ValueError:
            try:
                when = parsedate_to_datetime(raw).timestamp()
            except (TypeError, ValueError):
                continue
            return min(max(when - time.time(), 0.0), MAX_RETRY_AFTER)
    return None


class Endpoint:
    """An OpenAI-compatible endpoint: ``send`` a chat-completions body, get the reply."""

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout: float,
        max_retries: int,
        backoff: float,
        max_backoff: float,
        sleep: Callable[[float], None],
    ) -> None:
        self._key = api_key or next((os.environ[k] for k in ENV_KEYS if os.environ.get(k)), "")
        self._openai = openai.OpenAI(
            base_url=base_url, api_key=self._key or NO_KEY, max_retries=0, timeout=timeout
        )
        self.model = model
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self._sleep = sleep
        self._random = random.Random()

    @property
    def base_url(self) -> str:
        return str(self._openai.base_url)

    def __repr__(self) -> str:
        return f"Endpoint({self.base_url!r}, model={self.model!r})"

    def close(self) -> None:
        self._openai.close()

    def scrub(self, text: str) -> str:
        """``text`` with the API key masked."""
        return text.replace(self._key, "***") if self._key else text

    def models(self) -> list[str]:
        """The model ids the endpoint serves (``GET /models``)."""
        try:
            return [m.id for m in self._openai.models.list()]
        except openai.APIError as exc:
            reason = self.scrub(str(exc))
        raise ConfigError(
            f"the LLM endpoint {self.base_url} did not list its models ({reason}); "
            "check the LLM base_url and that the server runs"
        )

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``/chat/completions``; the completion as a plain dict.

        Raises
        ------
        ConfigError
            The key is refused (401/403, no quota) or the model or route is unknown (404).
        CallFailed
            Any other error, after the retries allowed for it.
        """
        attempt = 0
        while True:
            headers: Mapping[str, str] = {}
            try:
                completion = self._openai.chat.completions.create(**body)
            except openai.APIStatusError as exc:
                status, reason = exc.status_code, self.scrub(exc.message)
                code = exc.body.get("code") if isinstance(exc.body, dict) else None
                headers = exc.response.headers
            except openai.APIError as exc:  # no answer, or one that is not a completion
                status, reason, code = None, self.scrub(f"{type(exc).__name__}: {exc}"), None
            else:
                dump = getattr(completion, "model_dump", None)  # the SDK gives str for non-JSON
                data = dump(mode="json", exclude_unset=True) if dump is not None else {}
                if isinstance(data.get("choices"), list) and data["choices"]:
                    return dict(data)
                # a 200 that is not a completion (a proxy's error page, say): never cached
                status, code = None, None
                reason = f"not a chat completion: {self.scrub(str(completion))[:200]!r}"
            # raised out here, so no SDK exception (whose text may echo the key) is chained
            if status is not None:
                self._raise_fatal(status, reason, code)
            transient = status is None or status in (408, 409, 429) or status >= 500
            if not transient or attempt >= self.max_retries:
                prefix = "" if status is None else f"HTTP {status}: "
                raise CallFailed(prefix + reason, transient=transient, status=status)
            wait = retry_after(headers)
            if wait is None:
                jitter = self._random.uniform(0.5, 1.5)
                wait = min(self.backoff * 2**attempt * jitter, self.max_backoff)
            log.info("LLM call failed (%s); retry %d in %.2f s", reason, attempt + 1, wait)
            self._sleep(wait)
            attempt += 1

    def _raise_fatal(self, status: int, reason: str, code: object) -> None:
        if status in (401, 403) or code == "insufficient_quota":
            raise ConfigError(
                f"the LLM endpoint {self.base_url} refused the request ({status}: {reason}); "
                "set GOLDSMITH_LLM_API_KEY (or OPENAI_API_KEY) to a key with access and quota"
            )
        if status == 404:
            raise ConfigError(
                f"the LLM endpoint {self.base_url} has no model {self.model!r} or no "
                f"chat-completions route (404: {reason}); check the LLM model and base_url"
            )
