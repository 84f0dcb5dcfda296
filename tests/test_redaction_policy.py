"""Redaction hardening: secrets cut by an excerpt, secrets as dictionary keys, short secrets.

The length policy (documented in ``unigate.downstream.redact``): secrets of 4+ characters are
replaced wherever they occur; shorter ones wherever they stand as a whole word.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from unigate.downstream.redact import REDACTED, Redactor
from unigate.simulation import BackgroundServer
from unigate.testing import GatewayHarness

from .conftest import TICKETS

SECRET = "amk_excerpt-secret-0123456789abcdef"


async def not_json(request: Request) -> PlainTextResponse:
    # the secret starts at byte 190: an excerpt of the first 200 bytes cuts it in half
    return PlainTextResponse("x" * 190 + SECRET + " trailing text", status_code=200)


@pytest.fixture(scope="module")
def text_tracker() -> Iterator[BackgroundServer]:
    server = BackgroundServer(Starlette(routes=[Route("/{path:path}", not_json)])).start()
    yield server
    server.stop()


def test_a_secret_cut_by_the_error_excerpt_is_still_redacted(harness: GatewayHarness,
                                                            text_tracker: BackgroundServer) -> None:
    harness.connect_consumer("agentsmesh", "excerpt-consumer", settings={"base_url": text_tracker.url,
                             "organization": "acme"}, credentials={"api_key": SECRET})
    with harness.client("agentsmesh", "excerpt-consumer") as client:
        response = client.get(TICKETS)
    assert response.status_code == 502
    assert response.json()["detail"]["body_excerpt"] == "x" * 190 + REDACTED
    assert SECRET[:10] not in response.text


def test_a_secret_used_as_a_dictionary_key_is_redacted() -> None:
    body = {"users": {"tok-s3cret-1": {"name": "Ann"}}, "plain": 1}
    assert Redactor(["tok-s3cret-1"]).deep(body) == {"users": {REDACTED: {"name": "Ann"}}, "plain": 1}


def test_keys_that_redact_alike_keep_both_values() -> None:
    redacted = Redactor(["s3cret-a", "s3cret-b"]).deep({"s3cret-a": 1, "s3cret-b": 2})
    assert sorted(redacted.values()) == [1, 2]
    assert all(REDACTED in key and "s3cret" not in key for key in redacted)


def test_a_short_secret_is_redacted_where_it_stands_as_a_word() -> None:
    assert Redactor(["bob"]).text("user bob (bob@x) not found") == f"user {REDACTED} ({REDACTED}@x) not found"


def test_a_short_secret_inside_a_longer_word_is_left_alone() -> None:
    assert Redactor(["bob"]).text("bobcat and kebob_2") == "bobcat and kebob_2"


def test_a_one_character_secret_as_a_whole_value_is_redacted() -> None:
    assert Redactor(["7"]).deep({"pin": "7", "page": "17", "count": 7}) == {"pin": REDACTED, "page": "17", "count": 7}


def test_a_short_secret_in_a_url_query_value_is_redacted() -> None:
    assert Redactor(["pw"]).url("https://t.example/a?user=pw&q=pwd") == \
        "https://t.example/a?user=%5BREDACTED%5D&q=pwd"


def test_an_unparseable_url_is_shown_without_its_query_and_never_raises() -> None:
    from unigate.downstream.redact import Redactor

    shown = Redactor(["s3cret-value"]).url("http://[not-an-ip]/x?key=s3cret-value&a=1")
    assert shown == "http://[not-an-ip]/x?[REDACTED]"


def test_a_log_line_with_an_unparseable_url_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from unigate.downstream.logfilter import RedactingFilter

    record = logging.LogRecord("unigate.proxy", logging.WARNING, __file__, 1,
                               "refused: %s", ("http://[REDACTED]@h/?token=abc123",), None)
    assert RedactingFilter().filter(record) is True
    assert "abc123" not in record.getMessage()
