"""Small helpers for end-to-end tests through the gateway."""

from __future__ import annotations

import httpx


def walk_pages(client: httpx.Client, path: str, limit: int, max_pages: int = 1000) -> tuple[list[str], bool]:
    """Ids of a unified list read page by page through cursors; True when ``meta.cursors.next`` ended it."""
    ids: list[str] = []
    cursor = None
    for _ in range(max_pages):
        body = client.get(path, params={"limit": limit, **({"cursor": cursor} if cursor else {})}).json()
        ids += [item["id"] for item in body["data"]]
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            return ids, True
    return ids, False


def error_of(response: httpx.Response) -> tuple[int, str]:
    """(status, type_name) of an error response, checking the body's status_code matches HTTP's."""
    body = response.json()
    assert response.status_code == body["status_code"], body
    return body["status_code"], body["type_name"]
