"""Hostile ids: path parameters that would reach another endpoint if passed downstream as they are.

``hostile_requests(collection_id, ticket_id)`` lists (method, raw request target) pairs that put a
hostile id in every path-parameter position of the unified API; ``raw_request`` sends one exactly
as written (httpx and browsers would normalise ``..`` away before sending). Each must be refused
with a 400 before any downstream call: ``DELETE .../comments/..`` must never delete the ticket.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import orjson

# as sent on the wire: literal dot segments, encoded separators, controls, an overlong id
HOSTILE_IDS = [".", "..", "%2E%2E", "%2e", "..%2F..", "a%2Fb", "%2F", "a\\b", "%5C", "a%00b", "a%0Ab",
               "a%0D%0AX-Injected:%201", "%7F", "x" * 600]


def hostile_requests(collection_id: str, ticket_id: str) -> list[tuple[str, str]]:
    """(method, target) pairs: each hostile id in the collection, ticket and comment positions."""
    base = "/issue-tracking/collections"
    out: list[tuple[str, str]] = [("GET", f"{base}//tickets"), ("GET", f"{base}/{collection_id}/tickets//comments"),
                                  ("DELETE", f"{base}/{collection_id}/tickets/{ticket_id}/comments//")]
    for hostile in HOSTILE_IDS:
        out += [("GET", f"{base}/{hostile}/tickets"), ("POST", f"{base}/{hostile}/tickets"),
                ("GET", f"{base}/{collection_id}/tickets/{hostile}"),
                ("PATCH", f"{base}/{collection_id}/tickets/{hostile}"),
                ("DELETE", f"{base}/{collection_id}/tickets/{hostile}"),
                ("DELETE", f"{base}/{collection_id}/tickets/{ticket_id}/comments/{hostile}"),
                ("GET", f"{base}/{collection_id}/users/{hostile}")]
    return out


def raw_request(base_url: str, method: str, target: str, headers: dict[str, str],
                body: Any = None) -> tuple[int, Any]:
    """Send ``target`` byte for byte (no normalisation); (status, JSON body or text)."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        # the standard library's encoder: it writes integers of any size, as a hostile client may
        content = json.dumps(body if body is not None else {"subject": "hostile"}).encode() \
            if method in ("POST", "PATCH") else None
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {**headers, **({"content-type": "application/json", "content-length": str(len(content))}
                                          if content else {})}.items():
            connection.putheader(name, value)
        connection.endheaders(content)
        response = connection.getresponse()
        data = response.read()
        try:
            return response.status, orjson.loads(data)
        except orjson.JSONDecodeError:
            return response.status, data.decode("utf-8", "replace")
    finally:
        connection.close()
