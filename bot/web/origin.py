"""Where a browser's request comes from: the one same-origin rule of every page's forms and calls."""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic.request import Request


def same_origin(request: Request) -> bool:
    """Whether the request comes from a page of this site (or names no origin at all)."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    origin = request.headers.get("origin") or request.headers.get("referer")
    return not origin or urlsplit(origin).netloc == request.host
