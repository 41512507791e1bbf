"""Keep-alive HTTP for the Rasa server's calls to the action server.

Rasa 3.6's ``EndpointConfig.request`` opens a new ``aiohttp.ClientSession`` (a new connection
pool, so a new TCP connection) for every call and closes it afterwards: every custom action pays
a connection set-up and tear-down on both ends. ``KeepAliveEndpoint`` is the same endpoint whose
``session()`` lends one long-lived session per event loop instead, so calls reuse connections,
and writes the request's JSON (the whole conversation, for every action call) with ujson, a
Rasa dependency about twice as fast as the standard library's encoder. Everything else (URL,
headers, token, timeouts passed per call) is Rasa's own code.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Dict, Optional, Tuple

import aiohttp
import ujson
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

# connections kept open to one endpoint; more concurrent calls wait for a free one
POOL_SIZE = 32
# an idle connection is dropped before the server drops it (Sanic, behind rasa_sdk and the web
# app, closes idle ones after 5 s), so a call never goes out on a connection being closed
IDLE_SECONDS = 4.0


class _Lent:
    """An ``async with`` that hands out a shared session and leaves it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        return None


class KeepAliveEndpoint(EndpointConfig):
    """An ``EndpointConfig`` whose requests share one keep-alive session per event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sessions: (
            "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]"
        )
        self._sessions = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, endpoint: EndpointConfig) -> "KeepAliveEndpoint":
        """A copy of ``endpoint`` with keep-alive sessions."""
        return cls(
            url=endpoint.url,
            params=endpoint.params,
            headers=endpoint.headers,
            basic_auth=endpoint.basic_auth,
            token=endpoint.token,
            token_name=endpoint.token_name,
            cafile=endpoint.cafile,
            **endpoint.kwargs,
        )

    def session(self) -> Any:  # Rasa uses it as ``async with self.session() as session``
        """Lends this loop's open session; makes it on first use or after it was closed."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            auth = aiohttp.BasicAuth(**self.basic_auth) if self.basic_auth else None
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=IDLE_SECONDS),
                json_serialize=ujson.dumps,
            )
            self._sessions[loop] = session
        return _Lent(session)


_shared: Dict[Tuple[Any, ...], KeepAliveEndpoint] = {}


def shared(endpoint: Optional[EndpointConfig]) -> Optional[EndpointConfig]:
    """The one keep-alive copy of ``endpoint`` in this process (``None`` stays ``None``).

    Rasa builds a remote action object per prediction; they all share the copy, and so its
    connections, as long as the endpoint's URL, headers and token are the same.
    """
    if endpoint is None or isinstance(endpoint, KeepAliveEndpoint):
        return endpoint
    key = (endpoint.url, tuple(sorted((endpoint.headers or {}).items())), endpoint.token)
    if key not in _shared:
        _shared[key] = KeepAliveEndpoint.of(endpoint)
    return _shared[key]
