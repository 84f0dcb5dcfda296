"""``CursorCodec`` on its own: what a cursor carries back, and how each kind of bad cursor is refused.

A cursor is documented (``unigate.cursor``) as ``base64url(orjson(payload)) + "." +
base64url(hmac_sha256(key, body))[:22]``. ``signed`` below builds one from that description alone,
so these tests can present payloads the gateway would never issue (negative offsets, tokens without
a skip count) signed with the right key, and check that decoding still refuses or defaults them.
Through the gateway, forged and foreign cursors are covered by tests/test_cursor_integrity.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unigate.cursor import CursorCodec, CursorPosition
from unigate.errors import InvalidCursorError

KEY = b"cursor key of this gateway"
SERVICE, SCOPE = "agentsmesh", "tickets:repo-1"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(payload: dict[str, Any], key: bytes = KEY) -> str:
    body = b64(orjson.dumps(payload))
    return f"{body}.{b64(hmac.new(key, body.encode(), hashlib.sha256).digest())[:22]}"


def refusal(cursor: str, service: str = SERVICE, scope: str = SCOPE) -> InvalidCursorError:
    with pytest.raises(InvalidCursorError) as caught:
        CursorCodec(KEY).decode(cursor, service, scope)
    assert caught.value.message == "Invalid cursor"
    return caught.value


def test_a_cursor_is_its_body_and_the_documented_22_character_mac() -> None:
    cursor = CursorCodec(KEY).encode(SERVICE, SCOPE, CursorPosition(offset=40))
    body, mac = cursor.split(".")
    assert orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["o"] == 40
    assert mac == b64(hmac.new(KEY, body.encode(), hashlib.sha256).digest())[:22]


@pytest.mark.parametrize("scope", ["t", "tickets:1", "tickets:12", "tickets:123"])  # every body length mod 3
def test_a_cursor_is_url_safe_base64_without_padding(scope: str) -> None:
    cursor = CursorCodec(KEY).encode(SERVICE, scope, CursorPosition(offset=7))
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}", cursor), cursor


def test_an_offset_position_comes_back_as_issued() -> None:
    codec = CursorCodec(KEY)
    assert codec.decode(codec.encode(SERVICE, SCOPE, CursorPosition(offset=40)), SERVICE, SCOPE) \
        == CursorPosition(offset=40, token=None, skip=0)


def test_a_token_position_comes_back_with_its_token_and_skip_count() -> None:
    codec = CursorCodec(KEY)
    position = CursorPosition(token="page-7:ab/c=", skip=3)
    assert codec.decode(codec.encode(SERVICE, SCOPE, position), SERVICE, SCOPE) == position


@settings(max_examples=100, derandomize=True, deadline=None)
@given(service=st.text(min_size=1, max_size=20), scope=st.text(max_size=40),
       position=st.one_of(st.builds(CursorPosition, offset=st.integers(0, 10**9)),
                          st.builds(CursorPosition, token=st.text(max_size=40), skip=st.integers(0, 500))))
def test_every_position_round_trips_whatever_the_service_scope_and_body_length(
        service: str, scope: str, position: CursorPosition) -> None:
    codec = CursorCodec(KEY)
    assert codec.decode(codec.encode(service, scope, position), service, scope) == position


def test_a_token_position_without_a_skip_count_skips_nothing() -> None:
    cursor = signed({"v": 1, "svc": SERVICE, "scp": SCOPE, "t": "next-page"})
    assert CursorCodec(KEY).decode(cursor, SERVICE, SCOPE) == CursorPosition(token="next-page", skip=0)


def test_a_non_string_token_is_carried_as_a_string() -> None:
    cursor = signed({"v": 1, "svc": SERVICE, "scp": SCOPE, "t": 1234, "s": 2})
    assert CursorCodec(KEY).decode(cursor, SERVICE, SCOPE) == CursorPosition(token="1234", skip=2)


def test_a_genuine_body_under_another_mac_is_refused_as_not_issued_here() -> None:
    body = CursorCodec(KEY).encode(SERVICE, SCOPE, CursorPosition(offset=40)).split(".")[0]
    error = refusal(f"{body}.{'A' * 22}")
    assert error.detail == ("the cursor was not issued by this gateway or was altered; "
                            "use meta.cursors from a previous response, or omit cursor to start over")


def test_a_cursor_signed_with_another_key_is_refused_as_not_issued_here() -> None:
    error = refusal(signed({"v": 1, "svc": SERVICE, "scp": SCOPE, "o": 0}, key=b"another gateway"))
    assert "not issued by this gateway" in error.detail


def test_a_cursor_with_non_ascii_characters_is_refused_as_not_issued_here() -> None:
    body = CursorCodec(KEY).encode(SERVICE, SCOPE, CursorPosition(offset=40)).split(".")[0]
    assert "not issued by this gateway" in refusal(f"{body}.{'ä' * 22}").detail


def test_a_cursor_without_a_body_is_refused_as_not_issued_here() -> None:
    assert "not issued by this gateway" in refusal(".abc").detail


def test_a_mac_one_character_longer_than_issued_is_refused() -> None:
    cursor = CursorCodec(KEY).encode(SERVICE, SCOPE, CursorPosition(offset=40))
    body, _mac = cursor.split(".")
    full = b64(hmac.new(KEY, body.encode(), hashlib.sha256).digest())
    assert "not issued by this gateway" in refusal(f"{body}.{full[:23]}").detail


def test_a_signed_body_that_is_not_base64_json_is_malformed() -> None:
    body = "not json"
    cursor = f"{body}.{b64(hmac.new(KEY, body.encode(), hashlib.sha256).digest())[:22]}"
    assert refusal(cursor).detail == "the cursor is malformed"


def test_a_cursor_for_another_service_names_both_services() -> None:
    cursor = CursorCodec(KEY).encode("codimir", SCOPE, CursorPosition(offset=2))
    assert refusal(cursor).detail == "this cursor was issued for service 'codimir', not 'agentsmesh'"


def test_a_cursor_for_another_list_says_cursors_only_page_their_own_list() -> None:
    cursor = CursorCodec(KEY).encode(SERVICE, "tickets:repo-2", CursorPosition(offset=2))
    assert refusal(cursor).detail == ("this cursor was issued for another list; "
                                      "cursors only page the list they came from")


@pytest.mark.parametrize("offset", [-1, "5", None, 2.5])
def test_a_signed_offset_that_is_not_a_non_negative_integer_is_malformed(offset: object) -> None:
    cursor = signed({"v": 1, "svc": SERVICE, "scp": SCOPE, "o": offset})
    assert refusal(cursor).detail == "the cursor is malformed"
