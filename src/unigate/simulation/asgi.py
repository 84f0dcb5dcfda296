"""ASGI plumbing the simulator middlewares share: read a request's body, then hand it on."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive


async def read_body(receive: Receive) -> bytes:
    """The whole request body (every ``http.request`` chunk)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replay(body: bytes, then: Receive | None = None) -> Receive:
    """A ``receive`` giving the body already read, then ``then``'s messages (a disconnect, in the
    end); without ``then``, it blocks like an idle connection before answering a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    return receive
