"""Cancel a request's work when its client goes away.

``until_disconnect(run, receive)`` runs ``run(receive)`` (the request's handler) while a watcher
task is the only reader of the ASGI ``receive``: request-body messages are passed on to the
handler one at a time, and an ``http.disconnect`` before the handler has answered cancels it —
with it any downstream call in flight, whose connection is closed (no call outlives its client).
The answer is then ``CLIENT_CLOSED`` (499, nginx's "client closed request"), which a server that
knows the client has gone does not send anywhere; it shows in the access log.

The handler runs in the caller's task (one extra task per request, the watcher: ~15 us).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import Message, Receive

CLIENT_CLOSED = 499


async def until_disconnect(run: Callable[[Receive], Awaitable[Response]], receive: Receive) -> Response:
    task = asyncio.current_task()
    assert task is not None
    messages: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)  # read no further ahead than the handler
    gone = False

    async def watch() -> None:
        nonlocal gone
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = True
                task.cancel()  # the handler is suspended in an await: cancelled there
                return
            await messages.put(message)

    watcher = asyncio.ensure_future(watch())
    try:
        return await run(messages.get)
    except asyncio.CancelledError:
        if gone and task.uncancel() == 0:  # our cancellation, not the server's
            return Response(status_code=CLIENT_CLOSED)
        raise
    finally:
        watcher.cancel()
