"""A real HTTP server on a free loopback port for tests of the Rasa server's outgoing calls."""

import contextlib
from typing import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.processes import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def serving(path: str, handler: Handler) -> AsyncIterator[str]:
    """Answers POST `path` with `handler` for the block; yields the URL of `path`."""
    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        await runner.cleanup()
