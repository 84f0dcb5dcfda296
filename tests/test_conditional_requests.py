"""Conditional GETs (manifest ``http.conditional``): what a connection keeps, and for how long.
End to end against GitHub's simulator: connectors/github/tests/test_github_connector.py."""

from __future__ import annotations

import httpx

from unigate.downstream.conditional import Validators


def test_an_answer_with_an_etag_is_asked_again_with_if_none_match() -> None:
    validators = Validators()
    validators.keep("/a", {"x": 1}, httpx.Headers({"etag": 'W/"1"', "link": "<p2>; rel=next"}), 10)
    assert validators.headers("/a") == {"if-none-match": 'W/"1"'}
    body, headers = validators.kept("/a", httpx.Headers({"x-ratelimit-remaining": "7"}))  # type: ignore[misc]
    assert body == {"x": 1} and headers["link"] == "<p2>; rel=next" and headers["x-ratelimit-remaining"] == "7"


def test_an_answer_without_an_etag_or_too_large_is_not_kept() -> None:
    validators = Validators(max_body=100)
    validators.keep("/a", {}, httpx.Headers(), 10)
    validators.keep("/b", {}, httpx.Headers({"etag": '"b"'}), 101)
    assert validators.headers("/a") == validators.headers("/b") == {}
    assert validators.kept("/a", httpx.Headers()) is None


def test_the_least_recently_used_answer_goes_first() -> None:
    validators = Validators(max_entries=2)
    for target in ("/a", "/b"):
        validators.keep(target, target, httpx.Headers({"etag": target}), 1)
    validators.kept("/a", httpx.Headers())
    validators.keep("/c", "/c", httpx.Headers({"etag": "/c"}), 1)
    assert validators.headers("/b") == {} and validators.headers("/a") and validators.headers("/c")
