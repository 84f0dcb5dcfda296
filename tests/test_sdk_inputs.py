"""What the official SDK sends is accepted: a sort direction alone, and the Allow header of a 405.

Explicit nulls, warnings and strict mode are in ``tests/test_warnings_and_strict.py``.
"""

from __future__ import annotations

import httpx
import pytest

from unigate.testing import Simulator

from .conftest import TICKETS


@pytest.mark.parametrize("method, path, allowed", [
    ("put", f"{TICKETS}/AM-1", "DELETE, GET, HEAD, PATCH"),
    ("delete", TICKETS, "GET, HEAD, POST"),
    ("post", "/issue-tracking/collections", "GET, HEAD"),
    ("post", "/health", "GET, HEAD"),
])
def test_a_405_lists_the_routes_methods_in_allow(client: httpx.Client, sim: Simulator, method: str, path: str,
                                                 allowed: str) -> None:
    response = client.request(method.upper(), path, json={})
    assert (response.status_code, response.headers["allow"]) == (405, allowed)
    assert response.json()["type_name"] == "RequestValidationError" and sim.requests() == []
