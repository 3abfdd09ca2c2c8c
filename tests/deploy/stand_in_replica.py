"""A stand-in replica for the proxy tests: says which replica it is, over HTTP and WebSocket.

``python stand_in_replica.py NAME PORT``. Any plain GET answers
``replica NAME <path> <forwarded-for>``; a WebSocket (any path) is greeted with
``replica NAME`` and then echoes. Much lighter than two Streamlit apps, so the
configuration's routing can be checked request by request.
"""

from __future__ import annotations

import asyncio
import sys
from http import HTTPStatus

from websockets.asyncio.server import serve


async def main(name: str, port: int) -> None:
    def plain(connection, request):
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        forwarded = request.headers.get("X-Forwarded-For", "-")
        proto = request.headers.get("X-Forwarded-Proto", "-")
        body = f"replica {name} {request.path} {forwarded} {proto}\n"
        return connection.respond(HTTPStatus.OK, body)

    async def greet(ws):
        await ws.send(f"replica {name}")
        async for message in ws:
            await ws.send(message)

    async with serve(greet, "127.0.0.1", port, process_request=plain):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
