"""Markdown to HTML for guidelines, safe to put in a page: raw HTML in the source is escaped,
and links may use only http, https, mailto or relative addresses."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt

_SAFE_SCHEMES = ("http:", "https:", "mailto:", "#", "/")


def _validate_link(url: str) -> bool:
    lowered = url.strip().lower()
    return ":" not in lowered.split("/")[0] or lowered.startswith(_SAFE_SCHEMES)


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.validateLink = _validate_link  # type: ignore[method-assign]
    return md


def markdown_html(text: str) -> str:
    html: str = _parser().render(text)
    return html
