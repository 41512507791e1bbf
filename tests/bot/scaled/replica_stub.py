"""A stand-in Rasa replica for the balancer tests: `/`, a REST echo and a socket.io echo.

    python tests/bot/scaled/replica_stub.py PORT

`GET /` answers 200 (Rasa's health endpoint); `POST /webhooks/rest/webhook` answers with the
sender and this replica's port; the socket.io event `echo` is answered with `echoed` carrying
the port, so a test sees which replica holds a session.
"""

import sys

import socketio
from aiohttp import web


def main() -> None:
    port = int(sys.argv[1])
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    app = web.Application()
    sio.attach(app)

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="Hello from the stub")

    async def rest(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "port": port}])

    @sio.on("echo")
    async def echo(sid: str, data: object) -> None:
        await sio.emit("echoed", {"port": port, "data": data}, to=sid)

    app.router.add_get("/", hello)
    app.router.add_post("/webhooks/rest/webhook", rest)
    web.run_app(app, host="127.0.0.1", port=port, print=None, shutdown_timeout=1)


if __name__ == "__main__":
    main()
