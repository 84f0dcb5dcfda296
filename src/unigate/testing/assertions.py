"""Small helpers for end-to-end tests through the gateway."""

from __future__ import annotations

from typing import Any

import httpx


def read_pages(client: httpx.Client, path: str, limit: int, max_pages: int = 1000,
               params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Response bodies of a unified list read page by page through ``meta.cursors.next`` (``params``:
    the list's other query parameters, e.g. its sort)."""
    pages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(max_pages):
        body = client.get(path, params={**(params or {}), "limit": limit, **({"cursor": cursor} if cursor else {})}).json()
        pages.append(body)
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            break
    return pages


def walk_pages(client: httpx.Client, path: str, limit: int, max_pages: int = 1000,
               params: dict[str, Any] | None = None) -> tuple[list[str], bool]:
    """Ids of a unified list read page by page; True when ``meta.cursors.next`` ended the walk."""
    pages = read_pages(client, path, limit, max_pages, params)
    return [item["id"] for page in pages for item in page["data"]], pages[-1]["meta"]["cursors"]["next"] is None


def error_of(response: httpx.Response) -> tuple[int, str]:
    """(status, type_name) of an error response, checking the body's status_code matches HTTP's."""
    body = response.json()
    assert response.status_code == body["status_code"], body
    return body["status_code"], body["type_name"]
