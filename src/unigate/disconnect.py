"""Cancel a request's work when its client goes away.

``until_disconnect(run, receive)`` runs ``run(receive)`` (the request's handler) in a task while
this one is the only reader of the ASGI ``receive``: request-body messages are passed on to the
handler one at a time, and an ``http.disconnect`` before the handler has answered cancels it —
with it any downstream call in flight, whose connection is closed (no call outlives its client).
The answer is then ``CLIENT_CLOSED`` (499, nginx's "client closed request"), which a server that
knows the client has gone does not send anywhere; it shows in the access log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import Message, Receive

CLIENT_CLOSED = 499


async def until_disconnect(run: Callable[[Receive], Awaitable[Response]], receive: Receive) -> Response:
    messages: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)  # read no further ahead than the handler

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            await messages.put(message)

    handler = asyncio.ensure_future(run(messages.get))
    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait((handler, watcher), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the server cancelled us: the handler goes too
        handler.cancel()
        watcher.cancel()
        raise
    if handler.done():
        watcher.cancel()
        return handler.result()
    if watcher.exception() is not None:  # receive itself failed: no disconnect seen, let the handler finish
        return await handler
    handler.cancel()
    try:
        await handler
    except asyncio.CancelledError:
        pass
    return Response(status_code=CLIENT_CLOSED)
