"""The one client of the Rasa server's HTTP API, and the one `RasaUnavailable`.

Every call the platform makes to Rasa goes through `RasaClient`: reading a conversation's tracker,
appending events to it, triggering an external intent, asking for the server's status, loading
another model (the trainer's deploy) and posting to a channel's webhook (the assist endpoints). One client keeps one connection pool with
keep-alive connections, sends Rasa's HTTP API token with each API call (never to a browser, never
into a log or an error message) and applies a timeout to every request.

The web app keeps one client for its lifetime (`bot.web.app`); code without a running event loop
(the notice job's worker thread, the command line, the process runner) uses `call_blocking`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)
from urllib.parse import quote

import aiohttp
from yarl import URL

DEFAULT_TIMEOUT = 10.0
MAX_CONNECTIONS = 16
KEEPALIVE_SECONDS = 30.0

T = TypeVar("T")


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, refused the request, or answered with something that is not JSON.

    Attributes:
        status: The HTTP status of a refused request (None when Rasa did not answer or its
            answer could not be read).
        timed_out: Whether Rasa did not answer in time; it may still do what was asked.
    """

    def __init__(self, message: str, status: Optional[int] = None, timed_out: bool = False):
        """Keeps the reason, the refusing status and whether it was a timeout."""
        super().__init__(message)
        self.status = status
        self.timed_out = timed_out


class RasaClient:
    """Rasa's HTTP API and webhooks, over one pool of keep-alive connections.

    The pool is opened on the first call, inside the running event loop (a pool belongs to one
    loop: a call from another loop opens a new one), and closed by `close`.
    """

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        connections: int = MAX_CONNECTIONS,
    ) -> None:
        """A client of the Rasa server at `url`; nothing is opened yet.

        Args:
            url: Base URL of the Rasa server.
            token: Rasa's HTTP API token (`--auth-token`).
            timeout: Seconds a call may take unless it names its own timeout.
            connections: Most connections open to Rasa at the same time.
        """
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.connections = connections
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def __aenter__(self) -> "RasaClient":
        """The client itself; its pool is closed on leaving the block."""
        return self

    async def __aexit__(self, *_: object) -> None:
        """Closes the pool."""
        await self.close()

    async def close(self) -> None:
        """Closes the connection pool (a later call opens a new one)."""
        session, self._session, self._loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def _pool(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self.connections, keepalive_timeout=KEEPALIVE_SECONDS
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
            self._loop = loop
        return self._session

    def _conversation_url(self, conversation_id: str, endpoint: str) -> URL:
        path = quote(conversation_id, safe="")
        return URL(f"{self.url}/conversations/{path}/{endpoint}", encoded=True)

    async def _call(
        self,
        what: str,
        method: str,
        url: URL,
        *,
        params: Optional[Mapping[str, str]] = None,
        body: Optional[bytes] = None,
        headers: Optional[Mapping[str, str]] = None,
        accept: Sequence[int] = (200,),
        timeout: Optional[float] = None,
    ) -> Tuple[int, Any]:
        """One request; the answer's status and its JSON body (None when empty).

        Raises:
            RasaUnavailable: for no answer in time, no connection, a status not in `accept`, or
                a body that is not JSON. Its message names `what` and the kind of failure only.
        """
        limit = self.timeout if timeout is None else timeout
        try:
            async with self._pool().request(
                method,
                url,
                params=params,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as response:
                if response.status not in accept:
                    raise RasaUnavailable(
                        f"{what} answered {response.status}", status=response.status
                    )
                status, raw = response.status, await response.read()
        except asyncio.TimeoutError as error:  # before ClientError: aiohttp's are both
            raise RasaUnavailable(
                f"{what}: no answer within {limit:g} s", timed_out=True
            ) from error
        except aiohttp.ClientError as error:  # its text may hold the URL and so the token
            raise RasaUnavailable(f"{what}: {type(error).__name__}") from error
        try:
            return status, json.loads(raw) if raw.strip() else None
        except ValueError as error:
            raise RasaUnavailable(f"{what}: the answer is not JSON") from error

    @staticmethod
    def _json(data: Any) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode()

    async def tracker(
        self, conversation_id: str, include_events: str = "ALL", timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """A conversation's tracker (`GET /conversations/<id>/tracker`).

        Args:
            conversation_id: The conversation (Rasa's sender id).
            include_events: Which events Rasa includes: `ALL`, `AFTER_RESTART`, `APPLIED`, ….
            timeout: Seconds to wait, else the client's timeout.

        Returns:
            The tracker in Rasa's JSON form (`slots`, `events`, `latest_message`, …); Rasa answers
            a new, empty tracker for a conversation it never saw.

        Raises:
            RasaUnavailable: see `RasaClient`.
        """
        url = self._conversation_url(conversation_id, "tracker")
        params = {"token": self.token, "include_events": include_events}
        _, tracker = await self._call("tracker read", "GET", url, params=params, timeout=timeout)
        return tracker if isinstance(tracker, dict) else {}

    async def events(self, conversation_id: str, timeout: Optional[float] = None) -> List[Any]:
        """All events of a conversation's tracker, oldest first."""
        tracker = await self.tracker(conversation_id, "ALL", timeout)
        events = tracker.get("events")
        return events if isinstance(events, list) else []

    async def append_events(
        self,
        conversation_id: str,
        events: List[Dict[str, Any]],
        output_channel: str = "socketio",
        execute_side_effects: bool = True,
        timeout: Optional[float] = None,
    ) -> None:
        """Appends events to a conversation (`POST /conversations/<id>/tracker/events`).

        With side effects executed, bot messages among them are also delivered to the customer
        through the output channel (socket.io: into the conversation's room).

        Args:
            conversation_id: The conversation.
            events: Events in Rasa's JSON form.
            output_channel: The channel that delivers bot messages.
            execute_side_effects: Whether Rasa delivers the messages (and runs reminders).
            timeout: Seconds to wait, else the client's timeout.

        Raises:
            RasaUnavailable: see `RasaClient`.
        """
        params = {
            "token": self.token,
            "output_channel": output_channel,
            "execute_side_effects": "true" if execute_side_effects else "false",
            "include_events": "NONE",
        }
        await self._call(
            "appending events",
            "POST",
            self._conversation_url(conversation_id, "tracker/events"),
            params=params,
            body=self._json(events),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )

    async def trigger_intent(
        self,
        conversation_id: str,
        intent: str,
        entities: Mapping[str, Any],
        output_channel: str = "latest",
        timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Triggers an external intent (`POST /conversations/<id>/trigger_intent`).

        Args:
            conversation_id: The conversation.
            intent: The intent's name (this shop's are `EXTERNAL_<kind>`).
            entities: Entity name → value, recorded on the external user event.
            output_channel: Where the bot's replies go (`latest`: the channel the customer last
                wrote from).
            timeout: Seconds to wait, else the client's timeout. A timeout leaves it unknown
                whether Rasa recorded the intent.

        Returns:
            Rasa's answer (the tracker and the messages it sent).

        Raises:
            RasaUnavailable: see `RasaClient`.
        """
        _, answer = await self._call(
            "trigger_intent",
            "POST",
            self._conversation_url(conversation_id, "trigger_intent"),
            params={"token": self.token, "output_channel": output_channel},
            body=self._json({"name": intent, "entities": dict(entities)}),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )
        return answer if isinstance(answer, dict) else {}

    async def status(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        """The server's status (`GET /status`): answered only once a model is loaded.

        Raises:
            RasaUnavailable: see `RasaClient`.
        """
        url = URL(f"{self.url}/status", encoded=True)
        _, found = await self._call(
            "status", "GET", url, params={"token": self.token}, timeout=timeout
        )
        return found if isinstance(found, dict) else {}

    async def load_model(self, path: Union[str, Path], timeout: Optional[float] = None) -> None:
        """Makes the server serve another model (`PUT /model`), without a restart.

        Rasa answers once the model is loaded (204), which can take minutes; on a failed load
        it keeps serving the model it had.

        Args:
            path: The model file, as the Rasa server sees it (it reads the file itself).
            timeout: Seconds to wait, else the client's timeout. A timeout leaves it unknown
                whether Rasa switched models.

        Raises:
            RasaUnavailable: see `RasaClient`; a model Rasa could not load is refused with 400
                or 500.
        """
        await self._call(
            "loading a model",
            "PUT",
            URL(f"{self.url}/model", encoded=True),
            params={"token": self.token},
            body=self._json({"model_file": str(path)}),
            headers={"Content-Type": "application/json"},
            accept=(200, 204),
            timeout=timeout,
        )

    async def healthy(self, timeout: float = 5.0) -> bool:
        """Whether the Rasa server answers its status with a loaded model."""
        try:
            await self.status(timeout)
        except RasaUnavailable:
            return False
        return True

    async def post_webhook(
        self,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        accept: Sequence[int] = (200,),
        timeout: Optional[float] = None,
    ) -> Tuple[int, Any]:
        """Posts to a channel's webhook (`/webhooks/<path>`), which checks its own credentials.

        Args:
            path: Below `/webhooks/`, e.g. `assist/suggestions`.
            body: The raw body (signed webhooks sign exactly these bytes).
            headers: Request headers (content type, signature).
            accept: The statuses that are answers rather than failures.
            timeout: Seconds to wait, else the client's timeout.

        Returns:
            `(status, JSON body or None)`.

        Raises:
            RasaUnavailable: see `RasaClient`.
        """
        url = URL(f"{self.url}/webhooks/{path.lstrip('/')}", encoded=True)
        return await self._call(
            path, "POST", url, body=body, headers=headers, accept=accept, timeout=timeout
        )


def call_blocking(url: str, token: str, work: Callable[[RasaClient], Awaitable[T]]) -> T:
    """Runs `work` with a client of its own, from code that has no running event loop.

    For worker threads, the command line and the process runner; the client's pool is closed
    before returning.

    Args:
        url: Base URL of the Rasa server.
        token: Rasa's HTTP API token.
        work: Makes the calls, e.g. `lambda rasa: rasa.healthy()`.

    Returns:
        What `work` returns.

    Raises:
        RasaUnavailable: what `work` lets through.
    """

    async def run() -> T:
        async with RasaClient(url, token) as rasa:
            return await work(rasa)

    return asyncio.run(run())


def healthy_blocking(url: str, token: str, timeout: float = 5.0) -> bool:
    """Whether the Rasa server answers its status with a loaded model (no event loop needed)."""
    return call_blocking(url, token, lambda rasa: rasa.healthy(timeout))
